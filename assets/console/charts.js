// Draws the analytics page's charts with Chart.js (assets/vendor/chart.js, pinned in
// package.json) from the page's JSON block; the same figures are in the page's tables.
const data = JSON.parse(document.getElementById("analytics-data").textContent);
const days = data.days.map((d) => d.day.slice(5));
const base = {
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  plugins: { legend: { display: false } },
};
const bar = (id, label, values, color) =>
  new Chart(document.getElementById(id), {
    type: "bar",
    data: { labels: days, datasets: [{ label, data: values, backgroundColor: color }] },
    options: { ...base, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });

bar(
  "chart-calls",
  "Calls",
  data.days.map((d) => d.calls),
  "#0b5cad",
);
bar(
  "chart-minutes",
  "Minutes",
  data.days.map((d) => d.minutes),
  "#1a7f37",
);
new Chart(document.getElementById("chart-latency"), {
  type: "line",
  data: {
    labels: days,
    datasets: [
      { label: "p50 ms", data: data.days.map((d) => d.p50_ms), borderColor: "#0b5cad", spanGaps: true },
      { label: "p90 ms", data: data.days.map((d) => d.p90_ms), borderColor: "#b42318", spanGaps: true },
    ],
  },
  options: { ...base, plugins: { legend: { display: true } }, scales: { y: { beginAtZero: true } } },
});
new Chart(document.getElementById("chart-reasons"), {
  type: "bar",
  data: {
    labels: data.end_reasons.map((r) => r.reason),
    datasets: [{ label: "Calls", data: data.end_reasons.map((r) => r.calls), backgroundColor: "#8250df" }],
  },
  options: { ...base, indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
});
