/* The results page (backend/templates/judging/results/results.html.jinja): a ranking run that is
   queued or running shows its phase and progress as static/run-progress.js polls it (loaded before
   this file); the page reloads when it is done or failed, so the results or the error show. */
(function () {
  "use strict";
  var box = document.querySelector("[data-run-url]");
  if (!box) { return; }
  var names = JSON.parse(box.getAttribute("data-phases") || "{}");
  window.PodiumRunProgress.watch(box, box.getAttribute("data-run-url"), box.getAttribute("data-run-status"), function (run) {
    return (names[run.phase] || run.phase) + " · " + run.progress + " %";
  });
}());
