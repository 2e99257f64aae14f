/**
 * Turns the rounds into the printed report (per-round tables, medians, the headline ratios) and
 * into the list of failures that make the run exit non-zero: a request that did not get its
 * expected status, a communication that was accepted but not delivered, a Worker that logged an
 * error. The warm-up round is shown and checked but left out of the medians.
 */
import { fmt, median, table } from "./format.mjs";

const perRequest = (x) => (x.cpuMs === undefined ? NaN : x.cpuMs / x.completed);

export function printSummary(rounds, backlog) {
  const measured = rounds.filter((r) => !r.warmup);
  const httpRow = (r, name, label) => {
    const x = r[name];
    return [r.label, label, fmt(x.rps), fmt(x.p50, 1), fmt(x.p99, 1), fmt(x.completed), fmt(failedCount(x)), fmt(perRequest(x), 2)];
  };
  console.log("\nHTTP, per round");
  console.log(
    table(
      ["round", "target", "req/s", "p50 ms", "p99 ms", "responses", "failed", "workerd CPU ms/req"],
      rounds.flatMap((r) => [httpRow(r, "health", "GET /health"), httpRow(r, "send", "POST /api/communications/send")]),
    ),
  );

  console.log("workerd CPU ms/req: CPU time of the workerd process during the target ÷ responses; for sends it includes the consumer delivering alongside.");

  const med = (name, f) => median(measured.map((r) => f(r[name])));
  const m = {};
  for (const name of ["health", "send"]) {
    m[name] = {
      rps: med(name, (x) => x.rps),
      min: Math.min(...measured.map((r) => r[name].rps)),
      max: Math.max(...measured.map((r) => r[name].rps)),
      p50: med(name, (x) => x.p50),
      p99: med(name, (x) => x.p99),
      cpu: med(name, perRequest),
    };
  }
  const medRow = (name, label) => [label, fmt(m[name].rps), `${fmt(m[name].min)}–${fmt(m[name].max)}`, fmt(m[name].p50, 1), fmt(m[name].p99, 1), fmt(m[name].cpu, 2)];
  console.log(`\nHTTP, median of ${plural(measured.length, "round")}`);
  console.log(
    table(
      ["target", "req/s", "req/s range", "p50 ms", "p99 ms", "workerd CPU ms/req"],
      [medRow("health", "GET /health (trivial)"), medRow("send", "POST /api/communications/send")],
    ),
  );
  console.log(
    `\nheadline: send throughput is ${fmt(m.send.rps / m.health.rps, 3)}× the trivial route's (${fmt((100 * m.send.rps) / m.health.rps, 1)} %);` +
      ` send latency is ${fmt(m.send.p50 / m.health.p50, 1)}× at p50 and ${fmt(m.send.p99 / m.health.p99, 1)}× at p99;` +
      ` a send costs ${fmt(m.send.cpu / m.health.cpu, 1)}× the trivial route's workerd CPU`,
  );

  console.log("\nDelivery (queue consumer, sandbox provider), per round");
  console.log(
    table(
      ["round", "201s", "stored", "delivered", "by load end", "drain s", "drain/s", "end-to-end/s", "queue avg s", "p50 s", "p99 s", "max s", "CPU ms/comm"],
      rounds.map((r) => {
        const { delivery: d, times: t } = r;
        const cpu = r.send.cpuMs === undefined ? NaN : (r.send.cpuMs + d.cpuMs) / d.stored;
        return [
          r.label,
          fmt(r.send.expected),
          fmt(d.stored),
          fmt(d.delivered),
          fmt(d.deliveredAtStart),
          fmt(d.seconds, 1),
          fmt(drainRate(d)),
          fmt(t ? d.delivered / (t.spanMs / 1000) : NaN),
          fmt(t?.avgMs / 1000, 2),
          fmt(t?.p50Ms / 1000, 2),
          fmt(t?.p99Ms / 1000, 2),
          fmt(t?.maxMs / 1000, 2),
          fmt(cpu, 2),
        ];
      }),
    ),
  );
  console.log(
    "201s: sends answered 201; stored: rows in D1 (up to one per connection more: requests cut off when the load stopped);\n" +
      "drain/s: deliveries per second after the load stopped; end-to-end/s: delivered ÷ (last delivery − first accept);\n" +
      "queue: created → delivered per communication (s); CPU ms/comm: workerd CPU from the start of the send load until it\n" +
      "is idle again after the last delivery, ÷ stored: accepting plus delivering one communication (and the bench's polling).",
  );
  const times = measured.map((r) => r.times).filter(Boolean);
  console.log(
    `\ndelivery, median of ${plural(measured.length, "round")}: drain ${fmt(median(measured.map((r) => drainRate(r.delivery))))}/s,` +
      ` end-to-end ${fmt(median(measured.map((r) => (r.times ? r.delivery.delivered / (r.times.spanMs / 1000) : NaN))))}/s,` +
      ` created → delivered average ${fmt(median(times.map((t) => t.avgMs)) / 1000, 2)} s (p99 ${fmt(median(times.map((t) => t.p99Ms)) / 1000, 2)} s)`,
  );
  if (backlog) printBacklog(backlog);
  const sum = (f) => rounds.reduce((s, r) => s + f(r), 0) + (backlog ? f({ send: { expected: backlog.accepted }, delivery: backlog.delivery }) : 0);
  console.log(
    `\ntotal: ${fmt(sum((r) => r.send.expected))} sends accepted, ${fmt(sum((r) => r.delivery.stored))} communications stored, ${fmt(sum((r) => r.delivery.delivered))} delivered`,
  );
}

