// The dashboard's chart: one metric over time, chosen from the select; drawn with the vendored Chart.js.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const select = document.getElementById("metric");
  const chart = new Chart(document.getElementById("chart-series"), {
    type: "line",
    data: { labels: data.labels, datasets: [{ label: "", data: [], spanGaps: true }] },
    options: { animation: false, scales: { y: { beginAtZero: true } } },
  });
  function draw() {
    chart.data.datasets[0].label = data.names[select.value];
    chart.data.datasets[0].data = data.series[select.value];
    chart.update();
  }
  select.value = "frt";
  select.addEventListener("change", draw);
  draw();
})();
