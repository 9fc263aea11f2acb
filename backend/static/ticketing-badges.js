/* The badges page (backend/templates/ticketing/badges/badges.html.jinja): each badge run that is
   queued or running shows its status and count as static/run-progress.js polls it (loaded before
   this file); the page reloads when it ends, so the download link or the error shows. */
(function () {
  "use strict";
  document.querySelectorAll("[data-badge-run]").forEach(function (box) {
    var names = JSON.parse(box.getAttribute("data-statuses") || "{}");
    window.PodiumRunProgress.watch(box, box.getAttribute("data-badge-run"), box.getAttribute("data-status"), function (run) {
      return (names[run.status] || run.status) + " · " + run.done + " / " + run.total;
    });
  });
}());
