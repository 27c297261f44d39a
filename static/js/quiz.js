// Progressive enhancement for quiz pages: the forms work without this file.
// 1. Save an answer as soon as it changes (the server is the only place it is graded).
// 2. Count the time left down from the figure the server rendered.
(function () {
  "use strict";
  var form = document.querySelector("form.question-form[data-autosave-url]");
  var status = document.querySelector(".save-status");
  var answered = document.querySelector("#progress-label .answered-count");
  if (form && window.fetch && window.FormData) {
    form.addEventListener("change", function () {
      // An ordering question is saved once every step has a place.
      var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
      if (selects.some(function (s) { return !s.value; })) { return; }
      fetch(form.getAttribute("data-autosave-url"), {method: "POST", body: new FormData(form),
                                                      headers: {"Accept": "application/json"},
                                                      credentials: "same-origin"})
        .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
        .then(function (res) {
          if (res.ok && answered) { answered.textContent = res.body.answered; }
          if (!status) { return; }
          status.textContent = res.ok ? "Answer saved." : (res.body.error || "Not saved.");
        })
        .catch(function () { if (status) { status.textContent = "Not saved: check your connection. Your answer will be sent when you move on."; } });
    });
  }
  var timer = document.querySelector(".timer[data-seconds-left]");
  if (timer) {
    var left = parseInt(timer.getAttribute("data-seconds-left"), 10);
    var value = timer.querySelector(".timer-value");
    var announce = timer.querySelector(".timer-announce");
    var end = Date.now() + left * 1000;
    var tick = function () {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      value.textContent = Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
      if (s === 300 || s === 60) { announce.textContent = (s / 60) + " minute" + (s === 60 ? "" : "s") + " left."; }
      if (s === 0) { announce.textContent = "Time is up."; window.location.reload(); return; }
      window.setTimeout(tick, 1000);
    };
    tick();
  }
})();
