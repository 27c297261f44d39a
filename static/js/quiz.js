// Progressive enhancement for quiz pages: the forms work without this file.
// 1. Save an answer as soon as it changes (the server is the only place it is graded), one save
//    at a time: a change made while a save is on its way is sent when that save returns, so a
//    slow reply can never bring an older choice back over a newer one.
// 2. If the session has ended, say so, keep the answer in this tab and save it after sign-in.
// 3. Count the time left down from the figure the server rendered.
// 4. After a reply in a call simulation, move focus to the caller's new line.
(function () {
  "use strict";
  // After a reply in a call simulation the page comes back at the caller's new line (#caller-now):
  // give it focus too, so that a keyboard and a screen reader continue from there.
  var callerNow = window.location.hash === "#caller-now" && document.getElementById("caller-now");
  if (callerNow) { callerNow.focus(); }
  var form = document.querySelector("form.question-form[data-autosave-url]");
  var status = document.querySelector(".save-status");
  var answered = document.querySelector("#progress-label .answered-count");
  // The page gives the messages in the reader's language (assessment/_quiz_messages.html).
  var messagesBlock = document.getElementById("quiz-messages");
  var say = messagesBlock ? JSON.parse(messagesBlock.textContent) : {};

  // An answer not yet stored is kept per attempt and position (the autosave address names
  // both) in sessionStorage: it survives going to the sign-in page and back in this tab,
  // and goes when the tab closes.
  var keptKey = form ? "lms.unsaved-answer:" + form.getAttribute("data-autosave-url") : null;

  function keep() {
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "action") { fields.push([name, value]); }
    });
    try { window.sessionStorage.setItem(keptKey, JSON.stringify(fields)); } catch (e) { /* storage off: nothing kept */ }
  }

  function kept() {
    try { return JSON.parse(window.sessionStorage.getItem(keptKey) || "null"); } catch (e) { return null; }
  }

  function forget() {
    try { window.sessionStorage.removeItem(keptKey); } catch (e) { /* nothing to forget */ }
  }

  function restore(fields) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "submit" || el.type === "hidden") { return; }
      var values = fields.filter(function (f) { return f[0] === el.name; }).map(function (f) { return f[1]; });
      if (el.type === "radio" || el.type === "checkbox") { el.checked = values.indexOf(el.value) !== -1; }
      else if (values.length) { el.value = values[0]; }
    });
  }

  function sessionEnded() {
    var notice = document.getElementById("session-ended");
    if (!notice) {
      notice = document.createElement("p");
      notice.id = "session-ended";
      notice.className = "field-error";
      notice.setAttribute("role", "alert");
      notice.appendChild(document.createTextNode(say.session_ended + " "));
      var link = document.createElement("a");
      link.href = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
      link.textContent = say.sign_in_again;
      notice.appendChild(link);
      form.insertBefore(notice, status && status.parentNode === form ? status : form.firstChild);
    }
    if (status) { status.textContent = ""; }
  }

  function save(restored) {
    keep();  // until the server has it
    return fetch(form.getAttribute("data-autosave-url"), {method: "POST", body: new FormData(form),
                                                          headers: {"Accept": "application/json"},
                                                          credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (body) { return {status: r.status, ok: r.ok, body: body}; }); })
      .then(function (res) {
        if (res.status === 401) { sessionEnded(); return; }
        forget();  // stored, or refused for a reason the server gives: nothing left to keep
        if (res.ok && answered) { answered.textContent = res.body.answered; }
        if (!status) { return; }
        if (res.ok) { status.textContent = restored ? say.restored_saved : say.saved; }
        else { status.textContent = res.body.error || say.not_saved; }
      })
      .catch(function () { if (status) { status.textContent = say.offline; } });
  }

  var sending = false;  // a save is on its way
  var changedMeanwhile = false;  // the answer changed since that save read the form

  function saveInTurn(restored) {
    if (sending) {
      changedMeanwhile = true;
      keep();
      if (status) { status.textContent = say.saving; }
      return;
    }
    sending = true;
    save(restored).then(function () {
      sending = false;
      if (changedMeanwhile) {
        changedMeanwhile = false;
        saveInTurn(false);  // the form as it is now: the latest answer
      }
    });
  }

  if (form && window.fetch && window.FormData) {
    form.addEventListener("change", function () {
      // An ordering question is saved once every step has a place.
      var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
      if (selects.some(function (s) { return !s.value; })) { return; }
      saveInTurn(false);
    });
    var waiting = kept();
    if (waiting) {
      restore(waiting);
      saveInTurn(true);
    }
  }
  var timer = document.querySelector(".timer[data-seconds-left]");
  if (timer) {
    var left = parseInt(timer.getAttribute("data-seconds-left"), 10);
    var value = timer.querySelector(".timer-value");
    var announce = timer.querySelector(".timer-announce");
    var end = Date.now() + left * 1000;
    var tick = function () {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      value.textContent = say.time_left.replace("{minutes}", String(Math.floor(s / 60)))
        .replace("{seconds}", String(s % 60).padStart(2, "0"));
      if (s === 300) { announce.textContent = say.five_minutes_left; }
      if (s === 60) { announce.textContent = say.one_minute_left; }
      if (s === 0) { announce.textContent = say.time_up; window.location.reload(); return; }
      window.setTimeout(tick, 1000);
    };
    tick();
  }
})();
