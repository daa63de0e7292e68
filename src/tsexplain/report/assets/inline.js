// tsexplain inline view: series coloured by attribution, drawn as SVG from one JSON block.
// Self-contained: no library, nothing fetched. User strings reach the DOM via textContent.
(function (root) {
  "use strict";
  var D = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var W = 760, H = 96, PAD = 4;
  var items = D.items, classes = D.classes || [], stops = D.stops;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function cls(k) { return k === null || k === undefined ? "?" : (classes[k] !== undefined ? classes[k] : String(k)); }
  function fmt(v) { return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(+v.toPrecision(3)); }

  // the colour of a value in [-1, 1] (signed) or [0, 1] (absolute)
  var absolute = !D.signed;
  function colourIndex(u) {
    var s = absolute ? Math.abs(u) : (u + 1) / 2;
    s = Math.max(0, Math.min(1, s));
    return Math.round(s * (stopsNow().length - 1));
  }
  function stopsNow() { return absolute ? stops.absolute : stops.signed; }

  // ---- controls
  var head = el("div", "tsx-head");
  var filter = el("select", "tsx-filter"); filter.setAttribute("aria-label", "which " + D.noun + "s");
  var picker = el("select", "tsx-pick"); picker.setAttribute("aria-label", D.noun);
  var prev = el("button", "tsx-step", "\u2039"), next = el("button", "tsx-step", "\u203a");
  prev.title = "previous " + D.noun; next.title = "next " + D.noun;
  head.appendChild(el("b", "tsx-title", D.title));
  if (items.length > 1) {
    if (D.filters.length > 1) head.appendChild(filter);
    head.appendChild(prev); head.appendChild(picker); head.appendChild(next);
  }
  var absBox = null;
  if (D.signed) {
    var lab = el("label", "tsx-abs"); absBox = el("input"); absBox.type = "checkbox";
    absBox.checked = absolute; lab.appendChild(absBox); lab.appendChild(document.createTextNode(" |attribution|"));
    head.appendChild(lab);
  }
  var caption = el("div", "tsx-caption");
  var body = el("div", "tsx-body");
  var plots = el("div", "tsx-plots"), side = el("div", "tsx-side");
  body.appendChild(plots); body.appendChild(side);
  var foot = el("div", "tsx-foot");
  var mount = root.querySelector(".tsx-mount");
  mount.appendChild(head); mount.appendChild(caption); mount.appendChild(body); mount.appendChild(foot);

  D.filters.forEach(function (f, i) {
    var o = el("option", null, f.label + " (" + f.members.length + ")"); o.value = i; filter.appendChild(o);
  });
  var current = D.start;

  function fillPicker() {
    var members = D.filters[+filter.value || 0].members;
    picker.textContent = "";
    members.forEach(function (j) {
      var o = el("option", null, items[j].label); o.value = j; picker.appendChild(o);
    });
    if (members.indexOf(current) < 0 && members.length) current = members[0];
    picker.value = current;
  }

  // ---- one channel: the line in colour bins, the band, the shaded truth
  function channelPlot(item, c, row) {
    var x = item.x[c], n = x.length;
    var lo = item.lo ? item.lo[c] : null, hi = item.hi ? item.hi[c] : null;
    var vmin = Infinity, vmax = -Infinity;
    [x, lo, hi].forEach(function (arr) {
      if (!arr) return;
      for (var t = 0; t < n; t++) if (arr[t] !== null) { vmin = Math.min(vmin, arr[t]); vmax = Math.max(vmax, arr[t]); }
    });
    if (!isFinite(vmin)) { vmin = 0; vmax = 1; }
    if (vmax === vmin) { vmin -= 1; vmax += 1; }
    var sx = function (t) { return n > 1 ? PAD + t * (W - 2 * PAD) / (n - 1) : W / 2; };
    var sy = function (v) { return H - PAD - (v - vmin) * (H - 2 * PAD) / (vmax - vmin); };
    var svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", "class": "tsx-svg" });
    (item.mask && item.mask[c] || []).forEach(function (iv) {
      var a = sx(Math.max(iv[0] - 0.5, 0)), b = sx(Math.min(iv[1] - 0.5, n - 1));
      svg.appendChild(svgEl("rect", { x: a, y: 0, width: Math.max(b - a, 2), height: H, "class": "tsx-truth" }));
    });
    if (lo && hi) {
      var up = "", down = "";
      for (var t = 0; t < n; t++) {
        if (lo[t] === null || hi[t] === null) continue;
        up += (up ? "L" : "M") + sx(t).toFixed(1) + " " + sy(hi[t]).toFixed(1);
        down = "L" + sx(t).toFixed(1) + " " + sy(lo[t]).toFixed(1) + down;
      }
      if (up) svg.appendChild(svgEl("path", { d: up + down + "Z", "class": "tsx-band" }));
    }
    var s = stopsNow(), paths = new Array(s.length).fill("");
    for (var t = 0; t + 1 < n; t++) {
      if (x[t] === null || x[t + 1] === null) continue;
      var v = row ? row[t] : null;
      var k = v === null || v === undefined ? -1 : colourIndex(v / D.units);
      var seg = "M" + sx(t).toFixed(1) + " " + sy(x[t]).toFixed(1) + "L" + sx(t + 1).toFixed(1) + " " + sy(x[t + 1]).toFixed(1);
      if (k < 0) paths.plain = (paths.plain || "") + seg; else paths[k] += seg;
    }
    if (paths.plain) svg.appendChild(svgEl("path", { d: paths.plain, stroke: "#555", "class": "tsx-line" }));
    for (var b = 0; b < s.length; b++) if (paths[b]) svg.appendChild(svgEl("path", { d: paths[b], stroke: s[b], "class": "tsx-line" }));
    if (n === 1 && x[0] !== null) svg.appendChild(svgEl("circle", { cx: sx(0), cy: sy(x[0]), r: 3, fill: s[row ? colourIndex(row[0] / D.units) : 0] }));
    var box = el("div", "tsx-channel");
    var name = el("div", "tsx-name", D.channels[c] !== undefined ? D.channels[c] : "ch" + c);
    var range = el("span", "tsx-range", " " + fmt(vmin) + " \u2026 " + fmt(vmax));
    name.appendChild(range);
    box.appendChild(name); box.appendChild(svg);
    return box;
  }

  function colourBar() {
    var s = stopsNow(), bar = el("div", "tsx-bar");
    var grad = el("div", "tsx-grad");
    grad.style.background = "linear-gradient(to right," + s.join(",") + ")";
    var lo = absolute ? "0" : "\u2212" + fmt(D.vmax);
    bar.appendChild(el("span", null, lo)); bar.appendChild(grad); bar.appendChild(el("span", null, fmt(D.vmax)));
    bar.appendChild(el("span", "tsx-what", " " + D.colour_label + (absolute && D.signed ? " (magnitude)" : "")));
    return bar;
  }

  function probabilities(item) {
    var box = el("div", "tsx-proba");
    box.appendChild(el("div", "tsx-name", "class probabilities"));
    item.proba.forEach(function (p, k) {
      var r = el("div", "tsx-prow");
      var label = el("span", "tsx-plabel", cls(k));
      if (k === item.pred) label.className += " tsx-predicted";
      if (k === item.true) label.className += " tsx-true";
      var track = el("span", "tsx-track"), fill = el("span", "tsx-fill");
      fill.style.width = (100 * Math.max(0, Math.min(1, p))).toFixed(1) + "%";
      if (k === item.pred) fill.className += " tsx-predicted";
      track.appendChild(fill);
      r.appendChild(label); r.appendChild(track); r.appendChild(el("span", "tsx-pval", p.toFixed(3)));
      box.appendChild(r);
    });
    var key = el("div", "tsx-key", "bold: predicted" + (item.true !== null && item.true !== undefined ? "; underlined: true class" : ""));
    box.appendChild(key);
    return box;
  }

  function draw() {
    var item = items[current];
    caption.textContent = item.caption;
    plots.textContent = ""; side.textContent = "";
    for (var c = 0; c < item.x.length; c++) {
      var row = item.a ? (item.a.length === 1 ? item.a[0] : item.a[c]) : null;
      plots.appendChild(channelPlot(item, c, row));
    }
    if (item.a) plots.appendChild(colourBar());
    if (item.proba) side.appendChild(probabilities(item));
    (item.facts || []).forEach(function (f) { side.appendChild(el("div", "tsx-fact", f)); });
    var marked = (item.mask || []).some(function (runs) { return runs.length > 0; });
    if (marked) side.appendChild(el("div", "tsx-key tsx-truthkey", "shaded: true region"));
    picker.value = current;
  }

  filter.addEventListener("change", function () { fillPicker(); draw(); });
  picker.addEventListener("change", function () { current = +picker.value; draw(); });
  function step(d) {
    var members = D.filters[+filter.value || 0].members, at = members.indexOf(current);
    if (!members.length) return;
    current = members[(at + d + members.length) % members.length]; draw();
  }
  prev.addEventListener("click", function () { step(-1); });
  next.addEventListener("click", function () { step(1); });
  if (absBox) absBox.addEventListener("change", function () { absolute = absBox.checked; draw(); });
  foot.textContent = D.note;
  fillPicker(); draw();
  root.setAttribute("data-ready", "1");
})(document.getElementById("__TSX_ID__"));
