// Export progress: polls the job's status (state and counts only) and moves the <progress> bar.
// When the job finishes the page reloads, so the files or the error and Retry button come from
// the server. Without JavaScript a <noscript> meta refresh reloads the page instead.
// The words come from the page (data-running, data-counts), in the reader's language.
(function () {
  "use strict";
  var section = document.getElementById("job");
  var bar = document.getElementById("job-progress");
  var counts = document.getElementById("job-counts");
  if (!section || !bar) { return; }
  var url = section.getAttribute("data-status-url");
  var refresh = document.getElementById("job-refresh");
  if (refresh) { refresh.hidden = true; }  // the page updates itself

  var badge = document.querySelector("#job-state .badge");
  var running = section.getAttribute("data-running");
  var countsText = section.getAttribute("data-counts");

  function show(status) {
    if (status.state === "running" && badge) {
      badge.textContent = status.total > 0 ? running + " · " + status.percent + " %" : running;
    }
    if (status.total > 0) {
      bar.value = status.percent;
      bar.textContent = status.percent + " %";
      counts.textContent = countsText.replace("{done}", status.done).replace("{total}", status.total);
    }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.state === "succeeded" || status.state === "failed") {
          bar.value = status.state === "succeeded" ? 100 : bar.value;
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        // A network blip or a restart: show the manual link and keep trying, more slowly.
        if (refresh) { refresh.hidden = false; }
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 500);
})();
