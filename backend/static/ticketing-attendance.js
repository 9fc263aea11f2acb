/* The attendance page: every 5 seconds while the page is visible, read the event's attendance from
   the API and move the figures marked data-field (totals, each list's row, each session's row);
   when the day shown is today, fetch the arrival curve again and put it in place of the old one.
   The "Updated at" line is a polite status, changed only when a figure moved, so a screen reader
   is not interrupted every few seconds. */
(function () {
  "use strict";
  var root = document.querySelector(".attendance[data-api]");
  if (!root) { return; }
  var PERIOD = 5000;
  var updated = root.querySelector("[data-updated]");
  var timer = null;

  function set(scope, name, value) {
    var cell = scope.querySelector('[data-field="' + name + '"]');
    if (!cell || value === null || value === undefined) { return false; }
    var text = String(value);
    if (cell.textContent === text) { return false; }
    cell.textContent = text;
    return true;
  }

  function apply(data) {
    var moved = false;
    Object.keys(data.totals).forEach(function (key) {
      moved = set(root, "totals." + key, data.totals[key]) || moved;
    });
    data.lists.forEach(function (item) {
      var row = root.querySelector('tr[data-list="' + item.id + '"]');
      if (!row) { return; }
      ["entries", "people", "today", "inside", "no_shows", "rejected"].forEach(function (key) {
        moved = set(row, key, item[key]) || moved;
      });
    });
    data.sessions.forEach(function (s) {
      var row = root.querySelector('tr[data-session-list="' + s.list + '"]');
      if (!row) { return; }
      ["people", "inside", "percent"].forEach(function (key) { moved = set(row, key, s[key]) || moved; });
      var bar = row.querySelector(".attendance-bar span");
      if (bar && s.percent !== null) { bar.style.width = Math.min(s.percent, 100) + "%"; }
    });
    if (moved && updated) {
      var at = new Date(data.generated_at);
      var clock = at.toLocaleTimeString(document.documentElement.lang || undefined,
        {timeZone: data.time_zone, hour: "2-digit", minute: "2-digit", second: "2-digit"});
      updated.textContent = (root.getAttribute("data-updated-text") || "{time}").replace("{time}", clock);
    }
    return moved;
  }

  function redraw() {
    if (root.getAttribute("data-live-day") !== "yes") { return; }
    fetch(root.getAttribute("data-svg"), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (text) {
        var holder = root.querySelector("[data-curve]");
        if (!text) { return; }
        if (!holder) { window.location.reload(); return; }  // the first entry: the page draws the figure
        var svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
        if (svg && svg.nodeName.toLowerCase() === "svg") {
          holder.replaceChildren(document.importNode(svg, true));
        }
      }, function () {});
  }

  function poll() {
    timer = null;
    if (document.hidden) { return; }
    fetch(root.getAttribute("data-api"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && apply(data)) { redraw(); }
        schedule();
      }, schedule);
  }

  function schedule() {
    if (timer === null && !document.hidden) { timer = window.setTimeout(poll, PERIOD); }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { poll(); }
  });
  schedule();
}());
