/* Charts for the brigade's pages (issue #13), drawn with Apache ECharts from JSON blocks.
 *
 * Markup:  <div class="chart" data-chart="ID"></div>
 *          <script type="application/json" id="ID">{...}</script>
 * The JSON's vocabulary:
 *   type    "bar" (vertical), "hbar" (horizontal: long labels), "stack" / "hstack" (stacked),
 *           "pie", "donut", "line"
 *   labels  the categories (or slices), in order
 *   series  [{name, data: [numbers], links: [url|null per category], color}]
 *   colors  optional palette; by_item: true colours each bar of a single series on its own
 *   mark    line charts: {value, name}: a horizontal target line (e.g. the tasks dispatched)
 * Tapping a bar, slice or point follows its link. The page states the same figures in numbers above
 * each chart, so it reads without this script (no inline script or style: the CSP forbids them).
 */
(function () {
  "use strict";
  var PALETTE = ["#0b5cad", "#1b6e3a", "#e0a100", "#b3261e", "#6a4c93", "#9aa5b1", "#00838f", "#ad5a00"];

  function narrow(el) { return el.clientWidth < 480; }

  // Width in half-width units: a Chinese (full-width) character counts two, a Latin letter one.
  function units(text) {
    var n = 0;
    for (var i = 0; i < text.length; i++) n += text.charCodeAt(i) > 0x2e7f ? 2 : 1;
    return n;
  }

  function cut(text, max) {
    if (units(text) <= max) return text;
    var out = "";
    for (var i = 0; i < text.length && units(out + text[i]) <= max - 2; i++) out += text[i];
    return out + "…";
  }

  // An axis label in at most two lines of ``max`` units: Chinese is cut to its first characters as before;
  // English breaks between words (cutting "Dispatched to a group" to "Dispat…" told nothing).
  function label(text, max) {
    text = String(text == null ? "" : text);
    if (units(text) <= max || text.indexOf(" ") < 0 || units(text) !== text.length) return cut(text, max);
    var words = text.split(/\s+/), lines = [""];
    for (var i = 0; i < words.length; i++) {
      var line = lines[lines.length - 1], next = line ? line + " " + words[i] : words[i];
      if (units(next) <= max || !line) lines[lines.length - 1] = next;
      else if (lines.length < 2) lines.push(words[i]);
      else { lines[1] = cut(line + " " + words.slice(i).join(" "), max); break; }
    }
    return lines.map(function (l) { return cut(l, max); }).join("\n");
  }

  function axisSeries(spec, horizontal, stacked) {
    return spec.series.map(function (s, k) {
      var item = {
        type: "bar", name: s.name, data: s.data.slice(), stack: stacked ? "all" : undefined,
        barMaxWidth: 28, label: { show: !stacked || spec.series.length < 4, position: stacked ? "inside" : (horizontal ? "right" : "top"),
                                  formatter: function (p) { return p.value ? p.value : ""; } }
      };
      if (s.color) item.itemStyle = { color: s.color };
      if (spec.by_item && spec.colors) {
        item.data = s.data.map(function (v, i) { return { value: v, itemStyle: { color: spec.colors[i % spec.colors.length] } }; });
      }
      return item;
    });
  }

  function option(spec, el) {
    var small = narrow(el), type = spec.type;
    var base = { color: spec.colors || PALETTE, animation: false, textStyle: { fontSize: small ? 12 : 13 },
                 tooltip: { trigger: (type === "pie" || type === "donut") ? "item" : "axis", confine: true,
                            // A long label (a checklist question) wraps inside the chart instead of one line
                            // wider than the phone: the page would grow sideways and shift under the finger,
                            // and the tap would miss the bar (set through the DOM, not a style attribute).
                            extraCssText: "white-space:normal;overflow-wrap:anywhere;max-width:" +
                                          Math.max(160, el.clientWidth - 16) + "px;" } };
    if (type === "pie" || type === "donut") {
      base.legend = { bottom: 0, type: "scroll", textStyle: { fontSize: 12 } };
      var colors = spec.colors || PALETTE;
      base.series = [{ type: "pie", name: spec.series[0].name, radius: type === "donut" ? ["42%", "68%"] : "68%",
                       center: ["50%", "44%"], avoidLabelOverlap: true,
                       label: { formatter: "{c}", fontSize: 13 },
                       // Each slice keeps its own colour, empty slices are left out (not recoloured).
                       data: spec.labels.map(function (l, i) {
                         return { name: l, value: spec.series[0].data[i], itemStyle: { color: colors[i % colors.length] } };
                       }).filter(function (d) { return d.value > 0; }) }];
      return base;
    }
    var horizontal = type === "hbar" || type === "hstack";
    var stacked = type === "stack" || type === "hstack";
    var maxUnits = small ? 14 : 28;
    var category = { type: "category", data: spec.labels, axisTick: { show: false },
                     axisLabel: { interval: 0, fontSize: 12, formatter: function (v) { return horizontal ? label(v, maxUnits) : cut(String(v), maxUnits); } } };
    var value = { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#e5e9ee" } }, axisLabel: { fontSize: 11 } };
    if (horizontal) {
      category.inverse = true;  // the first label on top, as the figures above read
    } else if (type !== "line") {
      category.axisLabel.rotate = spec.labels.length > 3 && small ? 30 : 0;
    }
    var legend = spec.series.length > 1;
    // A legend below the chart, wrapping onto a second line on a phone rather than scrolling.
    var legendLines = legend ? (small && spec.series.length > 2 ? 2 : 1) : 0;
    base.grid = { left: 8, right: horizontal ? 28 : 12, top: spec.mark ? 24 : 12, bottom: 8 + legendLines * 26, containLabel: true };
    if (legend) base.legend = { bottom: 0, type: "plain", itemWidth: 14, itemGap: 8, textStyle: { fontSize: 12 } };
    base.xAxis = horizontal ? value : category;
    base.yAxis = horizontal ? category : value;
    if (type === "line") {
      category.boundaryGap = false;
      category.axisLabel.interval = "auto";
      base.series = spec.series.map(function (s) {
        var line = { type: "line", name: s.name, data: s.data, symbolSize: 6, areaStyle: { opacity: 0.12 } };
        if (spec.mark) {
          line.markLine = { symbol: "none", label: { formatter: spec.mark.name + " {c}", position: "insideEndTop", fontSize: 11 },
                            lineStyle: { type: "dashed", color: "#5b6675" }, data: [{ yAxis: spec.mark.value }] };
          value.max = function (v) { return Math.max(v.max, spec.mark.value); };
        }
        return line;
      });
    } else {
      base.series = axisSeries(spec, horizontal, stacked);
    }
    return base;
  }

  function height(spec, el) {
    var legend = spec.series.length > 1 ? (narrow(el) && spec.series.length > 2 ? 52 : 26) : 0;
    if (spec.type === "hbar" || spec.type === "hstack") {
      return Math.max(140, spec.labels.length * (spec.series.length > 1 && spec.type !== "hstack" ? 44 : 34) + 50 + legend);
    }
    if (spec.type === "pie" || spec.type === "donut") return narrow(el) ? 240 : 260;
    return (narrow(el) ? 240 : 280) + legend;
  }

  function link(spec, p) {
    if (spec.type === "pie" || spec.type === "donut") {
      var i = spec.labels.indexOf(p.name), s = spec.series[0];
      return s.links && i >= 0 ? s.links[i] : null;
    }
    var series = spec.series[p.seriesIndex];
    return series && series.links ? series.links[p.dataIndex] : null;
  }

  function draw(el) {
    var block = document.getElementById(el.getAttribute("data-chart"));
    if (!block || !window.echarts) return;
    var spec;
    try { spec = JSON.parse(block.textContent); } catch (e) { return; }
    if (!spec || !spec.labels || !spec.labels.length) return;
    el.classList.add("drawn");  // shown before it is measured (hidden until drawn: no empty box without JS)
    el.style.height = height(spec, el) + "px";
    // Nothing a chart shows (a tooltip on its way to its confined place) may widen the page: a phone
    // would zoom out for good and the tap would land beside the bar.
    el.style.overflow = "hidden";
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec, el));
    chart.on("click", function (p) {
      var url = link(spec, p);
      if (url) window.location.href = url;
    });
    if (window.ResizeObserver) {
      var last = el.clientWidth;
      new ResizeObserver(function () {
        if (el.clientWidth !== last) { last = el.clientWidth; chart.setOption(option(spec, el), true); chart.resize(); }
      }).observe(el);
    }
  }

  function init() {
    var charts = document.querySelectorAll(".chart[data-chart]");
    for (var i = 0; i < charts.length; i++) draw(charts[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
