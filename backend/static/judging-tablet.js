/* The judges' tablet page (backend/templates/judging/scoring/tablet.html.jinja).
   It shows the queue and one entry's sheet from the API's data and never loses a sheet:
   - the last-seen queue and entries are kept in localStorage, so the page works after a reload offline
     (the service worker, offline-sw.js, keeps the page and its files);
   - each sheet's draft is kept in localStorage as it is typed, and restored after a reload or a closed tab;
   - a submission goes into an IndexedDB outbox with a nonce made once for it; the outbox is sent on load,
     when the network comes back and every 15 s. A retry sends the same nonce, so the server counts it once.
   Every key is prefixed with the judge's id: judges sharing a tablet never see each other's sheets. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  var TEXTS = JSON.parse(document.getElementById("tablet-texts").textContent);
  var USER = main.getAttribute("data-user");
  var LOCALE = main.getAttribute("data-locale") || "en";
  var PREFIX = "podium-judge:" + USER + ":";
  var RETRY_MS = 15000;
  var db = null;
  var outbox = {};  // assignment id -> outbox item (a copy of the IndexedDB store, kept in step)
  var syncing = false;
  var current = null;  // the assignment shown, with its detail

  function text(key, params) {
    var value = TEXTS[key] || key;
    Object.keys(params || {}).forEach(function (name) {
      value = value.split("{" + name + "}").join(String(params[name]));
    });
    return value;
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function localized(names) {
    names = names || {};
    return names[LOCALE] || names.en || names.zh || names.ru || "";
  }
  function number(value) {
    return (Math.round(value * 100) / 100).toLocaleString(document.documentElement.lang);
  }

  // Kept data ------------------------------------------------------------------------------------
  function load(key) {
    try { return JSON.parse(localStorage.getItem(PREFIX + key) || "null"); } catch (e) { return null; }
  }
  function keep(key, value) {
    try {
      if (value === null) { localStorage.removeItem(PREFIX + key); } else { localStorage.setItem(PREFIX + key, JSON.stringify(value)); }
    } catch (e) { /* storage full or disabled: the page still works while open */ }
  }

  function openOutbox() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(null); return; }
      var request = indexedDB.open("podium-judge", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("outbox", {keyPath: "key"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { resolve(null); };
    });
  }
  function store(mode) { return db.transaction("outbox", mode).objectStore("outbox"); }
  function readOutbox() {
    return new Promise(function (resolve) {
      if (!db) { resolve(load("outbox") || {}); return; }
      var items = {};
      var cursor = store("readonly").openCursor();
      cursor.onsuccess = function () {
        var c = cursor.result;
        if (!c) { resolve(items); return; }
        if (c.value.user === USER) { items[c.value.assignment] = c.value; }
        c.continue();
      };
      cursor.onerror = function () { resolve(items); };
    });
  }
  function writeItem(item) {
    outbox[item.assignment] = item;
    return new Promise(function (resolve) {
      if (!db) { keep("outbox", outbox); resolve(); return; }
      var tx = db.transaction("outbox", "readwrite");
      tx.objectStore("outbox").put(item);
      tx.oncomplete = resolve;
      tx.onerror = resolve;
    });
  }
  function dropItem(assignment) {
    delete outbox[assignment];
    return new Promise(function (resolve) {
      if (!db) { keep("outbox", outbox); resolve(); return; }
      var tx = db.transaction("outbox", "readwrite");
      tx.objectStore("outbox").delete(USER + ":" + assignment);
      tx.oncomplete = resolve;
      tx.onerror = resolve;
    });
  }

  var nonce = window.PodiumOffline.nonce;  // static/offline-page.js
  var csrf = window.PodiumOffline.csrf;

  // The network ---------------------------------------------------------------------------------
  function getJSON(url) {
    return fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { var error = new Error(r.status); error.status = r.status; throw error; }
      return r.json();
    });
  }
  function showNetwork() {
    var node = document.getElementById("tablet-network");
    node.textContent = navigator.onLine ? "" : text("offline");
    node.className = "tablet-network" + (navigator.onLine ? "" : " is-offline");
  }
  function refreshQueue() {
    return getJSON("/api/v1/judge/queue").then(function (queue) {
      keep("queue", queue);
      renderQueue();
      // keep every entry on the tablet while the network is here, to score them offline later
      return Promise.all(queue.items.map(function (item) {
        return getJSON("/api/v1/judge/assignments/" + item.assignment).then(function (detail) {
          keep("a:" + item.assignment, detail);
        }, function () { /* gone or offline: keep what we had */ });
      }));
    }, function () { /* offline: the kept queue stays on screen */ });
  }

  function errorText(body) {
    if (!body) { return ""; }
    var fields = body.fields ? Object.keys(body.fields).map(function (k) { return body.fields[k]; }) : [];
    return fields.length ? fields.join("; ") : (body.detail || "");
  }

  function stored(assignment, sheet) {
    var detail = load("a:" + assignment);
    if (detail) { detail.sheet = sheet; keep("a:" + assignment, detail); }
    var queue = load("queue");
    if (queue) {
      queue.items.forEach(function (item) {
        if (item.assignment === assignment) { item.sheet_version = sheet.version; item.total = sheet.total; }
      });
      queue.done = queue.items.filter(function (item) { return item.sheet_version; }).length;
      keep("queue", queue);
    }
    keep("draft:" + assignment, null);
  }

  function sendOne(item) {
    item.state = "sending";
    item.attempts = (item.attempts || 0) + 1;
    return writeItem(item).then(function () {
      render();
      return fetch("/api/v1/judge/assignments/" + item.assignment + "/sheet", {
        method: "PUT",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json", "x-podium-csrf": csrf()},
        body: JSON.stringify(item.body)
      });
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok) {
          stored(item.assignment, body);
          return dropItem(item.assignment).then(function () { return true; });
        }
        if (response.status === 401 || response.status >= 500 || response.status === 429) {
          item.state = "waiting";
          item.error = response.status === 401 ? text("login") : "";
          return writeItem(item).then(function () { return false; });
        }
        item.state = "refused";  // the server will not take this sheet as it is: the judge decides
        item.error = errorText(body) || String(response.status);
        return writeItem(item).then(function () { return true; });
      });
    }, function () {
      item.state = "waiting";  // the network failed: the same nonce goes again later
      return writeItem(item).then(function () { return false; });
    });
  }

  function sync() {
    if (syncing) { return Promise.resolve(); }
    var waiting = Object.keys(outbox).map(function (k) { return outbox[k]; }).filter(function (item) {
      return item.state === "waiting" || item.state === "sending";  // "sending" when a tab closed mid-way
    });
    if (!waiting.length) { return Promise.resolve(); }
    syncing = true;
    var chain = Promise.resolve(true);
    waiting.forEach(function (item) {
      chain = chain.then(function (goOn) { return goOn ? sendOne(item) : false; });
    });
    return chain.then(function () { syncing = false; render(); }, function () { syncing = false; render(); });
  }

  // States --------------------------------------------------------------------------------------
  function stateOf(assignment, version) {
    var item = outbox[assignment];
    if (item && item.state === "refused") { return {key: "refused", text: text("refused", {reason: item.error})}; }
    if (item && item.state === "sending") { return {key: "sending", text: text("sending")}; }
    if (item) { return {key: "waiting", text: text("waiting") + (item.error ? " · " + item.error : "")}; }
    if (load("draft:" + assignment)) { return {key: "draft", text: text("draft")}; }
    if (version) { return {key: "saved", text: text("saved", {version: version})}; }
    return {key: "new", text: text("not_started")};
  }

  // The queue -----------------------------------------------------------------------------------
  function renderQueue() {
    var queue = load("queue") || {items: [], done: 0, total: 0};
    var list = document.getElementById("queue-items");
    list.textContent = "";
    var done = 0;
    queue.items.forEach(function (item) {
      if (item.sheet_version) { done += 1; }
      var state = stateOf(item.assignment, item.sheet_version);
      var link = el("a", {href: "#a" + item.assignment, "class": "tablet-entry-link", "data-assignment": item.assignment}, [
        el("span", {"class": "tablet-label", text: item.label}),
        el("span", {"class": "tablet-title", text: item.title})
      ]);
      list.appendChild(el("li", {"class": "item tablet-item", "data-state": state.key, "data-assignment": item.assignment}, [
        link,
        el("p", {"class": "meta"}, [
          item.team ? el("span", {text: text("team") + ": " + item.team}) : null,
          el("span", {"class": "badge tablet-badge state-" + state.key, text: state.text})
        ])
      ]));
    });
    if (!queue.items.length) { list.appendChild(el("li", {"class": "item", text: text("nothing")})); }
    var progress = document.getElementById("queue-progress");
    progress.max = Math.max(queue.items.length, 1);
    progress.value = done;
    document.getElementById("queue-progress-text").textContent = text("progress", {done: done, total: queue.items.length});
  }

  // One entry -----------------------------------------------------------------------------------
  function criterionRow(c, value) {
    var name = localized(c.name);
    var id = "mark-" + c.code;
    var input = el("input", {
      type: "number", id: id, name: c.code, inputmode: "decimal", min: c.min, max: c.max,
      step: c.step || "any", "aria-describedby": "hint-" + c.code + " error-" + c.code, "class": "tablet-mark"
    });
    if (value !== undefined && value !== null && value !== "") { input.value = value; }
    function nudge(direction) {
      var step = c.step || 1;
      var now = input.value === "" ? (direction > 0 ? c.min - step : c.max + step) : Number(input.value);
      var next = Math.min(c.max, Math.max(c.min, Math.round((now + direction * step) / step) * step));
      input.value = String(Math.round(next * 1000) / 1000);
      input.dispatchEvent(new Event("input", {bubbles: true}));
    }
    var minus = el("button", {type: "button", "class": "tablet-step", "aria-label": text("decrease", {name: name}), text: "−"});
    var plus = el("button", {type: "button", "class": "tablet-step", "aria-label": text("increase", {name: name}), text: "+"});
    minus.addEventListener("click", function () { nudge(-1); });
    plus.addEventListener("click", function () { nudge(1); });
    var hint = localized(c.descriptor);
    return el("div", {"class": "tablet-criterion field"}, [
      el("label", {"for": id, text: name}),
      el("p", {"class": "hint", id: "hint-" + c.code, text: (hint ? hint + " · " : "") + text("range", {min: number(c.min), max: number(c.max), step: number(c.step || 1)})}),
      el("div", {"class": "tablet-stepper"}, [minus, input, plus]),
      el("p", {"class": "field-error", id: "error-" + c.code})
    ]);
  }

  function formValues() {
    var marks = {};
    current.detail.criteria.forEach(function (c) {
      var value = document.getElementById("mark-" + c.code).value;
      marks[c.code] = value === "" ? null : Number(value);
    });
    return {
      marks: marks,
      comment: document.getElementById("sheet-comment").value,
      reason: document.getElementById("sheet-reason").value
    };
  }
  function totalOf(marks) {
    return current.detail.criteria.reduce(function (sum, c) { return sum + c.weight * (marks[c.code] || 0); }, 0);
  }
  function saveDraft() {
    var values = formValues();
    keep("draft:" + current.id, values);
    document.getElementById("sheet-total").textContent = number(totalOf(values.marks));
    renderState();
  }

  function renderState() {
    if (!current) { return; }
    var detail = current.detail;
    var state = stateOf(current.id, detail.sheet && detail.sheet.version);
    var node = document.getElementById("entry-state");
    node.textContent = state.text;
    node.setAttribute("data-state", state.key);
    var closed = detail.item.stage_status !== "scoring";
    var pending = state.key === "waiting" || state.key === "sending";
    var form = document.getElementById("sheet-form");
    Array.prototype.forEach.call(form.elements, function (field) { field.disabled = closed || pending; });
    if (closed) { node.textContent += " · " + text("stage_closed", {status: text("status_" + detail.item.stage_status)}); }
    document.getElementById("sheet-reason-field").hidden = !(detail.sheet && detail.sheet.version);
  }

  function showEntry(id) {
    var detail = load("a:" + id);
    document.getElementById("tablet-queue").hidden = true;
    document.getElementById("tablet-entry").hidden = false;
    document.getElementById("sheet-confirm").hidden = true;
    var form = document.getElementById("sheet-form");
    form.hidden = false;
    if (!detail) {
      current = null;
      document.getElementById("entry-title").textContent = text("not_loaded");
      form.hidden = true;
      getJSON("/api/v1/judge/assignments/" + id).then(function (fresh) {
        keep("a:" + id, fresh);
        if (location.hash === "#a" + id) { showEntry(id); }
      }, function () {});
      return;
    }
    current = {id: id, detail: detail};
    var item = detail.item;
    document.getElementById("entry-title").textContent = item.label + " · " + item.title;
    var meta = document.getElementById("entry-meta");
    meta.textContent = "";
    meta.appendChild(el("span", {"class": "badge", text: item.stage_name}));
    if (item.team) { meta.appendChild(el("span", {text: text("team") + ": " + item.team})); }
    if (item.deadline) {
      meta.appendChild(el("span", {text: text("deadline") + ": " + new Date(item.deadline).toLocaleString(document.documentElement.lang)}));
    }
    var materials = document.getElementById("entry-materials");
    materials.textContent = "";
    detail.materials.forEach(function (m) {
      var label = text(m.kind);
      if (m.download_url || m.url) {
        materials.appendChild(el("li", {}, [el("a", {href: m.download_url || m.url, rel: "noopener", target: "_blank", text: label})]));
      } else {
        materials.appendChild(el("li", {}, [el("strong", {text: label + ": "}), el("span", {"class": "description", text: m.text || ""})]));
      }
    });
    if (!detail.materials.length) { materials.appendChild(el("li", {text: text("no_materials")})); }
    var draft = load("draft:" + id);
    var base = draft || (detail.sheet ? {marks: detail.sheet.marks, comment: detail.sheet.comment, reason: ""} : {marks: {}, comment: "", reason: ""});
    var box = document.getElementById("sheet-criteria");
    box.textContent = "";
    detail.criteria.forEach(function (c) { box.appendChild(criterionRow(c, base.marks[c.code])); });
    document.getElementById("sheet-comment").value = base.comment || "";
    document.getElementById("sheet-reason").value = base.reason || "";
    document.getElementById("sheet-error").textContent = "";
    document.getElementById("sheet-total").textContent = number(totalOf(base.marks));
    renderState();
    document.getElementById("entry-title").focus();
  }

  function check(values) {
    var ok = true;
    current.detail.criteria.forEach(function (c) {
      var value = values.marks[c.code];
      var error = document.getElementById("error-" + c.code);
      var input = document.getElementById("mark-" + c.code);
      var steps = c.step ? (value - c.min) / c.step : 0;
      var bad = value === null || isNaN(value) || value < c.min || value > c.max || Math.abs(steps - Math.round(steps)) > 1e-9;
      error.textContent = bad ? text("range", {min: number(c.min), max: number(c.max), step: number(c.step || 1)}) : "";
      if (bad) { input.setAttribute("aria-invalid", "true"); ok = false; } else { input.removeAttribute("aria-invalid"); }
    });
    var reasonError = document.getElementById("sheet-reason-error");
    var needsReason = current.detail.sheet && current.detail.sheet.version;
    reasonError.textContent = needsReason && !values.reason.trim() ? text("reason_required") : "";
    document.getElementById("sheet-error").textContent = ok ? "" : text("missing_mark");
    return ok && !reasonError.textContent;
  }

  function review(event) {
    event.preventDefault();
    var values = formValues();
    if (!check(values)) {
      var wrong = document.querySelector("#sheet-form [aria-invalid=true]") || document.getElementById("sheet-reason");
      wrong.focus();
      return;
    }
    var list = document.getElementById("confirm-marks");
    list.textContent = "";
    current.detail.criteria.forEach(function (c) {
      list.appendChild(el("dt", {text: localized(c.name)}));
      list.appendChild(el("dd", {text: number(values.marks[c.code])}));
    });
    document.getElementById("confirm-total").textContent = number(totalOf(values.marks));
    document.getElementById("sheet-form").hidden = true;
    document.getElementById("sheet-confirm").hidden = false;
    document.getElementById("confirm-title").focus();
  }

  function submit() {
    var values = formValues();
    var body = {marks: values.marks, comment: values.comment, nonce: nonce()};
    if (current.detail.sheet && current.detail.sheet.version) { body.reason = values.reason; }
    var item = {key: USER + ":" + current.id, user: USER, assignment: current.id, body: body, state: "waiting", error: ""};
    document.getElementById("sheet-confirm").hidden = true;
    document.getElementById("sheet-form").hidden = false;
    writeItem(item).then(function () {
      renderState();
      document.getElementById("entry-state").focus();
      return sync();
    });
  }

  // Routing ---------------------------------------------------------------------------------------
  function route() {
    var match = /^#a(\d+)$/.exec(location.hash);
    if (match) { showEntry(Number(match[1])); return; }
    current = null;
    document.getElementById("tablet-entry").hidden = true;
    document.getElementById("tablet-queue").hidden = false;
    renderQueue();
  }
  function render() {
    if (current) {
      var fresh = load("a:" + current.id);
      if (fresh) { current.detail = fresh; }
      renderState();
    } else {
      renderQueue();
    }
  }

  document.getElementById("entry-state").setAttribute("tabindex", "-1");
  document.getElementById("entry-back").addEventListener("click", function (event) {
    event.preventDefault();
    location.hash = "";
  });
  document.getElementById("sheet-form").addEventListener("submit", review);
  document.getElementById("sheet-form").addEventListener("input", function () { if (current) { saveDraft(); } });
  document.getElementById("confirm-submit").addEventListener("click", submit);
  document.getElementById("confirm-back").addEventListener("click", function () {
    document.getElementById("sheet-confirm").hidden = true;
    document.getElementById("sheet-form").hidden = false;
    document.getElementById("sheet-review").focus();
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("online", function () { showNetwork(); sync().then(refreshQueue).then(render); });
  window.addEventListener("offline", showNetwork);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/judge/sw.js", {scope: "/judge"}).catch(function () {});
  }
  openOutbox().then(function (opened) {
    db = opened;
    return readOutbox();
  }).then(function (items) {
    outbox = items;
    showNetwork();
    route();
    return sync();
  }).then(refreshQueue).then(function () {
    render();
    main.setAttribute("data-ready", "true");
  });
  setInterval(function () { if (navigator.onLine) { sync(); } }, RETRY_MS);
})();
