/* A background run's progress, shared by the results page (static/judging-results.js, a ranking run)
   and the badges page (static/ticketing-badges.js, a badge run); load it before the page's script.
   PodiumRunProgress.watch(box, url, status, describe): while the run is queued or running, poll
   url once a second (every 3 s after a failure) and move box's <progress> bar; the element
   [data-run-text] inside box (a polite live region) gets describe(run). Reload the page when the run
   is done or failed, so its result or its error shows. */
window.PodiumRunProgress = (function () {
  "use strict";

  function watch(box, url, status, describe) {
    if (status !== "queued" && status !== "running") { return; }
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-run-text]");
    function poll() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (run) {
          if (!run) { window.setTimeout(poll, 3000); return; }
          bar.value = run.progress;
          bar.textContent = run.progress + " %";
          text.textContent = describe(run);
          if (run.status === "done" || run.status === "failed") {
            window.location.reload();
          } else {
            window.setTimeout(poll, 1000);
          }
        }, function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 500);
  }

  return {watch: watch};
}());
