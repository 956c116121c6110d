// The dashboard's charts (ECharts, vendored): data from the page's json_script element;
// clicking a bar opens the ledger list behind it (each point carries its URL).
(function () {
  "use strict";
  var source = document.getElementById("charts-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];

  function open(url) { if (url) { window.location.href = url; } }

  function draw(el, option, onClick) {
    var chart = echarts.getInstanceByDom(el) || echarts.init(el);
    chart.setOption(option, true);
    chart.off("click");
    chart.on("click", onClick);
    if (charts.indexOf(chart) < 0) { charts.push(chart); }
    return chart;
  }

  function volume(axis) {
    var chart = data.volume[axis];
    var el = document.getElementById("volume-chart");
    el.setAttribute("data-axis", axis);
    draw(el, {
      animation: false,  // a bar is where it is drawn at once: a click lands on it
      tooltip: { trigger: "axis", renderMode: "richText" },  // drawn on the canvas: no inline styles (CSP)
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: chart.x },
      yAxis: { type: "value", minInterval: 1 },
      series: chart.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "volume", data: s.data, emphasis: { focus: "series" } };
      })
    }, function (params) {
      var s = chart.series[params.seriesIndex];
      open(s && s.urls[params.dataIndex]);
    });
  }

  function top(id, items) {
    var el = document.getElementById(id);
    if (!el) { return; }
    if (!items.length) { el.classList.add("d-none"); return; }
    var rows = items.slice().reverse();
    draw(el, {
      animation: false,
      tooltip: { renderMode: "richText" },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map(function (i) { return i.name; }) },
      series: [{ type: "bar", data: rows.map(function (i) { return i.received; }) }]
    }, function (params) { open(rows[params.dataIndex].url); });
  }

  var buttons = document.querySelectorAll("#volume-axis [data-axis]");
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      buttons.forEach(function (b) { b.classList.remove("active"); });
      button.classList.add("active");
      volume(button.getAttribute("data-axis"));
    });
  });
  volume("channel");
  top("top-category-chart", data.top.category);
  top("top-place-chart", data.top.place);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.huiyinCharts = charts;  // for the browser test: the instances and their options
})();
