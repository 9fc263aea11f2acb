/* The judging set-up page (backend/templates/judging/setup/stage.html.jinja).
   Each form marked data-api is sent to the API by static/api-forms.js (loaded before this file).
   The rubric editor adds and removes criteria (renumbering their fields); a judge's "Sign in a
   tablet" button asks for a one-time code and shows its QR code in a dialog. */
(function () {
  "use strict";
  var request = window.PodiumApiForms.start({doneKey: "judging-setup-done", csrf: "setup-csrf"}).request;

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
