/* The judging set-up page (backend/templates/judging/setup/stage.html.jinja).
   Each form marked data-api is sent to the API as JSON with data-method: an input's name is its
   path in the body ("criteria[2].name.en"), data-type says how to read it (number, int, bool), an
   empty field is left out, and "{name}" in data-api is filled from that field (kept out of the body).
   A refusal's messages are shown next to their fields (aria-invalid, aria-describedby) and in the
   form's alert; a success reloads the page and says what was done in its status line.
   The rubric editor adds and removes criteria (renumbering their fields); a judge's "Sign in a
   tablet" button asks for a one-time code and shows its QR code in a dialog. */
(function () {
  "use strict";
  var DONE_KEY = "judging-setup-done";
  var csrf = document.getElementById("setup-csrf");
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

  // The rubric editor -------------------------------------------------------------------------
  var rubric = document.querySelector("form[data-rubric]");
  if (rubric) {
    var list = rubric.querySelector("[data-criteria]");
    var template = document.getElementById("criterion-template");
    var renumber = function () {
      var rows = list.querySelectorAll("[data-criterion]");
      rows.forEach(function (row, i) {
        row.querySelector("[data-number]").textContent = String(i + 1);
        row.querySelectorAll("[data-field]").forEach(function (input) {
          var field = input.getAttribute("data-field");
          input.name = "criteria[" + i + "]." + field;
          input.id = "criterion-" + i + "-" + field.replace(".", "-");
          var label = row.querySelector('label[data-for="' + field + '"]');
          if (label) { label.htmlFor = input.id; }
        });
        var remove = row.querySelector("[data-remove-criterion]");
        if (remove) { remove.disabled = rows.length === 1; }
      });
    };
    renumber();
    list.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove-criterion]");
      if (!remove) { return; }
      var row = remove.closest("[data-criterion]");
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      if (next) { next.querySelector("[data-field]").focus(); }
    });
    var add = rubric.querySelector("[data-add-criterion]");
    if (add) {
      add.addEventListener("click", function () {
        if (list.querySelectorAll("[data-criterion]").length >= 20) { return; }
        list.appendChild(template.content.cloneNode(true));
        renumber();
        var rows = list.querySelectorAll("[data-criterion]");
        rows[rows.length - 1].querySelector("[data-field]").focus();
      });
    }
  }

  // Tablet sign-in: a one-time code, shown as a QR code in a dialog ---------------------------
  var dialog = document.getElementById("tablet-dialog");
  document.querySelectorAll("[data-tablet]").forEach(function (button) {
    button.addEventListener("click", function () {
      var qr = dialog.querySelector("[data-tablet-qr]");
      var link = dialog.querySelector("[data-tablet-url]");
      var error = dialog.querySelector("[data-tablet-error]");
      dialog.querySelector("[data-tablet-judge]").textContent = button.getAttribute("data-judge");
      qr.innerHTML = "";
      link.textContent = "";
      link.removeAttribute("href");
      error.textContent = "";
      button.disabled = true;
      request("POST", button.getAttribute("data-tablet")).then(function (answer) {
        button.disabled = false;
        if (answer.ok) {
          // the SVG is the server's own drawing of the link (no user text in it)
          qr.innerHTML = answer.body.qr_svg.replace(/<\?xml[^>]*\?>/, "");
          var svg = qr.querySelector("svg");
          if (svg) { svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false"); }
          link.textContent = answer.body.url;
          link.href = answer.body.url;
        } else {
          error.textContent = (answer.body && answer.body.detail) || String(answer.status);
        }
        dialog.showModal();
      }, function (failure) {
        button.disabled = false;
        error.textContent = failure.message;
        dialog.showModal();
      });
    });
  });
})();
