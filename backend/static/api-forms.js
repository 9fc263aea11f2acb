/* Forms sent to the JSON API, shared by the judging set-up pages (static/judging-setup.js) and the
   workspace tickets page (static/ticketing-tickets.js); load it before the page's own script.
   PodiumApiForms.start({doneKey, csrf}) binds each form marked data-api: it is sent to the API as
   JSON with data-method: an input's name is its path in the body ("criteria[2].name.en"), data-type
   says how to read it (number, int, bool, file: the chosen file's text), an empty field is left out,
   and "{name}" in data-api is filled from that field (kept out of the body). A refusal's messages
   are shown next to their fields (aria-invalid, aria-describedby) and in the form's alert; a success
   reloads the page and says what was done in its status line (kept under doneKey in the session's
   storage across the reload). csrf is the id of the hidden input holding the CSRF token. It returns
   {request: request(method, url, body)} for the page's other calls. */
window.PodiumApiForms = (function () {
  "use strict";

  function start(options) {
    var DONE_KEY = options.doneKey;
    var csrf = document.getElementById(options.csrf);
    var status = document.querySelector("[data-status]");

    function say(text) {
      if (!status || !text) { return; }
      status.textContent = text;
      status.hidden = false;
    }

    var previous = window.sessionStorage.getItem(DONE_KEY);
    if (previous) {
      window.sessionStorage.removeItem(DONE_KEY);
      say(previous);
    }

    function request(method, url, body) {
      var headers = {"Accept": "application/json", "x-podium-csrf": csrf ? csrf.value : ""};
      var init = {method: method, headers: headers, credentials: "same-origin"};
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(url, init).then(function (response) {
        if (response.status === 204) { return {ok: true, status: 204, body: null}; }
        return response.json().then(
          function (data) { return {ok: response.ok, status: response.status, body: data}; },
          function () { return {ok: response.ok, status: response.status, body: null}; }
        );
      });
    }

    // "criteria[2].name.en" -> ["criteria", 2, "name", "en"]
    function pathOf(name) {
      var parts = [];
      name.split(".").forEach(function (piece) {
        var match = /^([^\[]+)((\[\d+\])*)$/.exec(piece);
        if (!match) { parts.push(piece); return; }
        parts.push(match[1]);
        (match[2].match(/\d+/g) || []).forEach(function (n) { parts.push(Number(n)); });
      });
      return parts;
    }

    function put(target, path, value) {
      for (var i = 0; i < path.length - 1; i++) {
        if (target[path[i]] === undefined) { target[path[i]] = typeof path[i + 1] === "number" ? [] : {}; }
        target = target[path[i]];
      }
      target[path[path.length - 1]] = value;
    }

    function valueOf(element) {
      var type = element.getAttribute("data-type");
      if (type === "file") { return element.getAttribute("data-text") || undefined; }
      if (type === "bool") { return element.checked; }
      if (element.value === "") { return undefined; }
      if (type === "number" || type === "int") {
        var number = Number(element.value);
        return isNaN(number) ? element.value : number;
      }
      return element.value;
    }

    function build(form) {
      var body = {};
      var url = form.getAttribute("data-api");
      Array.prototype.forEach.call(form.elements, function (element) {
        if (!element.name || element.disabled || element.type === "submit" || element.type === "button") { return; }
        var value = valueOf(element);
        var placeholder = "{" + element.name + "}";
        if (url.indexOf(placeholder) !== -1) {
          url = url.replace(placeholder, encodeURIComponent(element.value));
          return;
        }
        if (value !== undefined) { put(body, pathOf(element.name), value); }
      });
      return {url: url, body: body};
    }

    function clearErrors(form) {
      form.querySelectorAll(".field-error[data-added]").forEach(function (e) { e.remove(); });
      form.querySelectorAll("[aria-invalid]").forEach(function (e) {
        e.removeAttribute("aria-invalid");
        var described = (e.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
          return id && id.slice(-6) !== "-error";
        });
        if (described.length) { e.setAttribute("aria-describedby", described.join(" ")); } else { e.removeAttribute("aria-describedby"); }
      });
      var box = form.querySelector("[data-errors]");
      if (box) { box.textContent = ""; box.hidden = true; }
    }

    function fieldFor(form, name) {
      var exact = form.querySelector('[name="' + CSS.escape(name) + '"]');
      if (exact) { return exact; }
      var inside = Array.prototype.filter.call(form.elements, function (e) {
        return e.name && e.name.indexOf(name + ".") === 0;
      });
      return inside[0] || null;
    }

    function showErrors(form, body, fallback) {
      var box = form.querySelector("[data-errors]");
      var lines = [];
      var fields = (body && body.fields) || {};
      Object.keys(fields).forEach(function (name) {
        var element = fieldFor(form, name);
        if (!element || !element.id) { lines.push(fields[name]); return; }
        var note = document.createElement("p");
        note.className = "field-error";
        note.id = element.id + "-error";
        note.setAttribute("data-added", "");
        note.textContent = fields[name];
        element.parentNode.insertBefore(note, element);
        element.setAttribute("aria-invalid", "true");
        var described = element.getAttribute("aria-describedby");
        element.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
      });
      var detail = (body && body.detail) || fallback;
      if (box) {
        box.textContent = "";
        var head = document.createElement("p");
        head.textContent = detail;
        box.appendChild(head);
        lines.forEach(function (line) {
          var p = document.createElement("p");
          p.textContent = line;
          box.appendChild(p);
        });
        box.hidden = false;
        box.focus();
      }
    }

    function setup(form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var built = build(form);
        var method = form.getAttribute("data-method") || "POST";
        var hasBody = method !== "DELETE" && form.querySelector("[name]:not([data-path-only])");
        var button = form.querySelector("button[type=submit]");
        if (button) { button.disabled = true; }
        clearErrors(form);
        request(method, built.url, hasBody ? built.body : undefined).then(function (answer) {
          if (button) { button.disabled = false; }
          if (!answer.ok) { showErrors(form, answer.body, String(answer.status)); return; }
          var done = answer.status === 202 ? form.getAttribute("data-invited") : form.getAttribute("data-done");
          window.sessionStorage.setItem(DONE_KEY, done || "");
          window.location.reload();
        }, function (error) {
          if (button) { button.disabled = false; }
          showErrors(form, null, error.message);
        });
      });
    }
    document.querySelectorAll("form[data-api]").forEach(setup);

    // A file input's text is read when chosen, so the form sends it as a string (the CSV import).
    document.querySelectorAll('input[type=file][data-type="file"]').forEach(function (input) {
      input.addEventListener("change", function () {
        input.removeAttribute("data-text");
        var file = input.files && input.files[0];
        if (!file) { return; }
        file.text().then(function (text) { input.setAttribute("data-text", text); });
      });
    });
    return {request: request};
  }

  return {start: start};
}());
