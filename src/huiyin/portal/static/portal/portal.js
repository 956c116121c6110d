/* The portal's progressive enhancements; every page works without them (but the proof of
   work, pow.js). Category filter over the grouped select, the text's character count, the
   anonymous switch, focus on the error summary, and the map pin where a tile server is set. */
(function () {
  "use strict";

  function categoryFilter() {
    var box = document.querySelector("[data-category-search]");
    var select = document.getElementById("id_category");
    if (!box || !select) { return; }
    var input = document.getElementById("category-filter");
    var count = document.getElementById("category-count");
    box.hidden = false;
    var options = Array.prototype.slice.call(select.querySelectorAll("option"));
    function normalize(text) { return (text || "").toLowerCase().replace(/\s+/g, ""); }
    input.addEventListener("input", function () {
      var term = normalize(input.value);
      var shown = 0;
      options.forEach(function (option) {
        if (!option.value) { return; }
        var group = option.parentElement.tagName === "OPTGROUP" ? option.parentElement.label : "";
        var match = !term || normalize(group + option.textContent).indexOf(term) !== -1;
        option.hidden = !match;
        option.disabled = !match && !option.selected;
        if (match) { shown += 1; }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (o) { return !o.hidden; });
      });
      if (!term) { count.textContent = ""; return; }
      count.textContent = shown ? count.dataset.template.replace("{n}", shown) : count.dataset.none;
      if (shown === 1) {
        var only = options.filter(function (o) { return o.value && !o.hidden; })[0];
        if (only) { select.value = only.value; }
      }
    });
  }

  function textCounter() {
    var text = document.getElementById("id_text");
    var count = document.getElementById("text-count");
    if (!text || !count) { return; }
    var limit = parseInt(count.dataset.limit, 10);
    function update() {
      var n = Array.from(text.value.trim()).length;
      count.textContent = n > limit
        ? count.dataset.over.replace("{over}", n - limit)
        : count.dataset.template.replace("{n}", n).replace("{max}", limit);
      count.classList.toggle("text-danger-emphasis", n > limit);
    }
    text.addEventListener("input", update);
    update();
  }

  function anonymousSwitch() {
    var box = document.getElementById("id_anonymous");
    var name = document.getElementById("id_name");
    if (!box || !name) { return; }
    function update() { name.disabled = box.checked; }
    box.addEventListener("change", update);
    update();
  }

  function errorFocus() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  }

  /* A plain slippy map: 3x3 OpenStreetMap-style tiles around the centre, a click drops a pin. */
  function map() {
    var holder = document.querySelector("[data-map]");
    if (!holder) { return; }
    var view = holder.querySelector(".portal-map");
    var state = holder.querySelector("[data-map-state]");
    var lat = document.getElementById("id_latitude");
    var lng = document.getElementById("id_longitude");
    var zoom = parseInt(holder.dataset.zoom, 10) || 15;
    var size = 256;
    function toPixel(la, ln) {
      var scale = size * Math.pow(2, zoom);
      var s = Math.sin(la * Math.PI / 180);
      return { x: (ln + 180) / 360 * scale, y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale };
    }
    function toLatLng(x, y) {
      var scale = size * Math.pow(2, zoom);
      var n = Math.PI - 2 * Math.PI * y / scale;
      return { lat: 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))), lng: x / scale * 360 - 180 };
    }
    var centre = toPixel(parseFloat(lat.value || holder.dataset.lat), parseFloat(lng.value || holder.dataset.lng));
    var pin = document.createElement("div");
    pin.className = "portal-pin";
    pin.hidden = true;
    function draw() {
      view.textContent = "";
      var width = view.clientWidth, height = view.clientHeight;
      var left = centre.x - width / 2, top = centre.y - height / 2;
      for (var tx = Math.floor(left / size); tx <= Math.floor((left + width) / size); tx++) {
        for (var ty = Math.floor(top / size); ty <= Math.floor((top + height) / size); ty++) {
          var img = document.createElement("img");
          img.alt = "";
          img.className = "portal-tile";
          img.src = holder.dataset.tiles.replace("{z}", zoom).replace("{x}", tx).replace("{y}", ty);
          img.style.left = (tx * size - left) + "px";
          img.style.top = (ty * size - top) + "px";
          view.appendChild(img);
        }
      }
      if (lat.value && lng.value) {
        var p = toPixel(parseFloat(lat.value), parseFloat(lng.value));
        pin.style.left = (p.x - left) + "px";
        pin.style.top = (p.y - top) + "px";
        pin.hidden = false;
      } else {
        pin.hidden = true;
      }
      view.appendChild(pin);
    }
    view.addEventListener("click", function (event) {
      var box = view.getBoundingClientRect();
      var at = toLatLng(centre.x - box.width / 2 + event.clientX - box.left, centre.y - box.height / 2 + event.clientY - box.top);
      lat.value = at.lat.toFixed(6);
      lng.value = at.lng.toFixed(6);
      state.textContent = holder.dataset.pinned;
      draw();
    });
    var moves = { up: [0, -128], down: [0, 128], left: [-128, 0], right: [128, 0] };
    Array.prototype.forEach.call(holder.querySelectorAll("[data-map-pan]"), function (button) {
      button.addEventListener("click", function () {
        var move = moves[button.dataset.mapPan];
        centre = { x: centre.x + move[0], y: centre.y + move[1] };
        draw();
      });
    });
    holder.querySelector("[data-map-clear]").addEventListener("click", function () {
      lat.value = "";
      lng.value = "";
      state.textContent = holder.dataset.cleared;
      draw();
    });
    draw();
  }

  document.addEventListener("DOMContentLoaded", function () {
    categoryFilter();
    textCounter();
    anonymousSwitch();
    errorFocus();
    map();
  });
})();
