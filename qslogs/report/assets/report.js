/* qslogs report: sortable and filterable tables, a date-range filter for tables and charts, evidence links
   that reveal what they point at.
   Plain ES2017, no library, no network. The page reads completely without it. */
(function () {
  "use strict";
  var root = document.documentElement;
  window.addEventListener("error", function (e) { root.setAttribute("data-js-error", String(e.message)); });
  var DATA = {};
  try { DATA = JSON.parse(document.getElementById("qslogs-data").textContent || "{}"); } catch (e) { DATA = {}; }
  var DAY = 86400000, HOUR = 3600000;
  var SVGNS = "http://www.w3.org/2000/svg";
  var range = null; // [from, to] in ms UTC, or null for everything

  function $$(sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); }
  function fmtInt(n) { return Math.round(n).toLocaleString("en-US"); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* ---- table sorting --------------------------------------------------------------------------- */
  function cellKey(td, numeric) {
    if (!td) { return numeric ? -Infinity : ""; }
    var s = td.getAttribute("data-sort");
    if (numeric) { var v = parseFloat(s !== null ? s : td.textContent.replace(/[^0-9.\-]/g, "")); return isNaN(v) ? -Infinity : v; }
    return (s !== null ? s : td.textContent).trim().toLowerCase();
  }
  function sortBy(table, index, th) {
    var numeric = th.classList.contains("num");
    var dir = th.getAttribute("aria-sort") === "descending" ? 1 : (th.getAttribute("aria-sort") === "ascending" ? -1 : (numeric ? -1 : 1));
    $$("th", table.tHead).forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (tr, i) { return [cellKey(tr.cells[index], numeric), i, tr]; });
    rows.sort(function (a, b) { return a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1] - b[1]; });
    rows.forEach(function (r) { body.appendChild(r[2]); });
  }
  $$("table.data").forEach(function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    $$("th", table.tHead).forEach(function (th, i) {
      if (th.getAttribute("data-fmt") === "svg") { return; }
      th.classList.add("sortable"); th.tabIndex = 0; th.title = (th.title ? th.title + " — " : "") + "click to sort";
      th.addEventListener("click", function () { sortBy(table, i, th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, i, th); } });
    });
  });

  /* ---- phone cards: each cell of a [data-reflow] table learns its column's label (CSS shows it) ---- */
  $$("table.data[data-reflow]").forEach(function (table) {
    var labels = $$("th", table.tHead).map(function (th) { return th.textContent.replace(/\s*\(.*\)\s*$/, ""); });
    $$("tr", table.tBodies[0]).forEach(function (tr) {
      Array.prototype.forEach.call(tr.cells, function (td, i) { td.setAttribute("data-label", labels[i] || ""); });
    });
    table.classList.add("reflow");
  });

  /* ---- text filter per table ------------------------------------------------------------------- */
  function updateCount(table) {
    var bar = table.parentNode.querySelector(".tcount");
    if (!bar) { return; }
    var all = table.tBodies[0].rows.length;
    var shown = $$("tr", table.tBodies[0]).filter(function (tr) { return !tr.classList.contains("f-text") && !tr.classList.contains("f-date"); }).length;
    bar.textContent = shown === all ? all + " rows" : shown + " of " + all + " rows";
  }
  $$(".tablebar").forEach(function (bar) {
    bar.hidden = false;
    var input = bar.querySelector("input");
    var table = document.getElementById(input.getAttribute("data-table"));
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      $$("tr", table.tBodies[0]).forEach(function (tr) {
        var text = tr.textContent.toLowerCase();
        tr.classList.toggle("f-text", !words.every(function (w) { return text.indexOf(w) >= 0; }));
      });
      updateCount(table);
    });
    updateCount(table);
  });

  /* ---- date filter: rows ----------------------------------------------------------------------- */
  function inRange(ts, te) {
    if (!range) { return true; }
    var end = isNaN(te) ? ts : te;
    return !(end < range[0] || ts > range[1]);
  }
  function filterRows() {
    $$("tr[data-ts]").forEach(function (tr) {
      tr.classList.toggle("f-date", !inRange(parseFloat(tr.getAttribute("data-ts")), parseFloat(tr.getAttribute("data-te"))));
    });
  }

  /* ---- date filter: aggregate tables recomputed from the embedded JSON -------------------------- */
  function filterAggs() {
    var aggs = DATA.aggs || {};
    $$("table[data-agg]").forEach(function (table) {
      var agg = aggs[table.getAttribute("data-agg")];
      if (!agg) { return; }
      $$("tr[data-key]", table.tBodies[0]).forEach(function (tr) {
        var entries = agg.rows[tr.getAttribute("data-key")] || [];
        var sums = agg.cols.map(function () { return 0; });
        entries.forEach(function (e) { if (inRange(e[0], NaN)) { for (var i = 0; i < sums.length; i++) { sums[i] += e[i + 1] || 0; } } });
        var values = {};
        agg.cols.forEach(function (c, i) { values[c] = sums[i]; });
        (agg.ratios || []).forEach(function (r) { values[r[0]] = values[r[2]] ? values[r[1]] / values[r[2]] : null; });
        Object.keys(values).forEach(function (c) {
          var td = tr.querySelector('td[data-col="' + c + '"]');
          if (!td) { return; }
          var v = values[c];
          td.setAttribute("data-sort", v === null ? "" : v);
          var isPct = (agg.ratios || []).some(function (r) { return r[0] === c; });
          td.textContent = v === null ? "–" : isPct ? Math.round(v * 100) + "\u202f%" : fmtInt(v);
        });
        tr.classList.toggle("f-date", range !== null && sums.every(function (s) { return s === 0; }));
      });
    });
  }

  /* ---- date filter: heatmaps recounted from their events ---------------------------------------- */
  function filterHeat() {
    $$("svg.heat[data-source]").forEach(function (svg) {
      var heat = (DATA.heat || {})[svg.getAttribute("data-source")];
      if (!heat) { return; }
      var counts = {}, peak = 0;
      heat.forEach(function (e) {
        if (!inRange(e[0], NaN)) { return; }
        var k = e[1] + ":" + e[2]; counts[k] = (counts[k] || 0) + (e[3] === undefined ? 1 : e[3]); peak = Math.max(peak, counts[k]);
      });
      var unit = svg.getAttribute("data-unit") || "";
      $$("g.cell", svg).forEach(function (g) {
        var v = counts[g.getAttribute("data-wd") + ":" + g.getAttribute("data-hr")] || 0;
        var rect = g.querySelector("rect");
        rect.setAttribute("class", "h" + (v <= 0 ? 0 : 1 + Math.min(4, Math.floor(4 * v / peak))));
        var title = rect.querySelector("title");
        if (title) { title.textContent = title.textContent.replace(/: [\d,]+ /, ": " + fmtInt(v) + " "); }
        var text = g.querySelector("text");
        if (!text && v) { text = document.createElementNS(SVGNS, "text"); text.setAttribute("x", "12"); text.setAttribute("y", "9"); text.setAttribute("dy", "0.32em"); g.appendChild(text); }
        if (text) { text.textContent = v ? fmtInt(v) : ""; }
      });
    });
  }

  /* ---- date filter: time charts zoomed through the plot's viewBox ------------------------------- */
  var STEPS = [[HOUR, "hm"], [3 * HOUR, "hm"], [6 * HOUR, "hm"], [12 * HOUR, "dhm"], [DAY, "d"], [2 * DAY, "d"],
    [7 * DAY, "d"], [30.44 * DAY, "m"], [91.3 * DAY, "m"], [182.6 * DAY, "m"], [365.25 * DAY, "y"]];
  function label(t, kind) {
    var d = new Date(t);
    var md = pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()), hm = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    return kind === "hm" ? hm : kind === "dhm" ? md + " " + hm : kind === "d" ? md : kind === "m" ? d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) : String(d.getUTCFullYear());
  }
  function ticks(a, b, minStep) {
    var step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) { if (STEPS[i][0] >= minStep && (b - a) / STEPS[i][0] <= 8) { step = STEPS[i]; break; } }
    var out = [], t;
    if (step[1] === "m" || step[1] === "y") {
      var months = step[1] === "y" ? 12 : Math.round(step[0] / (30.44 * DAY)), d = new Date(a);
      var y = d.getUTCFullYear(), m = d.getUTCMonth();
      for (var k = 0; k < 400; k++) {
        t = Date.UTC(y, m, 1);
        if (t > b) { break; }
        if (t >= a && (y * 12 + m) % months === 0) { out.push([t, label(t, step[1])]); }
        m += 1; if (m === 12) { m = 0; y += 1; }
      }
      return out;
    }
    var offset = step[0] === 7 * DAY ? 4 * DAY : 0;
    for (t = Math.ceil((a - offset) / step[0]) * step[0] + offset; t <= b; t += step[0]) { out.push([t, label(t, step[1])]); }
    // hours across midnight: the first tick and every midnight carry the date (as chart_axes.time_ticks)
    if (step[1] === "hm" && out.length && (b - a) + (a % DAY) >= DAY) {
      out = out.map(function (tk, k) { return k === 0 || tk[0] % DAY === 0 ? [tk[0], label(tk[0], "dhm")] : tk; });
    }
    return out;
  }
  function zoomCharts() {
    $$("svg.chart.time").forEach(function (svg) {
      var t0 = parseFloat(svg.getAttribute("data-t0")), t1 = parseFloat(svg.getAttribute("data-t1"));
      var pw = parseFloat(svg.getAttribute("data-pw")), left = parseFloat(svg.getAttribute("data-left"));
      var plot = svg.querySelector("svg.plot");
      if (!plot || !(t1 > t0)) { return; }
      var ph = plot.viewBox.baseVal.height;
      var a = range ? Math.max(t0, range[0]) : t0, b = range ? Math.min(t1, range[1]) : t1;
      if (!(b > a)) { a = t0; b = t1; svg.classList.add("outside"); } else { svg.classList.remove("outside"); }
      var x = function (t) { return (t - t0) / (t1 - t0) * pw; };
      plot.setAttribute("viewBox", x(a) + " 0 " + Math.max(x(b) - x(a), 0.01) + " " + ph);
      var pos = function (t) { return (t - a) / (b - a) * pw; };
      var axis = svg.querySelector("g.xt");
      while (axis.firstChild) { axis.removeChild(axis.firstChild); }
      ticks(a, b, parseFloat(svg.getAttribute("data-min-step")) || 0).forEach(function (tk) {
        var line = document.createElementNS(SVGNS, "line");
        line.setAttribute("x1", pos(tk[0])); line.setAttribute("x2", pos(tk[0])); line.setAttribute("y1", 0); line.setAttribute("y2", 4);
        var text = document.createElementNS(SVGNS, "text");
        text.setAttribute("x", pos(tk[0])); text.setAttribute("y", 16); text.setAttribute("text-anchor", "middle");
        text.textContent = tk[1];
        axis.appendChild(line); axis.appendChild(text);
      });
      $$(".xpos", svg).forEach(function (el) {
        var t = parseFloat(el.getAttribute("data-t"));
        el.setAttribute("x", left + pos(t));
        el.style.display = t < a || t > b ? "none" : "";
      });
    });
  }

  /* ---- the date filter form -------------------------------------------------------------------- */
  var form = document.getElementById("datefilter");
  function isoDay(t) { var d = new Date(t); return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()); }
  function apply() {
    filterRows(); filterAggs(); filterHeat(); zoomCharts();
    $$("table.data").forEach(updateCount);
    if (form) { form.classList.toggle("active", range !== null); }
  }
  var msg = document.getElementById("df-msg");
  function say(text) { if (msg) { msg.textContent = text; } }
  /* a range in which nothing was logged says so (a reversed range never reaches here: it is refused).
     "Logged" = a record counted by an aggregate (service records, task runs) or a dated row starting in it. */
  function recordsInRange() {
    var n = 0, aggs = DATA.aggs || {};
    Object.keys(aggs).forEach(function (name) {
      var agg = aggs[name], last = agg.cols.length;  // the last column counts records (or runs)
      var col = agg.cols.indexOf("records") >= 0 ? agg.cols.indexOf("records") + 1 : agg.cols.indexOf("runs") + 1;
      Object.keys(agg.rows).forEach(function (k) {
        agg.rows[k].forEach(function (e) { if (inRange(e[0], NaN)) { n += e[col > 0 ? col : last] || 0; } });
      });
    });
    $$("tr[data-ts]:not([data-te])").forEach(function (tr) { if (!tr.classList.contains("f-date")) { n += 1; } });
    return n;
  }
  function checkEmpty(fromText, toText) {
    if (!range) { say(""); return; }
    say(recordsInRange() ? "" : "Nothing was logged from " + fromText + " to " + toText + " (UTC days): the tables and charts are empty for this range.");
  }
  if (form && DATA.span) {
    var from = document.getElementById("df-from"), to = document.getElementById("df-to");
    from.min = to.min = isoDay(DATA.span[0]); from.max = to.max = isoDay(DATA.span[1]);
    from.value = from.min; to.value = to.max;
    var change = function () {
      var a = Date.parse(from.value + "T00:00:00Z"), b = Date.parse(to.value + "T00:00:00Z") + DAY - 1;
      if (isNaN(a)) { a = Date.parse(from.min + "T00:00:00Z"); }
      if (isNaN(b)) { b = Date.parse(to.max + "T00:00:00Z") + DAY - 1; }
      if (a > b) {  // reversed: refuse it and say so, rather than silently showing nothing
        from.setAttribute("aria-invalid", "true"); to.setAttribute("aria-invalid", "true");
        range = null; apply();
        say("The range is reversed (" + from.value + " is after " + to.value + "): showing every date. Swap the two dates.");
        return;
      }
      from.removeAttribute("aria-invalid"); to.removeAttribute("aria-invalid");
      var full = from.value <= from.min && to.value >= to.max;
      range = full ? null : [a, b];
      apply();
      checkEmpty(from.value || from.min, to.value || to.max);
    };
    from.addEventListener("change", change); to.addEventListener("change", change);
    form.addEventListener("reset", function () { setTimeout(function () { from.value = from.min; to.value = to.max; change(); }, 0); });
    form.addEventListener("submit", function (e) { e.preventDefault(); change(); });
    form.hidden = false;
  }

  /* ---- evidence links: show what a link points at, even if a filter or a closed section hides it -- */
  function reveal(id) {
    var el = id ? document.getElementById(id) : null;
    if (!el) { return; }
    var row = el.closest("tr");
    if (row && row.classList.contains("f-date") && typeof change === "function") {
      from.value = from.min; to.value = to.max; change();
      say("Date filter cleared to show the linked row.");
    }
    if (row && row.classList.contains("f-text")) {
      var box = row.closest(".tablewrap").querySelector(".tfilter");
      if (box) { box.value = ""; box.dispatchEvent(new Event("input")); }
    }
    for (var p = el.parentNode; p && p !== document; p = p.parentNode) { if (p.tagName === "DETAILS") { p.open = true; } }
    if (el.tagName === "DETAILS") { el.open = true; }
    $$("details", el).forEach(function (d) { if (d.id) { d.open = true; } });
    el.scrollIntoView({ block: "center" });
  }
  function revealHash() { if (location.hash.length > 1) { reveal(decodeURIComponent(location.hash.slice(1))); } }
  window.addEventListener("hashchange", revealHash);
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest('a[href^="#"]') : null;
    if (a && a.getAttribute("href") === location.hash) { reveal(a.getAttribute("href").slice(1)); }  // same link again
  });
  revealHash();

  root.setAttribute("data-js", "ready");
})();
