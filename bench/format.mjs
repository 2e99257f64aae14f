/**
 * Output helpers: tables printed as aligned Markdown (readable in a terminal, pasteable into
 * docs/benchmarks.md), medians and number formatting.
 */

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Rows of cells → a Markdown table; columns whose cells all look numeric are right-aligned. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => r[i].length)));
  const numeric = header.map((_, i) => rows.every((r) => /^[\d.,×%–-]+$/.test(String(r[i]))));
  const line = (r) => `| ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(all[0]), rule, ...all.slice(1).map(line)].join("\n");
}

export const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "–";

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
/** p50, p99 and max of a list of numbers (NaN for an empty one). */
export const spread = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? { p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.at(-1) } : { p50: NaN, p99: NaN, max: NaN };
};
