/* Searchable pickers: a search box above each person, unit or entity picker of a form
   (forms/templates/forms/macros.html marks them with data-picker, web/pickers.py gives each option
   data-name, data-initials and data-codes; an option without them is found by its text).

   Typing filters the choices: the name contains the text, or the pinyin initials start with it
   (zw for 张伟), or a login name, certificate number or credit code contains it. The form itself is
   unchanged: the same <select>, checkboxes or text input post the same values, with or without this
   script. Keys in the search box: Enter chooses the first match (a select) and moves to the picker,
   ArrowDown moves to the picker, Escape clears the search. A chosen option never hides. */
(function () {
  "use strict";

  function matches(el, query) {
    if (!query) { return true; }
    if (!el.hasAttribute("data-name")) {  // an option without search data: its text (name and login)
      return el.textContent.toLowerCase().indexOf(query) !== -1;
    }
    var name = (el.getAttribute("data-name") || "").toLowerCase();
    if (name.indexOf(query) !== -1) { return true; }
    var initials = (el.getAttribute("data-initials") || "").split(" ");
    for (var i = 0; i < initials.length; i++) {
      if (initials[i] && initials[i].indexOf(query) === 0) { return true; }
    }
    return (el.getAttribute("data-codes") || "").toLowerCase().indexOf(query) !== -1;
  }

  // the search box (and its status line) for `control`, placed before `before`
  function searchBox(control, before, onQuery, onKey) {
    var box = document.createElement("input");
    box.setAttribute("autocomplete", "off");
    box.setAttribute("enterkeyhint", "search");
    box.className = "picker-search";
    box.setAttribute("aria-label", control.getAttribute("data-picker"));
    box.placeholder = control.getAttribute("data-picker-placeholder") || "";
    box.id = (control.id || control.closest(".field").id) + "-search";
    var status = document.createElement("span");
    status.className = "picker-status muted";
    status.setAttribute("role", "status");
    status.id = box.id + "-status";
    box.setAttribute("aria-describedby", status.id);
    box.addEventListener("input", function () {
      var shown = onQuery(box.value.trim().toLowerCase());
      status.textContent = shown === 0 ? (control.getAttribute("data-picker-none") || "") : "";
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && box.value) {
        box.value = "";
        onQuery("");
        status.textContent = "";
        event.preventDefault();
      } else if (onKey(event)) {
        event.preventDefault();
      }
    });
    before.parentNode.insertBefore(box, before);
    before.parentNode.insertBefore(status, before);
    control.setAttribute("data-picker-ready", "1");
    return box;
  }

  function enhanceSelect(select) {
    function visible() {
      return Array.prototype.filter.call(select.options, function (o) { return o.value && !o.hidden; });
    }
    // a select wrapped in its label (filter forms): the box goes before the label, which keeps naming the select
    var before = select.parentNode.tagName === "LABEL" ? select.parentNode : select;
    searchBox(select, before, function (query) {
      var shown = 0;
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { return; }  // (nobody) / Please choose stays
        var show = option.selected || matches(option, query);
        option.hidden = !show;
        if (show && !option.selected) { shown += 1; }
      });
      return query ? shown : -1;
    }, function (event) {
      if (event.key === "Enter") {  // the first option that matches, not the chosen one kept in view
        var query = event.target.value.trim().toLowerCase();
        var first = visible().filter(function (o) { return matches(o, query); })[0];
        if (first) {
          select.value = first.value;
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
        select.focus();
        return true;
      }
      if (event.key === "ArrowDown") { select.focus(); return true; }
      return false;
    });
  }

  function enhanceChecks(fieldset) {
    var labels = fieldset.querySelectorAll("label.check[data-name]");
    var legend = fieldset.querySelector("legend");
    var box = searchBox(fieldset, legend, function (query) {
      var shown = 0;
      Array.prototype.forEach.call(labels, function (label) {
        var checked = label.querySelector("input").checked;
        var show = checked || matches(label, query);
        label.hidden = !show;
        if (show && !checked) { shown += 1; }
      });
      return query ? shown : -1;
    }, function (event) {
      if (event.key === "Enter" || event.key === "ArrowDown") {
        var first = fieldset.querySelector("label.check:not([hidden]) input");
        if (first) { first.focus(); }
        return true;
      }
      return false;
    });
    fieldset.insertBefore(legend, box);  // the legend stays the group's first child, the box after it
  }

  function enhanceEntity(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    var choices = document.createElement("select");
    choices.id = input.id + "-matches";
    choices.className = "picker-matches";
    choices.setAttribute("aria-label", input.getAttribute("data-picker-matches") || "");
    choices.size = 5;
    choices.hidden = true;
    function fill(query) {
      choices.textContent = "";
      Array.prototype.forEach.call(list.options, function (option) {
        if (matches(option, query)) {
          var copy = document.createElement("option");
          copy.value = option.value;
          copy.textContent = option.textContent;
          choices.appendChild(copy);
        }
      });
      choices.hidden = !query || choices.options.length === 0;
      return choices.options.length;
    }
    function choose() {
      if (choices.value) {
        input.value = choices.value;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        choices.hidden = true;
        input.focus();
      }
    }
    choices.addEventListener("click", choose);
    choices.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { choose(); event.preventDefault(); }
    });
    var box = searchBox(input, input, function (query) { return query ? fill(query) : (fill(""), -1); },
      function (event) {
        if ((event.key === "Enter" || event.key === "ArrowDown") && !choices.hidden) {
          if (event.key === "Enter" && choices.options.length === 1) {
            choices.selectedIndex = 0;
            choose();
          } else {
            choices.selectedIndex = 0;
            choices.focus();
          }
          return true;
        }
        return event.key === "Enter";  // Enter in the search box never submits the form
      });
    input.parentNode.insertBefore(choices, input);
    return box;
  }

  document.querySelectorAll("[data-picker]:not([data-picker-ready])").forEach(function (control) {
    if (control.tagName === "SELECT") {
      enhanceSelect(control);
    } else if (control.tagName === "FIELDSET") {
      if (control.querySelector("label.check[data-name]")) { enhanceChecks(control); }
    } else if (control.tagName === "INPUT") {
      enhanceEntity(control);
    }
  });
}());
