// Draw each report chart from the JSON its table ships with; the table beside it carries the same numbers.
(function () {
  "use strict";
  const COLOURS = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2"];

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    const spec = JSON.parse(source.textContent);
    const kinds = [...new Set(spec.datasets.map((set) => set.axis))];
    const scales = {};
    kinds.forEach((kind, n) => {
      scales[kind] = { type: "linear", position: n === 0 ? "left" : "right", beginAtZero: true,
                       grid: { drawOnChartArea: n === 0 } };
    });
    if (spec.type !== "doughnut") scales.x = { ticks: { autoSkip: true, maxRotation: 0 } };
    new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((set, n) => ({
          label: set.label,
          data: set.data.map((value) => (value === null ? null : Number(value))),
          yAxisID: spec.type === "doughnut" ? undefined : set.axis,
          borderColor: COLOURS[n % COLOURS.length],
          backgroundColor: COLOURS[n % COLOURS.length] + (spec.type === "line" ? "33" : "cc"),
          tension: 0.2,
          pointRadius: spec.labels.length > 40 ? 0 : 2,
        })),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: spec.type === "doughnut" ? {} : scales,
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
