/* Case page: draw the process with bpmn-js (vendored, offline) and mark completed and current elements.

   The whole process is fitted into the frame on load: nothing is cropped, whatever the width.
   A penalty process is 12,000 px wide, so fitted it is a map, not text: the buttons (+, −, fit,
   current step) zoom, and a zoomed diagram is made as large as its content inside a scrolling
   frame, so it pans with the frame's scroll bars, a finger on a phone (bpmn-js has no touch
   support) or the arrow keys once the frame has the focus; a mouse can still drag it. */
(function () {
  "use strict";
  var box = document.getElementById("diagram");
  if (!box || typeof BpmnJS === "undefined") { return; }
  var frame = box.parentElement;
  var completed = JSON.parse(box.dataset.completed || "[]");
  var current = JSON.parse(box.dataset.current || "[]");
  var PAD = 20, STEP = 1.6, MAX_ZOOM = 2, MIN_HEIGHT = 224, MAX_HEIGHT = 560;  // px
  // no wheel zoom: the wheel scrolls the page (and the frame), as everywhere else on the page
  var viewer = new BpmnJS({ container: box, zoomScroll: { enabled: false } });
  box.viewer = viewer;  // for the browser tests
  var canvas, content, zoom = 1;

  function fail(err) {
    var p = document.createElement("p");
    p.className = "form-errors";
    p.textContent = box.dataset.error + (err && err.message ? " (" + err.message + ")" : "");
    box.appendChild(p);
    box.dataset.state = "error";
  }

  function fitZoom() {
    return Math.min(frame.clientWidth / (content.width + 2 * PAD), frame.clientHeight / (content.height + 2 * PAD));
  }

  /* Show the content at ``scale`` with the diagram-space point (cx, cy) in the middle of the frame. */
  function show(scale, cx, cy) {
    zoom = Math.max(fitZoom(), Math.min(MAX_ZOOM, scale));
    var width = Math.max(frame.clientWidth, Math.ceil((content.width + 2 * PAD) * zoom));
    var height = Math.max(frame.clientHeight, Math.ceil((content.height + 2 * PAD) * zoom));
    box.style.width = width + "px";
    box.style.height = height + "px";
    canvas.resized();
    canvas.viewbox({ x: content.x - PAD, y: content.y - PAD, width: width / zoom, height: height / zoom });
    frame.scrollLeft = (cx - content.x + PAD) * zoom - frame.clientWidth / 2;
    frame.scrollTop = (cy - content.y + PAD) * zoom - frame.clientHeight / 2;
    box.dataset.zoom = zoom.toFixed(3);
  }

  function centre() {  // the diagram-space point in the middle of the frame now
    var vb = canvas.viewbox();
    return [vb.x + (frame.scrollLeft + frame.clientWidth / 2) / vb.scale,
            vb.y + (frame.scrollTop + frame.clientHeight / 2) / vb.scale];
  }

  function measure() {  // the drawn content's box in diagram units (labels included: fonts must be loaded)
    var inner = canvas.viewbox().inner;
    content = { x: inner.x, y: inner.y, width: Math.max(inner.width, 1), height: Math.max(inner.height, 1) };
  }

  function fit() {
    measure();
    show(fitZoom(), content.x + content.width / 2, content.y + content.height / 2);
  }

  function toCurrent() {
    var registry = viewer.get("elementRegistry");
    var el = current.map(function (id) { return registry.get(id); }).filter(Boolean)[0];
    if (el) { show(1, el.x + el.width / 2, el.y + el.height / 2); }
  }

  function named(registry) {  // a tooltip with the element's name: readable even when fitted small
    registry.getAll().forEach(function (el) {
      var name = el.businessObject && el.businessObject.name;
      var gfx = registry.getGraphics(el);
      if (!name || !gfx || el.type === "label") { return; }
      var title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = name;
      gfx.insertBefore(title, gfx.firstChild);
    });
  }

  fetch(box.dataset.src, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () { return document.fonts ? document.fonts.ready : null; })  // label widths settle
    .then(function () {
      canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "wj-done"); } });
      current.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "wj-current"); } });
      named(registry);
      measure();
      // as tall as the fitted process needs, between a readable minimum and most of the screen
      var wanted = (content.height + 2 * PAD) / (content.width + 2 * PAD) * frame.clientWidth;
      var tallest = Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, window.innerHeight * 0.7));
      frame.style.height = Math.round(Math.max(MIN_HEIGHT, Math.min(tallest, wanted))) + "px";
      fit();
      document.querySelectorAll("[data-zoom]").forEach(function (button) {
        button.disabled = false;
        button.addEventListener("click", function () {
          var how = button.dataset.zoom, c = centre();
          if (how === "in") { show(zoom * STEP, c[0], c[1]); }
          else if (how === "out") { show(zoom / STEP, c[0], c[1]); }
          else if (how === "current") { toCurrent(); }
          else { fit(); }
        });
      });
      var refit = null;
      window.addEventListener("resize", function () {  // a phone turned: fit again if it was fitted
        clearTimeout(refit);
        refit = setTimeout(function () { if (zoom <= fitZoom() * 1.01 || box.clientWidth < frame.clientWidth) { fit(); } }, 150);
      });
      box.dataset.state = "ready";
      box.dataset.marked = String(document.querySelectorAll("#diagram .wj-done, #diagram .wj-current").length);
    })
    .catch(fail);
})();
