// A periodic report's trend chart (ECharts, vendored), from the page's json_script element.
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  var el = document.getElementById("trend-chart");
  if (!source || !el || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var trend = data.trend || { x: [], received: [], closed: [] };
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis", renderMode: "richText" },  // drawn on the canvas: no inline styles (CSP)
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: "category", data: trend.x },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: el.getAttribute("data-received") || "受理量", type: "bar", data: trend.received },
      { name: el.getAttribute("data-closed") || "办结量", type: "bar", data: trend.closed }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
