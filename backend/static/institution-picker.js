/* The institution picker with JavaScript: the search box of each [data-institution-picker]
   (backend/templates/institution_picker.html.jinja) becomes a WAI-ARIA combobox over the public
   directory search, filling a hidden field in place of the page's short <select>. */
(function () {
  "use strict";

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function nameOf(item) {
    var zh = document.documentElement.lang.indexOf("zh") === 0;
    var name = zh ? item.name_zh || item.name_en : item.name_en || item.name_zh;
    return name + " · " + item.country;
  }

  function enhance(root) {
    var input = root.querySelector("input[type=search]");
    var select = root.querySelector("select");
    var status = root.querySelector("[aria-live]");
    var label = root.querySelector("label[for='" + input.id + "']");
    var listId = input.id + "-listbox";
    var hidden = document.createElement("input");
    var list = document.createElement("ul");
    var items = [], active = -1, timer = 0, asked = 0, chosenLabel = "";

    hidden.type = "hidden";
    hidden.name = select.name;
    hidden.value = select.value;
    if (select.value) chosenLabel = select.options[select.selectedIndex].text;
    if (!input.value) input.value = chosenLabel;
    root.querySelector(".picker-results").remove();
    root.querySelector(".picker-go").remove();
    root.appendChild(hidden);

    list.id = listId;
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", label.textContent);
    list.hidden = true;
    root.querySelector(".picker-search").insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.children;
      if (!options.length) return;
      active = (index + options.length) % options.length;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var item = items[index];
      if (!item) return;
      hidden.value = String(item.id);
      input.value = chosenLabel = nameOf(item);
      status.textContent = "";
      close();
    }

    function show(found, total) {
      items = found;
      list.textContent = "";
      found.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = nameOf(item);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(i); });
        list.appendChild(option);
      });
      var text = say(root.dataset.count, { count: total });
      if (total > found.length) text += " " + say(root.dataset.more, { shown: found.length });
      if (!total) text += " " + root.dataset.none;
      status.textContent = text;
      active = -1;
      input.removeAttribute("aria-activedescendant");
      list.hidden = !found.length;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
    }

    function search() {
      var query = input.value.trim();
      var ticket = ++asked;
      window.clearTimeout(timer);
      if (!query) { close(); status.textContent = ""; return; }
      fetch(root.dataset.search + "&q=" + encodeURIComponent(query.slice(0, 100)), {
        headers: { accept: "application/json" }, credentials: "same-origin"
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (page) { if (ticket === asked) show(page.items, page.total); })
        .catch(function () { if (ticket === asked) { close(); status.textContent = root.dataset.failed; } });
    }

    input.addEventListener("input", function () {
      if (!input.value.trim()) hidden.value = "";
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { if (items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); } else search(); return; }
        highlight(event.key === "ArrowDown" ? active + 1 : active < 0 ? -1 : active - 1);
      } else if (event.key === "Enter") {
        event.preventDefault();  // the box belongs to the search form, which is not wanted here
        if (!list.hidden && active >= 0) choose(active); else search();
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () {
      close();  // typed but not chosen: the box shows the choice that will be saved again
      if (hidden.value && input.value.trim() !== chosenLabel) input.value = chosenLabel;
    });
  }

  document.querySelectorAll("[data-institution-picker]").forEach(function (root) {
    if (!root.dataset.enhanced) { root.dataset.enhanced = "1"; enhance(root); }
  });
})();
