/* Case page: draw the process with bpmn-js (vendored, offline; pan and zoom with the mouse or touch)
   and mark completed and current elements. */
(function () {
  "use strict";
  var box = document.getElementById("diagram");
  if (!box || typeof BpmnJS === "undefined") { return; }
  var completed = JSON.parse(box.dataset.completed || "[]");
  var current = JSON.parse(box.dataset.current || "[]");
  var viewer = new BpmnJS({ container: box });
  function fail(err) {
    var p = document.createElement("p");
    p.className = "form-errors";
    p.textContent = box.dataset.error + (err && err.message ? " (" + err.message + ")" : "");
    box.appendChild(p);
    box.dataset.state = "error";
  }
  fetch(box.dataset.src, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "wj-done"); } });
      current.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "wj-current"); } });
      canvas.zoom("fit-viewport", "auto");
      var first = current.length ? registry.get(current[0]) : null;
      if (canvas.zoom() < 0.5 && first) {  // a large process: show the current task readable, pan for the rest
        canvas.zoom(0.9);
        canvas.scrollToElement(first);
      }
      box.dataset.state = "ready";
      box.dataset.marked = String(document.querySelectorAll("#diagram .wj-done, #diagram .wj-current").length);
    })
    .catch(fail);
})();
