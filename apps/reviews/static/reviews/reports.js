// Charts of the QA reports page, drawn with the vendored Chart.js (no CDN).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const teams = data.teams;
  new Chart(document.getElementById("chart-teams"), {
    type: "line",
    data: {
      labels: teams.labels,
      datasets: Object.entries(teams.series).map(([name, values]) => ({ label: name, data: values, spanGaps: true })),
    },
    options: { scales: { y: { suggestedMin: 0, suggestedMax: 100 } }, animation: false },
  });
  const findings = document.getElementById("chart-findings");
  new Chart(findings, {
    type: "bar",
    // The legend's word comes from the page, in the reader's language.
    data: { labels: data.findings.labels, datasets: [{ label: findings.dataset.label, data: data.findings.values }] },
    options: { indexAxis: "y", animation: false },
  });
})();
