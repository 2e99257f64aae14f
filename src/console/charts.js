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

/** A "nice" upper bound for the y axis: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((n) => n >= value);
}

/**
 * days: ["2026-11-01", …]; series: [{ name, color, values: (number|null)[] }];
 * format: y value → label; max: fixed y maximum (1 for rates) or undefined to fit the data.
 */
export function lineChart({ id, title, description, days, series, format = String, max }) {
  const top = max ?? niceMax(Math.max(0, ...series.flatMap((x) => x.values.filter((v) => v != null))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (days.length <= 1 ? plotW / 2 : (i / (days.length - 1)) * plotW);
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

  for (const line of series) {
    const g = s("g", { class: "series", "data-series": line.name });
    let path = "";
    line.values.forEach((v, i) => {
      if (v == null) return;
      const moveTo = i === 0 || line.values[i - 1] == null;
      path += `${moveTo ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      g.append(s("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3, fill: line.color }, undefined));
    });
    if (path) g.prepend(s("path", { d: path, fill: "none", stroke: line.color, "stroke-width": 2 }));
    svg.append(g);
  }
  return svg;
}

/** The legend shared by a set of charts: a swatch and a name per series. */
export function legend(series) {
  const ul = document.createElement("ul");
  ul.className = "legend";
  for (const { name, color } of series) {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = color;
    li.append(swatch, name);
    ul.append(li);
  }
  return ul;
}
