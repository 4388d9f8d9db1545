// Suggest registered businesses while the citizen types a name; picking one fills entity_id.
(function () {
  "use strict";
  var input = document.querySelector("input[data-entity-search]");
  if (!input) { return; }
  var list = document.getElementById(input.getAttribute("list"));
  var hidden = input.form.querySelector("input[name=entity_id]");
  var found = {};
  var timer = null;
  input.addEventListener("input", function () {
    hidden.value = found[input.value] || "";
    clearTimeout(timer);
    if (input.value.length < 2 || found[input.value]) { return; }
    timer = setTimeout(function () {
      fetch(input.getAttribute("data-entity-search") + "?q=" + encodeURIComponent(input.value), {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (rows) {
          list.textContent = "";
          rows.forEach(function (row) {
            found[row.name] = row.credit_code;
            var option = document.createElement("option");
            option.value = row.name;
            list.appendChild(option);
          });
        });
    }, 250);
  });
})();
