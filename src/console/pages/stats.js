// Stats (seed §4.1, §12): totals and rates for a date range, and charts per channel over time —
// volume, delivery rate, open rate, click rate — from the stats endpoint's daily series.
import { api, query } from "../api.js";
import { field, h, table, values } from "../dom.js";
import { legend, lineChart } from "../charts.js";

/** Colour-blind-safe (Okabe–Ito), each at least 3:1 against white for the lines. */
const COLORS = { email: "#0072b2", sms: "#d55e00", whatsapp: "#009e73", messenger: "#cc79a7", in_app: "#7a5c00" };
const DAY = 86_400_000;
const pct = (v) => `${Math.round(v * 100)}%`;
const ratio = (a, b) => (b > 0 ? a / b : null);

function daysBetween(start, end) {
  const out = [];
  for (let t = Date.parse(start); t <= Date.parse(end); t += DAY) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

let range = null;

export async function render(view) {
  const today = new Date().toISOString().slice(0, 10);
  range ??= { startDate: new Date(Date.now() - 13 * DAY).toISOString().slice(0, 10), endDate: today };
  const stats = await api("GET", `/api/communications/stats${query(range)}`);
  const days = daysBetween(stats.startDate, stats.endDate);
  const channels = [...new Set(stats.daily.map((d) => d.channel))].sort();
  const at = new Map(stats.daily.map((d) => [`${d.day} ${d.channel}`, d]));
  const seriesOf = (pick) => channels.map((c) => ({ name: c, color: COLORS[c] ?? "#333", values: days.map((d) => pick(at.get(`${d} ${c}`))) }));
  const zero = { accepted: 0, sent: 0, delivered: 0, opened: 0, clicked: 0 };
  const charts = [
    ["chart-volume", "Volume", "Communications accepted per day, by channel.", seriesOf((r) => (r ?? zero).accepted), String, undefined, true],
    ["chart-delivery", "Delivery rate", "Delivered out of sent, per day and channel.", seriesOf((r) => r && ratio(r.delivered, r.sent)), pct, 1],
    ["chart-open", "Open rate", "Opened out of delivered, per day and channel.", seriesOf((r) => r && ratio(r.opened, r.delivered)), pct, 1],
    ["chart-click", "Click rate", "Clicked out of delivered, per day and channel.", seriesOf((r) => r && ratio(r.clicked, r.delivered)), pct, 1],
  ];

  const form = h(
    "form",
    { class: "filters", "aria-label": "Date range" },
    field("From", h("input", { type: "date", name: "startDate", value: range.startDate, max: today })),
    field("To", h("input", { type: "date", name: "endDate", value: range.endDate, max: today })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    range = { ...range, ...values(form) };
    render(view);
  });

  const totals = [
    ["Accepted", stats.totalAccepted],
    ["Sent", stats.totalSent],
    ["Delivery rate", pct(stats.deliveryRate)],
    ["Open rate", pct(stats.openRate)],
    ["Click rate", pct(stats.clickRate)],
    ["Bounce rate", pct(stats.bounceRate)],
    ["Failure rate", pct(stats.failureRate)],
    ["Avg. send latency", stats.averageSendLatencyMs == null ? "—" : `${stats.averageSendLatencyMs} ms`],
  ];
  view.replaceChildren(
    h("h1", {}, "Stats"),
    form,
    h("ul", { class: "tiles" }, ...totals.map(([k, v]) => h("li", {}, h("span", { class: "tile-label" }, k), h("strong", {}, String(v))))),
    channels.length ? legend(seriesOf(() => null)) : h("p", { class: "empty" }, "No traffic in this range."),
    h(
      "div",
      { class: "charts" },
      ...charts.map(([id, title, description, series, format, max, bars]) =>
        h("figure", {}, h("figcaption", {}, title), lineChart({ id, title, description, days, series, format, max, bars })),
      ),
    ),
    h(
      "details",
      {},
      h("summary", {}, "The numbers behind the charts"),
      table(
        "Daily counts by channel",
        ["Day", "Channel", "Accepted", "Sent", "Delivered", "Opened", "Clicked", "Bounced", "Failed"],
        stats.daily.map((d) => h("tr", {}, ...[d.day, d.channel, d.accepted, d.sent, d.delivered, d.opened, d.clicked, d.bounced, d.failed].map((v) => h("td", {}, String(v))))),
      ),
    ),
  );
}
