/**
 * `npm run bench -- --count`: runs bench/count/paths.count.ts in workerd (its own vitest config)
 * and prints, per path, D1 round trips, D1 statements, Durable Object calls and queue sends per
 * message, for one send and for a batch, beside the targets of issue 18. The lifecycle row is the
 * sum of the stages a message passes with no tenant webhook endpoint: accept, deliver, the fan-out
 * of `sent`, the delivery receipt, the fan-out of `delivered`.
 */
import { spawn } from "node:child_process";

const LIFECYCLE = ["accept", "deliver", "fan-out: sent", "receipt (provider webhook)", "fan-out: delivered"];
const ORDER = ["accept", "accept with a template", "deliver", "fan-out: sent", "receipt (provider webhook)", "fan-out: delivered", "fan-out, one endpoint subscribed", "webhook attempt (one endpoint)"];
const TARGETS = {
  accept: { single: "<= 1 RT, 1 DO, 1 queue send" },
  deliver: { batch: "<= 0.2 RT/msg" },
  "receipt (provider webhook)": { batch: "<= 0.2 RT/msg" },
  "whole lifecycle": { single: "<= 8 stmts/msg", batch: "<= 8 stmts/msg" },
};

/** Runs the count and resolves with its parsed HERALD_COUNT line. */
export function runCount(root) {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["vitest", "run", "--config", "bench/count/vitest.config.ts"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      // vitest prefixes the line with its own colour codes.
      const line = /HERALD_COUNT (\{.*\})/.exec(out);
      if (code !== 0 || !line) return reject(new Error(`the count run failed (exit ${code}):\n${(out + err).slice(-3000)}`));
      resolve(JSON.parse(line[1]));
    });
  });
}

const KEYS = ["roundTrips", "statements", "doCalls", "queueSends"];
const perMessage = (stages) => {
  const messages = stages[0]?.messages || 1;
  return Object.fromEntries(KEYS.map((k) => [k, stages.reduce((sum, s) => sum + s.counts[k], 0) / messages]));
};
const cell = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** The table rows: per path, per-message figures for one send and for the batch. */
export function countRows(result) {
  const rows = ORDER.map((path) => ({
    path,
    single: result.runs.single.filter((s) => s.path === path),
    batch: result.runs.batch.filter((s) => s.path === path),
  })).filter((r) => r.single.length || r.batch.length);
  const lifecycle = (stages) => {
    const per = LIFECYCLE.map((p) => perMessage(stages.filter((s) => s.path === p)));
    return Object.fromEntries(KEYS.map((k) => [k, per.reduce((sum, p) => sum + p[k], 0)]));
  };
  return [
    ...rows.map((r) => ({ path: r.path, single: perMessage(r.single), batch: perMessage(r.batch) })),
    { path: "whole lifecycle", single: lifecycle(result.runs.single), batch: lifecycle(result.runs.batch) },
  ];
}

export function printCount(result) {
  const rows = countRows(result);
  const header = ["path", "1: RT", "stmts", "DO", "queue", `${result.batch}: RT/msg`, "stmts/msg", "DO/msg", "queue/msg", "target"];
  const lines = rows.map((r) => [
    r.path,
    ...KEYS.map((k) => cell(r.single[k])),
    ...KEYS.map((k) => cell(r.batch[k])),
    [TARGETS[r.path]?.single, TARGETS[r.path]?.batch && `batch >= 10: ${TARGETS[r.path].batch}`].filter(Boolean).join("; "),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmtLine = (l) => l.map((c, i) => (i === 0 || i === l.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  console.log("\nbilled calls per message, caches warm (RT: D1 round trips; stmts: D1 statements; DO: Durable Object calls; queue: queue send calls)");
  console.log(fmtLine(header));
  for (const l of lines) console.log(fmtLine(l));
  console.log("whole lifecycle = accept + deliver + fan-out of sent + receipt + fan-out of delivered, for a tenant with no webhook endpoint.");
}
