/* Upload progress for the team's materials (backend/templates/teams/team.html.jinja).
   Without this script the forms post as usual; with it, each form marked data-upload sends its
   file with XMLHttpRequest and shows the progress in its <progress> and its live text. The answer
   is the page the server redirects to (followed by the browser): on success it is loaded; on a
   refusal, the message shown next to the file input in the answer is put next to this one. */
(function () {
  "use strict";
  function setup(form) {
    var bar = form.querySelector("progress");
    var text = form.querySelector("[data-progress-text]");
    var input = form.querySelector("input[type=file]");
    var error = document.getElementById(input.id + "-error");
    var button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function (event) {
      if (!input.files || !input.files.length) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "text/html");
      bar.hidden = false;
      bar.value = 0;
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      button.disabled = true;
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.floor((e.loaded / e.total) * 100);
        bar.value = percent;
        text.textContent = percent + " %";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400) {
          window.location.assign(xhr.responseURL || window.location.href);
          return;
        }
        var answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var found = answer.getElementById(error.id) || answer.querySelector(".error-summary, .error");
        error.textContent = found ? found.textContent.trim() : xhr.statusText;
        input.setAttribute("aria-invalid", "true");
        bar.hidden = true;
        text.textContent = "";
        button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        error.textContent = form.getAttribute("data-network-error") || "";
        bar.hidden = true;
        button.disabled = false;
      });
      xhr.send(new FormData(form));
    });
  }
  var forms = document.querySelectorAll("form[data-upload]");
  for (var i = 0; i < forms.length; i++) { setup(forms[i]); }
})();
