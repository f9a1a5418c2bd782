// The list page's charts: throughput (jobs finished and enqueued per minute) and queue depth
// over the last hour, from /api/stats/series, drawn by uPlot (vendored under /static/vendor,
// MIT; it draws on a canvas and needs no inline script or style, so the strict CSP holds).
// Colours come from the stylesheet's variables, so the charts follow the dark theme.
"use strict";

const Charts = (() => {
  const HEIGHT = 180;
  const charts = new Map();  // element id -> uPlot

  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function options(box, series) {
    const axis = { stroke: css("--muted"), grid: { stroke: css("--line"), width: 1 }, ticks: { stroke: css("--line"), width: 1 } };
    return {
      width: Math.max(200, box.clientWidth), height: HEIGHT,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: css(s.colour), width: 2, fill: css(s.colour) + "33", points: { show: false } }))],
      axes: [axis, Object.assign({ size: 44 }, axis)],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      cursor: { drag: { x: false, y: false } },
    };
  }

  function draw(id, data, series) {
    const box = document.getElementById(id);
    box.dataset.points = String(data[0].length);
    box.dataset.total = String(data.slice(1).flat().reduce((sum, v) => sum + v, 0));
    const chart = charts.get(id);
    if (chart) { chart.setData(data); return; }
    charts.set(id, new uPlot(options(box, series), data, box));
    box.dataset.series = JSON.stringify(series);
  }

  async function refresh(api) {
    const s = await api("/api/stats/series?window=3600&step=60");
    const x = s.atMs.map((ms) => ms / 1000);
    draw("chart-throughput", [x, s.finished, s.enqueued],
      [{ label: "finished", colour: "--ok" }, { label: "enqueued", colour: "--accent" }]);
    draw("chart-depth", [x, s.depth], [{ label: "pending", colour: "--warn" }]);
  }

  function resize() {
    for (const [id, chart] of charts) {
      chart.setSize({ width: Math.max(200, document.getElementById(id).clientWidth), height: HEIGHT });
    }
  }

  // A theme switch needs new colours: rebuild each chart with its last data.
  function rebuild() {
    for (const [id, chart] of charts) {
      const data = chart.data, box = document.getElementById(id);
      chart.destroy();
      charts.set(id, new uPlot(options(box, JSON.parse(box.dataset.series)), data, box));
    }
  }

  let pending = null;
  window.addEventListener("resize", () => { clearTimeout(pending); pending = setTimeout(resize, 100); });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", rebuild);
  return { refresh };
})();
