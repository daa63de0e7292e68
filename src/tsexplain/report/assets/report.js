/* tsexplain report: the interactive views, built from the page's JSON block.
 *
 * Every user string (class, channel, method, data set and case names) reaches the DOM through
 * textContent only, never innerHTML; strings handed to Plotly, which reads a few HTML tags and
 * entities in its labels, go through plotlyText first.
 */
(function () {
  "use strict";

  const D = JSON.parse(document.getElementById("tsx-data").textContent);
  const CLASSES = D.classes;
  const CHANNELS = D.channels;
  const IDS = D.case_ids;
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  // ------------------------------------------------------------------ helpers
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function plotlyText(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // Axis titles have little room: long names are cut (the full name is in the hover text).
  function short(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n - 1) + "\u2026" : s;
  }

  function fmt(v, digits) {
    return v === null || v === undefined ? "\u2013" : Number(v).toFixed(digits);
  }

  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"];
    const v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function axisName(prefix, k) {
    return k === 0 ? prefix : prefix + (k + 1);
  }

  // ------------------------------------------------------------------ training curves
  function drawTraining(T) {
    const div = document.getElementById("tsx-training-plot");
    if (!div) return;
    const n = (T.loss || T.val_loss || []).length;
    const epochs = T.epoch || Array.from({ length: n }, (_, i) => i + 1);
    const traces = [];
    const panels = [
      ["loss", "val_loss", "x", "y"],
      ["accuracy", "val_accuracy", "x2", "y2"],
    ];
    panels.forEach(([train, val, xa, ya], k) => {
      const common = { x: epochs, xaxis: xa, yaxis: ya, mode: "lines+markers", showlegend: k === 0 };
      if (T[train]) traces.push(Object.assign({ y: T[train], name: "training", legendgroup: "training", line: { color: "#1f77b4" } }, common));
      if (T[val]) traces.push(Object.assign({ y: T[val], name: "validation", legendgroup: "validation", line: { color: "#ff7f0e", dash: "dot" } }, common));
    });
    const shapes = [];
    const notes = [];
    if (T.best_epoch) {
      for (const [xa, ya] of [["x", "y"], ["x2", "y2"]]) {
        shapes.push({ type: "line", xref: xa, yref: ya + " domain", x0: T.best_epoch, x1: T.best_epoch, y0: 0, y1: 1, line: { color: "#888", dash: "dash", width: 1 } });
        notes.push({ xref: xa, yref: ya + " domain", x: T.best_epoch, y: 1, text: "kept", showarrow: false, xanchor: "right", yanchor: "top", font: { size: 11, color: "#666" } });
      }
    }
    const tick = Math.max(1, Math.ceil(epochs.length / 12));
    const layout = {
      height: 320,
      margin: { l: 60, r: 20, t: 30, b: 50 },
      xaxis: { domain: [0, 0.44], title: { text: "epoch" }, anchor: "y", dtick: tick },
      xaxis2: { domain: [0.56, 1], title: { text: "epoch" }, anchor: "y2", dtick: tick },
      yaxis: { title: { text: "loss" }, anchor: "x" },
      yaxis2: { title: { text: "accuracy" }, anchor: "x2" },
      legend: { orientation: "h", y: 1.12, x: 0 },
      shapes: shapes,
      annotations: notes,
    };
    Plotly.newPlot(div, traces, layout, CONFIG);
  }

  // ------------------------------------------------------------------ case browser
  function CaseBrowser(S) {
    const cases = S.cases;
    const methods = S.methods;
    const ids = IDS;
    const posOf = new Map(cases.index.map((idx, pos) => [idx, pos]));
    const state = { pos: 0, method: 0, filter: "all", ownScale: false };
    const sel = {
      filter: document.getElementById("tsx-filter"),
      cases: document.getElementById("tsx-case"),
      method: document.getElementById("tsx-method"),
      prev: document.getElementById("tsx-prev"),
      next: document.getElementById("tsx-next"),
      own: document.getElementById("tsx-own-scale"),
    };
    const plot = document.getElementById("tsx-case-plot");
    const info = document.getElementById("tsx-case-info");

    function label(pos) {
      const idx = cases.index[pos];
      const truth = cases.y === null ? "" : " \u00b7 true " + CLASSES[cases.y[pos]];
      return "case " + ids[idx] + truth + " \u00b7 predicted " + CLASSES[cases.pred[pos]];
    }

    function included(pos) {
      const f = state.filter;
      if (f === "all") return true;
      if (f === "wrong") return cases.y[pos] !== cases.pred[pos];
      if (f.startsWith("true:")) return cases.y[pos] === Number(f.slice(5));
      if (f.startsWith("pred:")) return cases.pred[pos] === Number(f.slice(5));
      return true;
    }

    function fillFilter() {
      const counts = CLASSES.map(() => 0);
      const add = (value, text) => { const o = el("option", "", text); o.value = value; sel.filter.appendChild(o); };
      add("all", "all cases in this page (" + cases.pred.length + ")");
      if (cases.y === null) {  // unlabelled data: by predicted class
        cases.pred.forEach((p) => { counts[p] += 1; });
        CLASSES.forEach((name, k) => { if (counts[k]) add("pred:" + k, "predicted " + name + " (" + counts[k] + ")"); });
        return;
      }
      let wrong = 0;
      cases.y.forEach((t, pos) => { counts[t] += 1; if (t !== cases.pred[pos]) wrong += 1; });
      add("wrong", "misclassified (" + wrong + ")");
      CLASSES.forEach((name, k) => { if (counts[k]) add("true:" + k, "true class " + name + " (" + counts[k] + ")"); });
    }

    function fillCases() {
      sel.cases.replaceChildren();
      const shown = [];
      for (let pos = 0; pos < cases.index.length; pos++) {
        if (!included(pos)) continue;
        const o = el("option", "", label(pos));
        o.value = String(pos);
        sel.cases.appendChild(o);
        shown.push(pos);
      }
      if (shown.length && !shown.includes(state.pos)) state.pos = shown[0];
      sel.cases.value = String(state.pos);
      return shown;
    }

    function fillMethods() {
      methods.forEach((m, k) => { const o = el("option", "", m.name); o.value = String(k); sel.method.appendChild(o); });
    }

    function colourScale(signed) {
      return signed
        ? [[0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#e6e6e6"], [0.75, "#f4a582"], [1, "#b2182b"]]
        : [[0, "#e6e6e6"], [0.35, "#fdd49e"], [0.7, "#ef6548"], [1, "#99000d"]];
    }

    function draw() {
      const pos = state.pos;
      const m = methods[state.method];
      const xs = cases.x[pos];
      const maps = m.a[pos].map((row) => row.map((v) => v / m.units));
      const n = xs.length;
      const steps = Array.from({ length: xs[0].length }, (_, i) => i);
      let scale = 1;
      if (state.ownScale) {
        scale = 0;
        for (const row of maps) for (const v of row) scale = Math.max(scale, Math.abs(v));
        if (!(scale > 0)) scale = 1;
      }
      const gap = n > 1 ? 0.06 / (n - 1) * Math.min(n - 1, 3) : 0;
      const h = (1 - gap * (n - 1)) / n;
      const traces = [];
      const shapes = [];
      const layout = {
        height: Math.min(170 * n + 90, 1400),
        margin: { l: 70, r: 20, t: 20, b: 50 },
        showlegend: false,
        hovermode: "closest",
        shapes: shapes,
      };
      for (let c = 0; c < n; c++) {
        const a = maps[m.resolution === "time" ? 0 : c];
        const ya = axisName("y", c);
        const top = 1 - c * (h + gap);
        layout[axisName("yaxis", c)] = { domain: [Math.max(top - h, 0), top], title: { text: plotlyText(short(CHANNELS[c], 24)) }, anchor: "x", zeroline: false };
        traces.push({
          type: "scatter",
          mode: "lines+markers",
          x: steps,
          y: xs[c],
          xaxis: "x",
          yaxis: ya,
          line: { color: "#8c8c8c", width: 1 },
          marker: {
            size: 6,
            color: a,
            colorscale: colourScale(m.signed),
            cmin: m.signed ? -scale : 0,
            cmax: scale,
            showscale: c === 0,
            colorbar: c === 0 ? { title: { text: "attribution<br>(1 = " + (scale * m.vmax).toPrecision(3) + ")" }, len: Math.min(1, 0.5 + 0.1 * n), y: 1, yanchor: "top", thickness: 14 } : undefined,
          },
          customdata: a.map((v) => v * m.vmax),
          name: plotlyText(CHANNELS[c]),
          hovertemplate: "step %{x}<br>value %{y:.4g}<br>attribution %{customdata:.3g}<extra>%{fullData.name}</extra>",
        });
        if (cases.mask) {
          for (const [s, e] of cases.mask[pos][c]) {
            shapes.push({ type: "rect", xref: "x", yref: ya + " domain", x0: s - 0.5, x1: e - 0.5, y0: 0, y1: 1, fillcolor: "rgba(255, 170, 0, 0.22)", line: { width: 0 }, layer: "below" });
          }
        }
      }
      layout.xaxis = { anchor: axisName("y", n - 1), title: { text: "step (real steps of the case)" }, zeroline: false };
      Plotly.react(plot, traces, layout, CONFIG);
      drawInfo(pos, m, scale);
      sel.cases.value = String(pos);
    }

    function drawInfo(pos, m, scale) {
      const idx = cases.index[pos];
      const t = cases.y === null ? null : cases.y[pos];
      const p = cases.pred[pos];
      info.replaceChildren();
      info.appendChild(el("h3", "", "case " + ids[idx]));
      const facts = el("dl", "facts");
      const fact = (k, v, cls) => { facts.appendChild(el("dt", "", k)); facts.appendChild(el("dd", cls || "", v)); };
      if (t === null) fact("true class", "unknown (no labels)");
      else fact("true class", CLASSES[t]);
      fact("predicted", CLASSES[p], t === null ? "" : t === p ? "good" : "bad");
      fact("length", cases.length[pos] + " steps");
      fact("method", m.name + (m.resolution === "time" ? " (time only: the same map on every channel)" : ""));
      fact("colour 1.0 =", (scale * m.vmax).toPrecision(3) + (state.ownScale ? " (this case's largest |attribution|)" : " (99th percentile of |attribution| over the cases in this page)"));
      for (const key of Object.keys(cases.info)) fact(key, cases.info[key][pos]);
      info.appendChild(facts);
      info.appendChild(el("h4", "", "class probabilities"));
      const table = el("table", "proba");
      const probs = cases.proba[pos];
      CLASSES.forEach((name, k) => {
        const row = el("tr", k === p ? "predicted" : "");
        row.appendChild(el("td", "name", name + (k === t ? " (true)" : "")));
        const barCell = el("td", "bar");
        const bar = el("div", "fill");
        bar.style.width = (100 * probs[k]).toFixed(1) + "%";
        barCell.appendChild(bar);
        row.appendChild(barCell);
        row.appendChild(el("td", "value", fmt(probs[k], 3)));
        table.appendChild(row);
      });
      info.appendChild(table);
    }

    function step(delta) {
      const shown = Array.from(sel.cases.options, (o) => Number(o.value));
      const at = shown.indexOf(state.pos);
      if (!shown.length) return;
      state.pos = shown[(at + delta + shown.length) % shown.length];
      draw();
    }

    fillFilter();
    fillMethods();
    fillCases();
    sel.filter.addEventListener("change", () => { state.filter = sel.filter.value; fillCases(); draw(); });
    sel.cases.addEventListener("change", () => { state.pos = Number(sel.cases.value); draw(); });
    sel.method.addEventListener("change", () => { state.method = Number(sel.method.value); draw(); });
    sel.own.addEventListener("change", () => { state.ownScale = sel.own.checked; draw(); });
    sel.prev.addEventListener("click", () => step(-1));
    sel.next.addEventListener("click", () => step(1));
    draw();

    return {
      posOf: posOf,
      proba: (pos) => cases.proba[pos][cases.pred[pos]],
      open: function (idx) {
        const pos = posOf.get(idx);
        if (pos === undefined) return;
        state.pos = pos;
        if (!included(pos)) { state.filter = "all"; sel.filter.value = "all"; }
        fillCases();
        draw();
        document.getElementById("cases").scrollIntoView({ behavior: "instant", block: "start" });
      },
    };
  }

  // ------------------------------------------------------------------ confusion matrix
  function initConfusion(C, browser) {
    const list = document.getElementById("tsx-cell-list");
    const buttons = document.querySelectorAll("#confusion button.cell");

    function show(t, p, button) {
      buttons.forEach((b) => b.setAttribute("aria-pressed", "false"));
      button.setAttribute("aria-pressed", "true");
      const members = C.cells[t][p];
      const count = C.counts[t][p];
      list.replaceChildren();
      list.appendChild(el("h3", "", "true " + CLASSES[t] + " \u2192 predicted " + CLASSES[p]));
      if (!count) {
        list.appendChild(el("p", "hint", "No case falls in this cell."));
        return;
      }
      const embedded = browser ? members.filter((idx) => browser.posOf.has(idx)).length : 0;
      let text = count + (count === 1 ? " case" : " cases");
      if (members.length < count) text += " (the " + members.length + " most confident listed)";
      text += browser ? "; " + embedded + " of them in this page (click one to open it)." : ".";
      list.appendChild(el("p", "hint", text));
      const ul = el("ul", "cases");
      for (const idx of members) {
        const li = el("li");
        const name = "case " + IDS[idx];
        const pos = browser ? browser.posOf.get(idx) : undefined;
        if (pos === undefined) {
          li.appendChild(el("span", "absent", name));
          li.title = "not in this page";
        } else {
          const b = el("button", "case-link", name + " (p=" + fmt(browser.proba(pos), 2) + ")");
          b.type = "button";
          b.dataset.index = String(idx);
          b.addEventListener("click", () => browser.open(idx));
          li.appendChild(b);
        }
        ul.appendChild(li);
      }
      list.appendChild(ul);
    }

    buttons.forEach((b) => {
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => show(Number(b.dataset.true), Number(b.dataset.pred), b));
    });
  }

  // ------------------------------------------------------------------ class panels
  // One Plotly figure per class, one row per channel, sharing the x axis.
  function channelRows(n, height) {
    const gap = n > 1 ? 0.08 / Math.max(n - 1, 1) * Math.min(n - 1, 3) : 0;
    const h = (1 - gap * (n - 1)) / n;
    return { height: Math.min(height * n + 80, 1400), domain: (c) => { const top = 1 - c * (h + gap); return [Math.max(top - h, 0), top]; } };
  }

  function panel(container, heading, lines) {
    const box = el("div", "panel");
    box.appendChild(el("h3", "", heading));
    for (const line of lines || []) box.appendChild(el("p", "hint", line));
    const plot = el("div", "plot");
    box.appendChild(plot);
    container.appendChild(box);
    return plot;
  }

  function ClassAverages(A) {
    const methodSel = document.getElementById("tsx-avg-method");
    const groupSel = document.getElementById("tsx-avg-group");
    const panels = document.getElementById("tsx-avg-panels");
    A.maps.forEach((m, k) => { const o = el("option", "", m.name); o.value = String(k); methodSel.appendChild(o); });
    for (const by of Object.keys(A.groups)) { const o = el("option", "", A.group_labels[by]); o.value = by; groupSel.appendChild(o); }

    function draw() {
      const m = A.maps[Number(methodSel.value)];
      const by = groupSel.value;
      const G = A.groups[by];
      const M = m.groups[by];
      panels.replaceChildren();
      // every panel in place before any is drawn, so that each plot gets its final width
      const plots = CLASSES.map((name, k) => panel(panels, name + " (" + G.counts[k] + (G.counts[k] === 1 ? " case)" : " cases)")));
      CLASSES.forEach((name, k) => {
        const plot = plots[k];
        if (!G.counts[k]) { plot.appendChild(el("p", "hint", "No case in this group.")); return; }
        const n = CHANNELS.length;
        const rows = channelRows(n, 150);
        const traces = [];
        const layout = { height: rows.height, margin: { l: 70, r: 10, t: 10, b: 50 }, showlegend: false, hovermode: "closest" };
        for (let c = 0; c < n; c++) {
          const ya = axisName("y", c);
          const share = M.share[k][c];
          const label = short(CHANNELS[c], 18) + (share === null ? "" : " \u00b7 " + Math.round(100 * share) + "%");
          layout[axisName("yaxis", c)] = { domain: rows.domain(c), title: { text: plotlyText(label) }, anchor: "x", zeroline: false };
          const band = { x: A.positions, xaxis: "x", yaxis: ya, mode: "lines", line: { width: 0 }, hoverinfo: "skip" };
          traces.push(Object.assign({ y: G.lower[k][c] }, band));
          traces.push(Object.assign({ y: G.upper[k][c], fill: "tonexty", fillcolor: "rgba(120, 120, 120, 0.2)" }, band));
          traces.push({
            x: A.positions, y: G.mean[k][c], xaxis: "x", yaxis: ya, mode: "lines+markers",
            line: { color: "#8c8c8c", width: 1 },
            marker: { size: 5, color: M.abs[k][c], colorscale: [[0, "#e6e6e6"], [0.35, "#fdd49e"], [0.7, "#ef6548"], [1, "#99000d"]], cmin: 0, cmax: m.vmax, showscale: c === 0, colorbar: c === 0 ? { title: { text: "mean<br>|attribution|" }, thickness: 12, len: Math.min(1, 0.5 + 0.1 * n), y: 1, yanchor: "top" } : undefined },
            customdata: G.support[k].map((s, i) => [s, M.abs[k][c][i]]),
            name: plotlyText(CHANNELS[c]),
            hovertemplate: "position %{x}<br>mean %{y:.4g}<br>mean |attribution| %{customdata[1]:.3g}<br>cases %{customdata[0]}<extra>%{fullData.name}</extra>",
          });
        }
        layout.xaxis = { anchor: axisName("y", n - 1), title: { text: A.axis }, zeroline: false };
        Plotly.newPlot(plot, traces, layout, CONFIG);
      });
    }
    methodSel.addEventListener("change", draw);
    groupSel.addEventListener("change", draw);
    draw();
  }

  function Prototypes(P) {
    const panels = document.getElementById("tsx-proto-panels");
    const plots = P.items.map((item) => {
      const pct = item.percentile;
      const realism = pct === null
        ? "realism: the class has one member only"
        : "realism: nearest member at the " + ordinal(Math.round(pct)) + " percentile of the class's own nearest-neighbour distances (" + (pct <= P.realistic ? "as close to real data as members are to each other" : "farther from real data than most members are from each other") + ")";
      return panel(panels, CLASSES[item.cls], ["p(" + CLASSES[item.cls] + ") = " + fmt(item.probability, 3) + "; " + realism]);
    });
    P.items.forEach((item, k) => {
      const n = CHANNELS.length;
      const rows = channelRows(n, 130);
      const traces = [];
      const layout = { height: rows.height, margin: { l: 70, r: 10, t: 10, b: 50 }, showlegend: false, hovermode: "closest" };
      for (let c = 0; c < n; c++) {
        const ya = axisName("y", c);
        layout[axisName("yaxis", c)] = { domain: rows.domain(c), title: { text: plotlyText(short(CHANNELS[c], 24)) }, anchor: "x", zeroline: false };
        item.neighbours.forEach((nb, j) => {
          traces.push({ x: nb.x[c].map((_, i) => nb.start + i), y: nb.x[c], xaxis: "x", yaxis: ya, mode: "lines", line: { color: "rgba(110, 110, 110, 0.45)", width: 1 }, name: "member " + (j + 1), hovertemplate: "nearest member " + (j + 1) + "<br>step %{x}<br>%{y:.4g}<extra></extra>" });
        });
        traces.push({ x: item.x[c].map((_, i) => item.start + i), y: item.x[c], xaxis: "x", yaxis: ya, mode: "lines", line: { color: "#b2182b", width: 2.5 }, name: plotlyText(CHANNELS[c]), hovertemplate: "prototype<br>step %{x}<br>%{y:.4g}<extra>%{fullData.name}</extra>" });
      }
      layout.xaxis = { anchor: axisName("y", n - 1), title: { text: "step (as the model reads the series)" }, zeroline: false };
      Plotly.newPlot(plots[k], traces, layout, CONFIG);
    });
  }

  // ------------------------------------------------------------------ start
  if (D.training) drawTraining(D.training);
  const browser = D.cases ? CaseBrowser(D.cases) : null;
  if (D.confusion) initConfusion(D.confusion, browser);
  if (D["class-averages"]) ClassAverages(D["class-averages"]);
  if (D.prototypes) Prototypes(D.prototypes);
  document.body.dataset.ready = "true";
})();
