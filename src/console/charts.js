// Line charts drawn as inline SVG (no library): one line per series over a run of days, with
// axes, a legend, and a title and description for screen readers. Missing values (a rate on a
// day with nothing to divide by) leave a gap instead of pretending to be zero.
const NS = "http://www.w3.org/2000/svg";
const W = 640;
const H = 240;
const PAD = { top: 16, right: 16, bottom: 36, left: 48 };

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Counts: a y maximum with four whole, "nice" steps (1, 2 or 5 times a power of ten each). */
function niceMax(value) {
  const step = Math.max(1, value / 4);
  const power = 10 ** Math.floor(Math.log10(step));
  return 4 * [1, 2, 5, 10].map((m) => m * power).find((n) => n >= step);
}

/** Lines are told apart by dash and marker size too, not by colour alone (and when they overlap). */
const DASHES = ["", "7 4", "2 3", "10 3 2 3", "1 3"];

/**
 * days: ["2026-11-01", …]; series: [{ name, color, values: (number|null)[] }];
 * format: y value → label; max: fixed y maximum (1 for rates) or undefined to fit the data.
 */
export function lineChart({ id, title, description, days, series, format = String, max, bars = false }) {
  const top = max ?? niceMax(Math.max(0, ...series.flatMap((x) => x.values.filter((v) => v != null))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  // Bars sit in the middle of their day's slot; line points run from edge to edge.
  const x = bars ? (i) => PAD.left + ((i + 0.5) * plotW) / Math.max(1, days.length) : (i) => PAD.left + (days.length <= 1 ? plotW / 2 : (i / (days.length - 1)) * plotW);
  const y = (v) => PAD.top + plotH - (v / top) * plotH;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc`, class: "chart", id });
  svg.append(s("title", { id: `${id}-title` }, title), s("desc", { id: `${id}-desc` }, description));

  const grid = s("g", { class: "grid", "aria-hidden": "true" });
  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    grid.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }), s("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  const every = Math.max(1, Math.ceil(days.length / 6));
  days.forEach((d, i) => {
    if (i % every === 0 || i === days.length - 1) grid.append(s("text", { x: x(i), y: H - PAD.bottom + 18, "text-anchor": "middle" }, d.slice(5)));
  });
  svg.append(grid);

  if (bars) {
    // Grouped bars: one slot per day, one bar per series within it.
    const slot = plotW / Math.max(1, days.length);
    const bar = Math.max(1, (slot * 0.8) / Math.max(1, series.length));
    series.forEach((line, k) => {
      const g = s("g", { class: "series", "data-series": line.name, fill: line.color });
      line.values.forEach((v, i) => {
        if (!v) return;
        const left = PAD.left + i * slot + slot * 0.1 + k * bar;
        g.append(s("rect", { x: left.toFixed(1), y: y(v).toFixed(1), width: bar.toFixed(1), height: (PAD.top + plotH - y(v)).toFixed(1) }, undefined));
      });
      svg.append(g);
    });
    return svg;
  }
  series.forEach((line, k) => {
    const g = s("g", { class: "series", "data-series": line.name });
    let path = "";
    line.values.forEach((v, i) => {
      if (v == null) return;
      const moveTo = i === 0 || line.values[i - 1] == null;
      path += `${moveTo ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      g.append(s("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: Math.max(2, 4.5 - k), fill: line.color }, undefined));
    });
    if (path) g.prepend(s("path", { d: path, fill: "none", stroke: line.color, "stroke-width": 2, "stroke-dasharray": DASHES[k % DASHES.length] }));
    svg.append(g);
  });
  return svg;
}

/** The legend shared by a set of charts: each series' colour and dash, and its name. */
export function legend(series) {
  const ul = document.createElement("ul");
  ul.className = "legend";
  series.forEach(({ name, color }, k) => {
    const li = document.createElement("li");
    const swatch = s("svg", { width: 28, height: 10, "aria-hidden": "true" });
    swatch.append(s("line", { x1: 1, x2: 27, y1: 5, y2: 5, stroke: color, "stroke-width": 3, "stroke-dasharray": DASHES[k % DASHES.length] }));
    li.append(swatch, name);
    ul.append(li);
  });
  return ul;
}
