/* The results page (backend/templates/judging/results/results.html.jinja): while a ranking run is
   queued or running, poll it once a second and move its <progress> bar and phase text (a polite
   live region); reload the page when it is done or failed, so the results or the error show. */
(function () {
  "use strict";
  var box = document.querySelector("[data-run-url]");
  if (!box) { return; }
  var status = box.getAttribute("data-run-status");
  if (status !== "queued" && status !== "running") { return; }
  var bar = box.querySelector("progress");
  var phase = box.querySelector("[data-run-phase]");
  var names = JSON.parse(box.getAttribute("data-phases") || "{}");
  function poll() {
    fetch(box.getAttribute("data-run-url"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (!run) { window.setTimeout(poll, 3000); return; }
        bar.value = run.progress;
        bar.textContent = run.progress + " %";
        phase.textContent = (names[run.phase] || run.phase) + " · " + run.progress + " %";
        if (run.status === "done" || run.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      }, function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