function printBacklog(b) {
  const t = b.times;
  console.log(`\nBacklog: ${fmt(b.accepted)} sends accepted by one POST /api/communications/batch, then drained by the consumer alone`);
  console.log(
    table(
      ["accepted", "batch request s", "delivered", "all delivered after s", "delivered/s", "queue avg s", "p50 s", "p99 s", "max s", "CPU ms/comm"],
      [
        [
          fmt(b.accepted),
          fmt(b.requestSeconds, 2),
          fmt(b.delivery.delivered),
          fmt(t ? t.spanMs / 1000 : NaN, 1),
          fmt(t ? b.delivery.delivered / (t.spanMs / 1000) : NaN),
          fmt(t?.avgMs / 1000, 2),
          fmt(t?.p50Ms / 1000, 2),
          fmt(t?.p99Ms / 1000, 2),
          fmt(t?.maxMs / 1000, 2),
          fmt(b.cpuMs / b.delivery.stored, 2),
        ],
      ],
    ),
  );
  console.log("all delivered after: last delivery − first accept; CPU ms/comm: workerd CPU for the batch request and the drain ÷ communications.");
  console.log(`batch ingest: ${fmt((60 * b.accepted) / b.requestSeconds)} notifications accepted per minute (the seed's target: 10,000; the aim: 100,000)`);
}

export function findFailures(rounds, backlog, connections, workerLogs) {
  const failures = [];
  if (backlog) {
    const d = backlog.delivery;
    if (!d.complete) failures.push(`backlog: only ${d.delivered} of ${d.stored} stored communications reached delivered (${d.why}); by status: ${JSON.stringify(backlog.statuses)}`);
    if (d.stored !== backlog.accepted) failures.push(`backlog: the batch accepted ${backlog.accepted} sends but ${d.stored} communications were stored`);
  }
  for (const r of rounds) {
    for (const name of ["health", "send"]) {
      const x = r[name];
      if (failedCount(x)) {
        failures.push(`round ${r.label} ${name}: status counts ${JSON.stringify(x.counts)}, ${x.socketErrors} socket errors (${x.timeouts} of them timeouts)`);
      }
    }
    const d = r.delivery;
    if (!d.complete) {
      failures.push(
        `round ${r.label}: only ${d.delivered} of ${d.stored} stored communications reached delivered (${d.why}); by status: ${JSON.stringify(r.statuses)}`,
      );
    }
    // A 201 without a stored row would be a lost send. More rows than 201s is expected only for
    // requests still in flight when autocannon stopped: at most one per connection.
    if (d.stored < r.send.expected) failures.push(`round ${r.label}: ${r.send.expected} sends answered 201 but only ${d.stored} communications were stored`);
    if (d.stored - r.send.expected > connections) {
      failures.push(`round ${r.label}: ${d.stored} communications stored but only ${r.send.expected} sends answered 201, more than the ${connections} in flight at the end`);
    }
  }
  if (workerLogs.length) {
    const first = workerLogs.slice(0, 5).map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
    failures.push(`the Workers logged ${workerLogs.length} errors or warnings; the first ones:\n  ${first.join("\n  ")}`);
  }
  return failures;
}

/** autocannon counts a timeout as an error too. */
const failedCount = (x) => x.unexpected + x.socketErrors;
const drainRate = (d) => (d.delivered - d.deliveredAtStart) / d.seconds;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
