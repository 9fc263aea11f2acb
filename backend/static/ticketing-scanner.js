/* The scanner page (backend/templates/ticketing/scanner.html.jinja, ticketing/scanner/pages.py).
   A staff phone or tablet scans tickets at a gate and answers at once, network or not:
   - who scans: a device's own token (given once in the enrolment link's fragment, /scan#device=<token>,
     kept in localStorage and removed from the address) or the staff member's session;
   - input: the camera (the browser's BarcodeDetector where it reads QR codes, else zxing-wasm in a
     worker, ticketing-scanner-worker.js), a keyboard-wedge hardware scanner (a code and Enter typed
     fast anywhere on the page), a typed code, or a picture; the camera ignores the code it just read for 3 s;
   - online, POST /api/v1/checkin/scan decides; when the network fails (or is down) the page decides
     itself from the list's offline bundle (GET /api/v1/checkin/lists/{id}/offline, kept in IndexedDB):
     the code's Ed25519 signature with WebCrypto against the event's public keys, the revoked serials,
     the validity, the list's types and time windows, and what this device already admitted on a list
     that admits once or once a day; the scan waits in an IndexedDB queue with its nonce and goes to
     POST /api/v1/checkin/sync when the network is back (a retry sends the same nonce: counted once);
   - the answer: big green or red with the holder's name (decrypted offline from the bundle with the
     code's serial), the ticket type and the reason, a tone (WebAudio), announced by screen readers. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  var TEXTS = JSON.parse(document.getElementById("scan-texts").textContent);
  var USER = main.getAttribute("data-user");
  var USER_NAME = main.getAttribute("data-user-name");
  var LOCALE = main.getAttribute("data-locale") || "en";
  var DECODER = main.getAttribute("data-decoder");
  var PREFIX = "podium-scan:";
  var SCAN_TIMEOUT_MS = 4000;
  var SYNC_MS = 10000;
  var BUNDLE_MS = 60000;
  var REPEAT_MS = 3000;
  var WEDGE_GAP_MS = 300;  // a wedge types a code in a burst; a pause this long starts a new one
  var SYNC_BATCH = 500;
  var EPOCH_DAY = Date.UTC(2020, 0, 1) / 86400000;
  var CODE_LENGTH = 141;
  var CONTEXT = new TextEncoder().encode("PODIUM-TICKET-1");
  var KINDS = ["team_member", "advisor", "judge", "guest", "speaker", "exhibitor_staff", "visitor", "staff"];

  var db = null;
  var token = null;       // the device's token, or null for a person's session
  var scanner = null;     // GET /api/v1/checkin/scanner, kept for offline reloads
  var list = null;        // the chosen list (an item of scanner.lists)
  var bundles = {};       // list id -> offline bundle
  var keyCache = {};      // "<event>:<key id>:<hex>" -> CryptoKey
  var online = navigator.onLine;
  var queueCount = 0;
  var lastSync = null;
  var conflicts = 0;
  var chain = Promise.resolve();
  var lastCode = "";
  var lastCodeAt = 0;

  // Helpers --------------------------------------------------------------------------------------
  function text(key, params) {
    var value = TEXTS[key] || key;
    Object.keys(params || {}).forEach(function (name) {
      value = value.split("{" + name + "}").join(String(params[name]));
    });
    return value;
  }
  function $(id) { return document.getElementById(id); }
  function hex(bytes) {
    return Array.prototype.map.call(new Uint8Array(bytes), function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function fromHex(value) {
    var out = new Uint8Array(value.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(value.substr(i * 2, 2), 16); }
    return out;
  }
  function fromBase64(value) {
    var raw = atob(value);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  var nonce = window.PodiumOffline.nonce;  // static/offline-page.js
  var csrf = window.PodiumOffline.csrf;
  function identity() { return token ? "device:" + token.slice(-12) : "user:" + USER; }

  // Local time of the event: "YYYY-MM-DDTHH:MM:SS" and the day number since 2020-01-01 -------------
  function localParts(date, timeZone) {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: timeZone || "UTC", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }
  function naiveMs(value) {  // a naive local "YYYY-MM-DDTHH:MM[:SS]" as a number to compare
    var m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || "");
    return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) : NaN;
  }
  function localNow(timeZone, date) {
    var p = localParts(date || new Date(), timeZone);
    var ms = Date.UTC(+p.year, p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return {ms: ms, day: Math.floor(ms / 86400000) - EPOCH_DAY, date: p.year + "-" + p.month + "-" + p.day};
  }
  function clock(iso, timeZone) {
    var date = new Date(iso);
    if (isNaN(date)) { return ""; }
    return new Intl.DateTimeFormat(document.documentElement.lang, {
      timeZone: timeZone || undefined, hour: "2-digit", minute: "2-digit"
    }).format(date);
  }
  function naiveClock(value) { return (value || "").replace("T", " ").slice(0, 16); }

  // Storage: IndexedDB (bundles, queue, seen, meta), localStorage for the token and choices -------
  function openDb() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(null); return; }
      var request = indexedDB.open("podium-scan", 1);
      request.onupgradeneeded = function () {
        var d = request.result;
        d.createObjectStore("bundles", {keyPath: "key"});
        d.createObjectStore("queue", {keyPath: "nonce"});
        d.createObjectStore("seen", {keyPath: "key"});
        d.createObjectStore("meta", {keyPath: "key"});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { resolve(null); };
    });
  }
  var memory = {bundles: {}, queue: {}, seen: {}, meta: {}};  // when IndexedDB is unavailable
  function idb(storeName, mode, work) {
    return new Promise(function (resolve) {
      if (!db) { resolve(work(null, memory[storeName])); return; }
      var tx = db.transaction(storeName, mode);
      var result;
      var request = work(tx.objectStore(storeName), null);
      if (request && "onsuccess" in request) {
        request.onsuccess = function () { result = request.result; };
      }
      tx.oncomplete = function () { resolve(result); };
      tx.onerror = function () { resolve(undefined); };
      tx.onabort = function () { resolve(undefined); };
    });
  }
  function get(storeName, key) {
    return idb(storeName, "readonly", function (s, m) { return s ? s.get(key) : m[key]; });
  }
  function put(storeName, value) {
    return idb(storeName, "readwrite", function (s, m) { if (s) { return s.put(value); } m[value.key || value.nonce] = value; });
  }
  function del(storeName, key) {
    return idb(storeName, "readwrite", function (s, m) { if (s) { return s.delete(key); } delete m[key]; });
  }
  function all(storeName) {
    return idb(storeName, "readonly", function (s, m) {
      return s ? s.getAll() : Object.keys(m).map(function (k) { return m[k]; });
    });
  }
  function keep(key, value) {
    try {
      if (value === null) { localStorage.removeItem(PREFIX + key); } else { localStorage.setItem(PREFIX + key, value); }
    } catch (e) { /* storage disabled: the page works while open */ }
  }
  function kept(key) { try { return localStorage.getItem(PREFIX + key); } catch (e) { return null; } }

  // The network ----------------------------------------------------------------------------------
  function api(method, url, body, timeout) {
    var headers = {"Accept": "application/json"};
    var options = {method: method, headers: headers, credentials: "same-origin"};  // the language cookie too
    if (token) { headers.Authorization = "Bearer " + token; } else if (method !== "GET") { headers["x-podium-csrf"] = csrf(); }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = null;
    if (controller && timeout) {
      options.signal = controller.signal;
      timer = setTimeout(function () { controller.abort(); }, timeout);
    }
    return fetch(url, options).then(function (response) {
      if (timer) { clearTimeout(timer); }
      return response.json().catch(function () { return null; }).then(function (data) {
        return {status: response.status, ok: response.ok, body: data};
      });
    }, function (error) {
      if (timer) { clearTimeout(timer); }
      throw error;
    });
  }
  function setOnline(value) {
    online = value;
    renderStatus();
  }

  // Signed codes, read and checked as ticketing/codes.py does ------------------------------------
  function base32(value) {
    var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    var out = new Uint8Array(Math.floor(value.length * 5 / 8));
    var bits = 0, acc = 0, n = 0;
    for (var i = 0; i < value.length; i++) {
      var v = alphabet.indexOf(value[i]);
      if (v < 0) { return null; }
      acc = (acc << 5) | v;
      bits += 5;
      if (bits >= 8) { out[n++] = (acc >>> (bits - 8)) & 255; bits -= 8; }
    }
    return out;
  }
  function readCode(value) {
    value = (value || "").trim().toUpperCase();
    if (value.length !== CODE_LENGTH) { return null; }
    var raw = base32(value);
    if (!raw || raw.length < 88) { return null; }
    var body = raw.slice(0, 24);
    var view = new DataView(body.buffer);
    var head = body[0];
    if (head >> 4 !== 1 || body[17] >= KINDS.length || body[22] === 0) { return null; }
    var first = view.getUint16(20);
    return {
      body: body,
      signature: raw.slice(24, 88),
      keyId: head & 15,
      event: view.getUint32(1),
      serial: body.slice(5, 17),
      serialHex: hex(body.slice(5, 17)),
      kind: KINDS[body[17]],
      type: view.getUint16(18),
      firstDay: first,
      lastDay: first + body[22] - 1,
      attention: (body[23] & 1) === 1
    };
  }
  function publicKey(bundle, keyId) {
    var value = bundle.keys && bundle.keys[String(keyId)];
    if (!value) { return Promise.resolve(null); }
    var name = bundle.event.id + ":" + keyId + ":" + value;
    if (keyCache[name]) { return Promise.resolve(keyCache[name]); }
    return crypto.subtle.importKey("raw", fromHex(value), {name: "Ed25519"}, false, ["verify"]).then(function (key) {
      keyCache[name] = key;
      return key;
    });
  }
  function verifySignature(bundle, code) {
    return publicKey(bundle, code.keyId).then(function (key) {
      if (!key) { return false; }
      var signed = new Uint8Array(CONTEXT.length + code.body.length);
      signed.set(CONTEXT, 0);
      signed.set(code.body, CONTEXT.length);
      return crypto.subtle.verify({name: "Ed25519"}, key, code.signature, signed);
    }).catch(function () { return false; });
  }
  function holderOf(bundle, code) {  // the holder's names, sealed in the bundle under the code's serial
    return crypto.subtle.digest("SHA-256", code.serial).then(function (digest) {
      var sealed = bundle.holders && bundle.holders[hex(digest).slice(0, 16)];
      if (!sealed) { return null; }
      var raw = fromBase64(sealed);
      return crypto.subtle.importKey("raw", code.serial, "HKDF", false, ["deriveKey"]).then(function (ikm) {
        return crypto.subtle.deriveKey(
          {name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode("podium holder")},
          ikm, {name: "AES-GCM", length: 256}, false, ["decrypt"]);
      }).then(function (key) {
        return crypto.subtle.decrypt({name: "AES-GCM", iv: raw.slice(0, 12)}, key, raw.slice(12));
      }).then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
    }).catch(function () { return null; });
  }
  function slotMode(rules) {
    rules = rules || {};
    var total = "entries_total" in rules ? rules.entries_total : 1;
    var perDay = rules.entries_per_day == null ? null : rules.entries_per_day;
    var more = rules.reentry_after_exit || rules.capacity != null || rules.after_list != null;
    if (total === 1 && !more) { return "once"; }
    if (perDay === 1 && total === null && !more) { return "daily"; }
    return "counted";
  }
  function refusal(reason, message, extra) {
    var answer = {status: "rejected", reason: reason, message: message || text("reason_" + reason), ticket: null, previous: null};
    Object.keys(extra || {}).forEach(function (k) { answer[k] = extra[k]; });
    return answer;
  }

  // What this device decides without the network, for the scan `item` on list `listId`.
  function checkLocal(value, listId, direction, when) {
    var bundle = bundles[listId];
    if (!bundle) { return Promise.resolve(refusal("invalid", text("not_loaded"), {unchecked: true})); }
    if (!(window.crypto && crypto.subtle)) { return Promise.resolve(refusal("invalid", text("no_webcrypto"), {unchecked: true})); }
    var code = readCode(value);
    if (!code) { return Promise.resolve(refusal("invalid")); }
    if (code.event !== bundle.event.id) { return Promise.resolve(refusal("wrong_event")); }
    return verifySignature(bundle, code).then(function (genuine) {
      if (!genuine) { return refusal("invalid"); }
      var typeInfo = (bundle.types || {})[String(code.type)] || {};
      var ticket = {holder: "", type: typeInfo.name || "", kind: code.kind, attention: code.attention};
      return holderOf(bundle, code).then(function (holder) {
        ticket.holder = holder ? (holder.name || holder.latin || "") : "";
        ticket.latin = holder && holder.latin !== holder.name ? holder.latin : "";
        ticket.institution = holder ? holder.institution || "" : "";
        return decide(bundle, code, ticket, direction, when);
      });
    });
  }
  function decide(bundle, code, ticket, direction, when) {
    var rules = bundle.list.rules || {};
    var tz = bundle.event.time_zone;
    var now = localNow(tz, when);
    function no(reason, message, previous) {
      return {status: "rejected", reason: reason, message: message || text("reason_" + reason), ticket: ticket, previous: previous || null, serial: code.serialHex};
    }
    if ((bundle.revoked || []).indexOf(code.serialHex) >= 0) { return no("revoked"); }
    if (now.day < code.firstDay || now.day > code.lastDay) { return no("outside_time"); }
    if (rules.types && rules.types.indexOf(code.type) < 0) { return no("not_allowed"); }
    var windows = rules.windows || [];
    if (windows.length) {
      var inside = windows.some(function (w) { return naiveMs(w.opens) <= now.ms && now.ms < naiveMs(w.closes); });
      if (!inside) {
        var next = windows.filter(function (w) { return naiveMs(w.opens) > now.ms; })
          .sort(function (a, b) { return naiveMs(a.opens) - naiveMs(b.opens); })[0];
        var message = next ? text("opens_at", {time: naiveClock(next.opens)}) : text("closed_at", {time: naiveClock(windows.map(function (w) { return w.closes; }).sort().pop())});
        return no("outside_time", message);
      }
    }
    var mode = slotMode(rules);
    if (direction === "exit" && mode !== "counted") { return no("not_allowed"); }
    return get("seen", bundle.list.id + ":" + code.serialHex).then(function (seen) {
      var entries = ((seen && seen.entries) || []).filter(function (e) { return e.direction === "entry"; });
      var today = entries.filter(function (e) { return e.day === now.day; });
      var last = entries[entries.length - 1];
      var previous = last ? {gate: last.gate, at: last.at} : null;
      if (direction === "entry") {
        var total = "entries_total" in rules ? rules.entries_total : 1;
        var perDay = rules.entries_per_day == null ? null : rules.entries_per_day;
        if (mode === "once" && entries.length) { return no("already_checked_in", null, previous); }
        if (mode === "daily" && today.length) { return no("already_checked_in", null, {gate: today[0].gate, at: today[0].at}); }
        if (total !== null && entries.length >= total) { return no("already_checked_in", null, previous); }
        if (perDay !== null && today.length >= perDay) { return no("already_checked_in", null, previous); }
      }
      return {status: "admitted", reason: null, message: "", ticket: ticket, previous: null, serial: code.serialHex};
    });
  }
  function remember(listId, value, direction, at, gate) {  // what this device admitted, for offline duplicates
    var code = readCode(value);
    if (!code) { return Promise.resolve(); }
    var bundle = bundles[listId];
    var day = localNow(bundle ? bundle.event.time_zone : "UTC", new Date(at)).day;
    var key = listId + ":" + code.serialHex;
    return get("seen", key).then(function (seen) {
      seen = seen || {key: key, entries: []};
      seen.entries.push({at: at, gate: gate, day: day, direction: direction});
      return put("seen", seen);
    });
  }

  // The answer on screen and in the ear ----------------------------------------------------------
  var audio = null;
  function wakeAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) { try { audio = new Context(); } catch (e) { audio = null; } }
    if (audio && audio.state === "suspended") { audio.resume().catch(function () {}); }
  }
  function tone(ok) {
    if (!audio) { return; }
    var notes = ok ? [[880, 0, 0.12], [1320, 0.14, 0.2]] : [[220, 0, 0.22], [196, 0.26, 0.4]];
    notes.forEach(function (n) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = ok ? "sine" : "square";
      osc.frequency.value = n[0];
      var start = audio.currentTime + n[1];
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + n[2]);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + n[2] + 0.02);
    });
  }
  function showAnswer(answer, local, direction) {
    var box = $("scan-answer");
    var ok = answer.status === "admitted";
    var ticket = answer.ticket || {};
    var tz = list ? list.time_zone : undefined;
    box.setAttribute("data-state", ok ? "admitted" : "rejected");
    box.setAttribute("data-reason", answer.reason || "");
    $("answer-title").textContent = ok ? (direction === "exit" ? text("exit_recorded") : text("admitted")) : text("rejected");
    var name = ticket.holder || (ticket.type && local ? text("holder_unknown") : "");
    $("answer-name").textContent = name + (ticket.latin ? " · " + ticket.latin : "");
    $("answer-type").textContent = [ticket.type, ticket.institution].filter(Boolean).join(" · ") +
      (ticket.attention ? " — " + text("attention") : "");
    var reason = ok ? "" : (answer.message || text("reason_" + answer.reason));
    if (!ok && answer.previous && answer.previous.gate) {
      reason = text("previous", {gate: answer.previous.gate, time: clock(answer.previous.at, tz)});
    }
    $("answer-reason").textContent = reason;
    $("answer-note").textContent = local ? text("checked_here") : "";
    tone(ok);
  }
  function showError(message) {
    var box = $("scan-answer");
    box.setAttribute("data-state", "rejected");
    box.setAttribute("data-reason", "error");
    $("answer-title").textContent = text("rejected");
    $("answer-name").textContent = "";
    $("answer-type").textContent = "";
    $("answer-reason").textContent = message;
    $("answer-note").textContent = "";
    tone(false);
  }
  function renderStatus() {
    var network = $("scan-network");
    network.textContent = online ? text("online") : text("offline");
    network.className = "scan-network" + (online ? "" : " is-offline");
    main.setAttribute("data-tier", online ? "online" : "offline");
    $("status-tier").textContent = online ? text("online") : text("offline");
    $("status-queue").textContent = text("queue", {count: queueCount});
    main.setAttribute("data-queue", String(queueCount));
    $("status-sync").textContent = lastSync ? text("last_sync", {time: clock(lastSync)}) : text("never_synced");
    $("status-conflicts").textContent = conflicts ? text("conflicts", {count: conflicts}) : "";
    if (scanner) {
      $("status-who").textContent = scanner.device
        ? text("device", {name: scanner.device, gate: scanner.gate || ""})
        : text("person", {name: USER_NAME});
    }
  }

  // One scan, from any input ---------------------------------------------------------------------
  function handle(value, source) {
    value = (value || "").trim().toUpperCase();
    if (!value || !list) { return Promise.resolve(); }
    if (source === "camera") {  // the camera keeps seeing the code it just read: once per 3 s
      var now = Date.now();
      if (value === lastCode && now - lastCodeAt < REPEAT_MS) { return Promise.resolve(); }
      lastCode = value;
      lastCodeAt = now;
    }
    chain = chain.then(function () { return scanOne(value); }, function () { return scanOne(value); });
    return chain;
  }
  function scanOne(value) {
    var direction = $("scan-direction-field").hidden ? "entry" : $("scan-direction").value;
    var item = {
      nonce: nonce(), code: value, list: list.id, direction: direction,
      scanned_at: new Date().toISOString(), who: identity()
    };
    var gate = (bundles[list.id] && bundles[list.id].gate) || (scanner && scanner.gate) || list.name;
    function offline() {
      return checkLocal(value, item.list, direction, new Date(item.scanned_at)).then(function (answer) {
        item.offline_verdict = answer.status;
        showAnswer(answer, true, direction);
        var admitted = answer.status === "admitted" ? remember(item.list, value, direction, item.scanned_at, gate) : null;
        return Promise.all([admitted, put("queue", item)]).then(countQueue);
      });
    }
    if (!online) { return offline(); }
    var body = {code: value, list: item.list, nonce: item.nonce, direction: direction};
    return api("POST", "/api/v1/checkin/scan", body, SCAN_TIMEOUT_MS).then(function (response) {
      if (response.ok) {
        setOnline(true);
        showAnswer(response.body, false, direction);
        if (response.body.status === "admitted") {
          return remember(item.list, value, direction, response.body.scanned_at || item.scanned_at, gate);
        }
        return null;
      }
      if (response.status >= 500 || response.status === 429) { setOnline(false); return offline(); }
      if (response.status === 401) { showError(text("token_refused")); return null; }
      showError(text("error", {detail: errorText(response.body) || response.status}));
      return null;
    }, function () {
      setOnline(false);
      return offline();
    });
  }
  function errorText(body) {
    if (!body) { return ""; }
    var fields = body.fields ? Object.keys(body.fields).map(function (k) { return body.fields[k]; }) : [];
    return fields.length ? fields.join("; ") : (body.detail || "");
  }

  // The queue and its sync -----------------------------------------------------------------------
  var syncing = false;
  function countQueue() {
    return all("queue").then(function (items) {
      queueCount = (items || []).filter(function (i) { return i.who === identity(); }).length;
      renderStatus();
      return items || [];
    });
  }
  function sync() {
    if (syncing || !scanner) { return Promise.resolve(); }
    syncing = true;
    return countQueue().then(function (items) {
      var mine = items.filter(function (i) { return i.who === identity(); })
        .sort(function (a, b) { return a.scanned_at < b.scanned_at ? -1 : 1; }).slice(0, SYNC_BATCH);
      if (!mine.length) { return probe(); }
      var scans = mine.map(function (i) {
        return {code: i.code, list: i.list, nonce: i.nonce, direction: i.direction, scanned_at: i.scanned_at, offline_verdict: i.offline_verdict};
      });
      return api("POST", "/api/v1/checkin/sync", {scans: scans}, 20000).then(function (response) {
        if (!response.ok) {
          if (response.status >= 500 || response.status === 429) { setOnline(false); return; }
          setOnline(true);
          if (response.status === 401) { showError(text("token_refused")); }
          return;
        }
        setOnline(true);
        var results = response.body.results || [];
        lastSync = new Date().toISOString();
        keep("last-sync:" + identity(), lastSync);
        results.forEach(function (result, i) {
          if (mine[i].offline_verdict === "admitted" && result.status !== "admitted") { conflicts += 1; }
        });
        keep("conflicts:" + identity(), String(conflicts));
        return Promise.all(mine.slice(0, results.length).map(function (i) { return del("queue", i.nonce); }));
      }, function () { setOnline(false); });
    }).then(countQueue).then(function () { syncing = false; }, function () { syncing = false; });
  }
  function probe() {  // the queue is empty: is the network back? (refreshes the bundle too)
    if (online && navigator.onLine) { return Promise.resolve(); }
    return list ? loadBundle(list.id) : loadScanner();
  }

  // Who scans where, and the lists' offline bundles ----------------------------------------------
  function loadScanner() {
    // resolves to null (known), the refusal's status (401: a revoked token), or "unreachable"
    var patience = kept("known:" + identity()) ? SCAN_TIMEOUT_MS : 30000;  // nothing kept yet: wait for it
    return api("GET", "/api/v1/checkin/scanner", undefined, patience).then(function (response) {
      if (response.ok) {
        setOnline(true);
        scanner = response.body;
        keep("known:" + identity(), "1");
        return put("meta", {key: "scanner:" + identity(), value: scanner}).then(function () { return null; });
      }
      if (response.status === 401 || response.status === 403) {
        setOnline(true);
        scanner = null;
        return del("meta", "scanner:" + identity()).then(function () { return response.status; });
      }
      return "unreachable";
    }, function () {
      setOnline(false);
      return "unreachable";
    }).then(function (outcome) {
      if (outcome !== "unreachable") { return outcome; }
      return get("meta", "scanner:" + identity()).then(function (row) {  // offline: as last seen
        if (row) { scanner = row.value; }
        return outcome;
      });
    });
  }
  function loadBundle(listId) {
    return api("GET", "/api/v1/checkin/lists/" + listId + "/offline", undefined, 15000).then(function (response) {
      setOnline(true);
      if (response.ok && response.body && response.body.event) {
        bundles[listId] = response.body;
        return put("bundles", {key: identity() + ":" + listId, bundle: response.body});
      }
    }, function () {
      setOnline(false);
    }).then(function () {
      if (bundles[listId]) { return; }
      return get("bundles", identity() + ":" + listId).then(function (row) { if (row) { bundles[listId] = row.bundle; } });
    });
  }
  function chooseList(listId) {
    list = null;
    (scanner.lists || []).forEach(function (l) { if (l.id === listId) { list = l; } });
    if (!list) { list = scanner.lists[0] || null; }
    if (!list) { return Promise.resolve(); }
    $("scan-list").value = String(list.id);
    keep("list:" + identity(), String(list.id));
    return loadBundle(list.id).then(function () {
      var bundle = bundles[list.id];
      $("scan-direction-field").hidden = !(bundle && slotMode(bundle.list.rules) === "counted");
    });
  }
  function showSetup(message) {
    $("scan-setup").hidden = false;
    $("scan-station").hidden = true;
    $("setup-text").textContent = message;
    main.setAttribute("data-ready", "true");
  }
  function showStation() {
    var select = $("scan-list");
    select.textContent = "";
    scanner.lists.forEach(function (l) {
      var option = document.createElement("option");
      option.value = String(l.id);
      option.textContent = l.event_name + " — " + l.name;
      select.appendChild(option);
    });
    $("scan-setup").hidden = true;
    $("scan-station").hidden = false;
    $("forget-device").hidden = !token;
    renderStatus();
  }

  // The camera -----------------------------------------------------------------------------------
  var stream = null;
  var detector = null;
  var worker = null;
  var workerCalls = {};
  var workerSeq = 0;
  var canvas = document.createElement("canvas");
  function decoderWorker() {
    if (worker || !DECODER) { return worker; }
    try {
      worker = new Worker("/static/ticketing-scanner-worker.js", {type: "module"});
    } catch (e) { worker = null; return null; }
    worker.onmessage = function (event) {
      var call = workerCalls[event.data.id];
      delete workerCalls[event.data.id];
      if (call) { call(event.data.text || null); }
    };
    worker.onerror = function () {
      Object.keys(workerCalls).forEach(function (id) { workerCalls[id](null); delete workerCalls[id]; });
    };
    return worker;
  }
  function decodeWith(input, transfer) {
    var w = decoderWorker();
    if (!w) { return Promise.resolve(null); }
    return new Promise(function (resolve) {
      var id = ++workerSeq;
      workerCalls[id] = resolve;
      w.postMessage({id: id, input: input}, transfer || []);
    });
  }
  function nativeDetector() {
    if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
    return BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new BarcodeDetector({formats: ["qr_code"]}) : null;
    }).catch(function () { return null; });
  }
  function frame() {
    var video = $("scan-video");
    if (!stream || video.readyState < 2) { return Promise.resolve(null); }
    if (detector) {
      return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; }, function () { return null; });
    }
    var scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    var context = canvas.getContext("2d", {willReadFrequently: true});
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    var image = context.getImageData(0, 0, canvas.width, canvas.height);
    return decodeWith(image, [image.data.buffer]);
  }
  function loop() {
    if (!stream) { return; }
    frame().then(function (value) {
      if (value) { handle(value, "camera"); }
      setTimeout(loop, 70);
    });
  }
  function startCamera() {
    wakeAudio();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("camera-state").textContent = text("camera_failed", {error: "getUserMedia"});
      return Promise.resolve();
    }
    return nativeDetector().then(function (native) {
      detector = native;
      if (!detector && !DECODER) { $("camera-state").textContent = text("no_decoder"); return; }
      return navigator.mediaDevices.getUserMedia({
        audio: false, video: {facingMode: {ideal: "environment"}, width: {ideal: 1280}, height: {ideal: 720}}
      }).then(function (media) {
        stream = media;
        var video = $("scan-video");
        video.srcObject = media;
        video.hidden = false;
        return video.play().catch(function () {});
      }).then(function () {
        $("camera-toggle").textContent = text("camera_stop");
        $("camera-toggle").setAttribute("aria-pressed", "true");
        $("camera-state").textContent = detector ? text("camera_native") : text("camera_wasm");
        main.setAttribute("data-camera", detector ? "native" : "wasm");
        loop();
      }, function (error) {
        $("camera-state").textContent = text("camera_failed", {error: error.name || error.message || error});
      });
    });
  }
  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    $("scan-video").hidden = true;
    $("camera-toggle").textContent = text("camera_start");
    $("camera-toggle").setAttribute("aria-pressed", "false");
    $("camera-state").textContent = "";
    main.removeAttribute("data-camera");
  }

  // Keyboard wedge, typed codes, pictures --------------------------------------------------------
  var wedge = "";
  var wedgeAt = 0;
  document.addEventListener("keydown", function (event) {
    wakeAudio();
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) { return; }
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    var now = Date.now();
    if (now - wedgeAt > WEDGE_GAP_MS) { wedge = ""; }
    wedgeAt = now;
    if (event.key === "Enter") {
      if (wedge.length >= 16) { event.preventDefault(); handle(wedge, "wedge"); }
      wedge = "";
    } else if (event.key.length === 1) {
      wedge += event.key;
    }
  });
  $("manual-form").addEventListener("submit", function (event) {
    event.preventDefault();
    wakeAudio();
    var input = $("manual-code");
    var value = input.value;
    input.value = "";
    handle(value, "manual");
  });
  $("scan-file").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) { return; }
    var decoded = detector ? createImageBitmap(file).then(function (bitmap) {
      return detector.detect(bitmap).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    }) : decodeWith(file);
    decoded.then(function (value) {
      event.target.value = "";
      if (value) { handle(value, "picture"); } else { showError(text("picture_none")); }
    });
  });
  $("camera-toggle").addEventListener("click", function () { if (stream) { stopCamera(); } else { startCamera(); } });
  $("scan-list").addEventListener("change", function (event) { chooseList(parseInt(event.target.value, 10)); });
  $("sync-now").addEventListener("click", function () { wakeAudio(); sync(); });
  $("forget-device").addEventListener("click", function () {
    keep("device", null);
    token = null;
    location.reload();
  });
  document.addEventListener("pointerdown", wakeAudio);
  window.addEventListener("online", function () { sync(); if (list) { loadBundle(list.id); } });
  window.addEventListener("offline", function () { setOnline(false); });

  // Start ----------------------------------------------------------------------------------------
  function takeToken() {
    var match = /(?:^#|&)device=([^&]+)/.exec(location.hash || "");
    if (match) {
      keep("device", decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return kept("device");
  }
  window.PodiumScanner = {  // for the browser tests and bench/scanner_page.py
    readCode: readCode,
    checkLocal: function (value, listId, direction) { return checkLocal(value, listId || (list && list.id), direction || "entry"); },
    handle: handle,
    sync: sync,
    ready: null
  };
  token = takeToken();
  if (token && !/(?:^|;\s*)podium_lang=/.test(document.cookie)) {
    // a device has no language of its own: the API answers in the page's (the language switch's cookie)
    document.cookie = "podium_lang=" + LOCALE + "; path=/; max-age=31536000; samesite=lax";
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/scan/sw.js", {scope: "/scan"}).catch(function () {});
  }
  window.PodiumScanner.ready = openDb().then(function (opened) {
    db = opened;
    lastSync = kept("last-sync:" + identity());
    conflicts = parseInt(kept("conflicts:" + identity()) || "0", 10);
    if (!token && !USER) { showSetup(text("not_enrolled")); return; }
    return loadScanner().then(function (refused) {
      if (!scanner) {
        showSetup(refused === 401 && token ? text("token_refused") : text("not_enrolled"));
        return;
      }
      if (!scanner.lists.length) { showSetup(text("no_lists")); return; }
      showStation();
      return chooseList(parseInt(kept("list:" + identity()) || "0", 10)).then(countQueue).then(function () {
        main.setAttribute("data-ready", "true");
        sync();
        if (token) {  // a device keeps every list it serves, to switch lists without the network
          scanner.lists.slice(0, 10).forEach(function (l) { if (l.id !== list.id) { loadBundle(l.id); } });
        }
      });
    });
  });
  setInterval(function () { sync(); }, SYNC_MS);
  setInterval(function () { if (list && online) { loadBundle(list.id); } }, BUNDLE_MS);
})();
