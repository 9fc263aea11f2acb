/* The badges page (backend/templates/ticketing/badges/badges.html.jinja): while a badge run is
   queued or running, poll it once a second and move its <progress> bar and its text (a polite live
   region); reload the page when it ends, so the download link or the error shows. */
(function () {
  "use strict";
  var runs = document.querySelectorAll("[data-badge-run]");
  Array.prototype.forEach.call(runs, function (box) {
    var status = box.getAttribute("data-status");
    if (status !== "queued" && status !== "running") { return; }
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-run-text]");
    var names = JSON.parse(box.getAttribute("data-statuses") || "{}");
    function poll() {
      fetch(box.getAttribute("data-badge-run"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (run) {
          if (!run) { window.setTimeout(poll, 3000); return; }
          bar.value = run.progress;
          bar.textContent = run.progress + " %";
          text.textContent = (names[run.status] || run.status) + " · " + run.done + " / " + run.total;
          if (run.status === "done" || run.status === "failed") {
            window.location.reload();
          } else {
            window.setTimeout(poll, 1000);
          }
        }, function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 500);
  });
}());
