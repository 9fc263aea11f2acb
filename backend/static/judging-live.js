/* Live final pages: each [data-room] follows its Server-Sent Events stream (data-stream) and keeps
   its clock, team on stage, running order, marks and result up to date. The organizers' page sends
   the room's steps and the running order's moves to the API; the judge's page links to the sheet of
   the team on stage. Words come translated from #live-words. */
(function () {
  "use strict";
  var wordsElement = document.getElementById("live-words");
  var words = wordsElement ? JSON.parse(wordsElement.dataset.words) : {phases: {}};
  var csrf = document.getElementById("live-csrf");

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, name) { return values[name] === undefined ? "" : values[name]; });
  }

  function request(method, url, body) {
    var init = {method: method, credentials: "same-origin",
      headers: {"Accept": "application/json", "x-podium-csrf": csrf ? csrf.value : ""}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().then(
        function (data) { return {ok: response.ok, body: data}; },
        function () { return {ok: response.ok, body: null}; }
      );
    });
  }

  function say(room, text) {
    var status = room.querySelector("[data-status]") || document.querySelector("[data-status]");
    if (!status) return;
    status.textContent = text || "";
    status.hidden = !text;
  }

  // The clock --------------------------------------------------------------------------------
  function setClock(room, timer) {
    var clock = room.querySelector("[data-timer]");
    var phase = room.querySelector("[data-phase]");
    if (phase) phase.textContent = words.phases[timer.phase] || timer.phase;
    if (!clock) return;
    clock.dataset.started = timer.started_at || "";
    clock.dataset.duration = timer.duration_s || "";
    clock.dataset.skew = String(Date.parse(timer.server_now) - Date.now());
    tick(clock);
  }

  function tick(clock) {
    var duration = Number(clock.dataset.duration);
    if (!clock.dataset.started || !duration) {
      clock.textContent = "–";
      clock.classList.remove("live-last-minute", "live-over");
      return;
    }
    var end = Date.parse(clock.dataset.started) + duration * 1000;
    var now = Date.now() + Number(clock.dataset.skew || 0);
    var left = Math.max(0, Math.ceil((end - now) / 1000));
    clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    clock.classList.toggle("live-last-minute", left > 0 && left <= 60);
    clock.classList.toggle("live-over", left === 0);
  }

  setInterval(function () {
    document.querySelectorAll("[data-timer]").forEach(tick);
  }, 250);

  // What a room shows -------------------------------------------------------------------------
  function teamText(entry) {
    if (!entry) return words.none;
    return entry.team ? entry.team + " (" + entry.label + ")" : entry.label;
  }

  function showCurrent(room, entry) {
    var current = room.querySelector("[data-current]");
    if (current) current.textContent = room.hasAttribute("data-screen") && entry ? (entry.team || entry.label) : teamText(entry);
    var title = room.querySelector("[data-title]");
    if (title) title.textContent = entry ? entry.title : "";
    room.querySelectorAll("tr[data-entry]").forEach(function (row) {
      row.classList.toggle("live-on-stage", !!entry && row.dataset.entry === String(entry.id));
    });
  }

  function resultText(result) {
    return fill(words.result, {score: result.score}) + " (" + (result.fallback ? words.mean : words.trimmed) + ")";
  }

  function showResult(room, result) {
    var line = room.querySelector("[data-room-result]");
    if (line) line.textContent = result ? resultText(result) : "";
    if (!result) return;
    var cell = room.querySelector('tr[data-entry="' + result.entry + '"] [data-result]');
    if (cell) cell.textContent = result.score;
  }

  function showProgress(room, progress) {
    var row = room.querySelector('tr[data-entry="' + progress.entry + '"]');
    if (!row) return;
    row.querySelector("[data-sheets]").textContent = progress.sheets;
    row.querySelector("[data-judges]").textContent = progress.judges;
  }

  function showMark(room, mark) {
    var list = room.querySelector("[data-marks]");
    if (!list) return;
    var item = document.createElement("li");
    var parts = Object.keys(mark.marks).map(function (code) { return code + " " + mark.marks[code]; });
    var row = room.querySelector('tr[data-entry="' + mark.entry + '"] [data-team]');
    item.textContent = (row ? row.textContent + " · " : "") +
      fill(words.mark, {judge: mark.judge_name, total: mark.total}) + " (" + parts.join(", ") + ")";
    list.insertBefore(item, list.firstChild);
  }

  function showJudgeRoom(room, state) {
    var link = room.querySelector("[data-score-link]");
    if (!link) return;
    link.hidden = !state.assignment_id;
    if (state.assignment_id) link.querySelector("a").href = "/judge#a" + state.assignment_id;  // the tablet page opens it
  }

  function showState(room, state) {
    setClock(room, state.timer);
    showCurrent(room, state.current_entry);
    if (state.entries) state.entries.forEach(function (e) { showProgress(room, {entry: e.id, sheets: e.sheets, judges: e.judges}); });
    if ("result" in state) showResult(room, state.result);
    if ("assignment_id" in state) showJudgeRoom(room, state);
  }

  // The stream ------------------------------------------------------------------------------
  function follow(room) {
    var source = new EventSource(room.dataset.stream);
    function on(kind, handle) {
      source.addEventListener(kind, function (event) {
        say(room, "");
        handle(JSON.parse(event.data));
      });
    }
    on("state", function (state) { showState(room, state); });
    on("phase", function (data) {
      setClock(room, data.timer);
      showCurrent(room, data.current_entry);
      if (data.phase === "pitch") showResult(room, null);
      if (room.hasAttribute("data-judge")) {
        var sheetIn = room.querySelector("[data-sheet-in]");
        if (sheetIn) sheetIn.hidden = true;
        request("GET", room.dataset.state).then(function (answer) { if (answer.ok) showJudgeRoom(room, answer.body); });
      }
      if (data.phase === "closed") source.close();
    });
    on("mark", function (mark) { showMark(room, mark); });
    on("progress", function (progress) { showProgress(room, progress); });
    on("result", function (result) { showResult(room, result); });
    on("sheet_in", function () {
      var sheetIn = room.querySelector("[data-sheet-in]");
      var current = room.querySelector("[data-current]");
      if (!sheetIn) return;
      sheetIn.textContent = fill(words.sheet_in, {team: current ? current.textContent : ""});
      sheetIn.hidden = false;
    });
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) say(room, words.lost);
    };
  }

  // The organizers' controls ------------------------------------------------------------------
  function step(room, name) {
    return request("POST", "/api/v1/panels/" + room.dataset.room + "/live/" + name).then(function (answer) {
      if (answer.ok) showState(room, answer.body);
      else say(room, answer.body && answer.body.detail);
    });
  }

  function move(room, button) {
    var row = button.closest("tr");
    var other = button.dataset.move === "up" ? row.previousElementSibling : row.nextElementSibling;
    if (!other) return;
    var rows = Array.prototype.slice.call(row.parentNode.children);
    // renumber 1..n in the new order, so equal positions cannot keep two teams in place
    var a = rows.indexOf(row), b = rows.indexOf(other);
    rows[a] = other;
    rows[b] = row;
    var changes = rows.map(function (r, i) { return {row: r, position: i + 1}; })
      .filter(function (c) { return Number(c.row.dataset.position) !== c.position; });
    Promise.all(changes.map(function (c) {
      return request("PATCH", "/api/v1/stage-entries/" + c.row.dataset.entry, {position: c.position});
    })).then(function (answers) {
      var refused = answers.filter(function (answer) { return !answer.ok; })[0];
      if (refused) {
        say(room, refused.body && refused.body.detail);
        return;
      }
      changes.forEach(function (c) { c.row.dataset.position = c.position; });
      rows.forEach(function (r) { r.parentNode.appendChild(r); });
      rows.forEach(function (r, i) {
        r.querySelector('[data-move="up"]').disabled = i === 0;
        r.querySelector('[data-move="down"]').disabled = i === rows.length - 1;
      });
      button.focus();
    });
  }

  document.querySelectorAll("[data-room][data-stream]").forEach(function (room) {
    follow(room);
    room.addEventListener("click", function (event) {
      var target = event.target.closest("button");
      if (!target) return;
      if (target.dataset.step) step(room, target.dataset.step);
      if (target.dataset.move) move(room, target);
    });
  });

  var prepare = document.querySelector("[data-prepare]");
  if (prepare) {
    prepare.addEventListener("click", function () {
      prepare.disabled = true;
      request("POST", prepare.dataset.prepare).then(function (answer) {
        if (answer.ok) window.location.reload();
        else {
          prepare.disabled = false;
          say(document, answer.body && answer.body.detail);
        }
      });
    });
  }
})();
