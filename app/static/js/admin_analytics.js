// The admin analytics charts: one Chart.js chart per figure, from the JSON in #analytics-charts.
(function () {
  "use strict";
  var source = document.getElementById("analytics-charts");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  JSON.parse(source.textContent).forEach(function (chart) {
    var canvas = document.getElementById("chart-" + chart.id);
    if (!canvas) {
      return;
    }
    new window.Chart(canvas, {
      type: chart.type,
      data: {labels: chart.labels, datasets: chart.datasets},
      options: {responsive: true, maintainAspectRatio: false, scales: {y: {beginAtZero: true}}}
    });
  });
})();
