/**
 * The workflows phase (issue 23), on the served Workers with the sandbox email provider:
 * 1. trigger throughput: one `POST /api/workflows/:key/trigger` with 1,000 recipients of a
 *    one-send workflow; how long the call takes to answer (once every run is stored; their
 *    instances are created from the campaigns queue, src/workflows/creation.ts),
 *    until every run has started (none `pending`) and until every run is `completed`, read from D1;
 * 2. step overhead: a 3-send run's created → its last send delivered, against a direct
 *    `POST /api/communications/send`'s created → delivered, one at a time, interleaved;
 * 3. an audience trigger beside transactional sends: an N-member audience fanned out onto
 *    JOURNEYS_BULK (src/workflows/fanout.ts, paced to Workflows' 100 creations/s) while urgent and
 *    normal sends from other tenants are timed, and the same sends alone first (bench/campaign.mjs's
 *    series): the claim is that bulk runs, whose sends take the bulk lane, leave the transactional
 *    created → delivered p99 where it was.
 *
 * Optional in `npm run bench` (`-- --workflows 10000`; the default run uses a small audience);
 * alone: `node bench/workflows.mjs --audience 10000 [--seconds 5] [--rate R]`.
 */
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { SEND_BODY, call, createSandboxTenant } from "./api.mjs";
import { settle } from "./cpu.mjs";
import { SERIES, bothSeries, drainSeries, importAudience, newTenants, seriesAlone } from "./campaign.mjs";
import { fmt, median, table } from "./format.mjs";
import { isMain, runAlone } from "./alone.mjs";

const TRIGGER_RECIPIENTS = 1000;
const OVERHEAD_SAMPLES = 10;
const POLL_MS = 100;
/** Local Workflows instances start at a few to twenty per second here, so a 250-member page can take over a minute. */
const STALL_MS = 180_000;
/** After the fan-out has started every run, their completion is followed at most this long. */
const COMPLETION_WINDOW_MS = 180_000;

const email = (id, content) => ({ type: "send", id, channel: "email", subject: "Bench", content });
const recipient = (i, prefix) => ({ type: "customer", id: `${prefix}${i}`, email: `${prefix}${i}@bench.test`, name: `R ${i}` });

const one = async (db, sql, ...params) => (await db.prepare(sql).bind(...params).first()) ?? {};
const runCounts = (db, tenantId) =>
  one(db, "SELECT count(*) AS runs, sum(status = 'completed') AS completed, sum(status != 'pending') AS started, sum(status IN ('failed','cancelled')) AS bad FROM workflow_run WHERE tenant_id = ?", tenantId);

/** Polls until `done(counts)` or no change for STALL_MS; returns the last counts and the seconds since `t0`. */
async function until(db, tenantId, t0, deadline, done) {
  let last;
  let lastMove = performance.now();
  for (;;) {
    const c = await runCounts(db, tenantId);
    if (done(c)) return { ...c, seconds: (performance.now() - t0) / 1000, complete: true };
    if (!last || c.completed !== last.completed || c.runs !== last.runs) lastMove = performance.now();
    last = c;
    if (performance.now() - lastMove > STALL_MS || Date.now() > deadline) return { ...c, seconds: (performance.now() - t0) / 1000, complete: false };
    await sleep(POLL_MS);
  }
}

async function measureTrigger(stack, deadline, failures) {
  const t = await createSandboxTenant(stack.url, stack.adminToken, "bench workflow trigger");
  await call(stack.url, t.apiKey, "POST", "/api/workflows", { key: "bench-one", name: "One send", steps: [email("hello", "Hello {{name}}")] });
  const recipients = Array.from({ length: TRIGGER_RECIPIENTS }, (_, i) => recipient(i, "t"));
  process.stdout.write(`workflows: one trigger of ${fmt(TRIGGER_RECIPIENTS)} recipients… `);
  const t0 = performance.now();
  const res = await call(stack.url, t.apiKey, "POST", "/api/workflows/bench-one/trigger", { recipients, data: {} });
  const requestSeconds = (performance.now() - t0) / 1000;
  if (res.runs.length !== TRIGGER_RECIPIENTS) failures.push(`workflows: the trigger answered ${res.runs.length} runs for ${TRIGGER_RECIPIENTS} recipients`);
  const started = await until(stack.db, t.tenantId, t0, deadline, (c) => c.started === TRIGGER_RECIPIENTS);
  const done = await until(stack.db, t.tenantId, t0, deadline, (c) => c.completed + c.bad === TRIGGER_RECIPIENTS);
  if (!started.complete) failures.push(`workflows: ${started.started} of ${TRIGGER_RECIPIENTS} triggered runs started`);
  if (!done.complete || done.bad) failures.push(`workflows: ${done.completed} of ${TRIGGER_RECIPIENTS} triggered runs completed (${done.bad ?? 0} failed or cancelled)`);
  console.log(`${fmt(requestSeconds, 2)} s to answer, ${fmt(started.seconds, 1)} s until every run started, ${fmt(done.seconds, 1)} s to complete`);
  return { requestSeconds, startedSeconds: started.seconds, started: started.started, completedSeconds: done.seconds, completed: done.completed };
}

/** Waits until the tenant has `n` delivered communications (D1), or the deadline. */
async function delivered(db, tenantId, n, deadline) {
  for (;;) {
    const { d } = await one(db, "SELECT count(*) AS d FROM communication WHERE tenant_id = ? AND status = 'delivered'", tenantId);
    if (d >= n) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}

async function measureOverhead(stack, deadline, failures) {
  const t = await createSandboxTenant(stack.url, stack.adminToken, "bench workflow overhead");
  const direct = await createSandboxTenant(stack.url, stack.adminToken, "bench direct send");
  await call(stack.url, t.apiKey, "POST", "/api/workflows", { key: "bench-three", name: "Three sends", steps: [email("first", "One"), email("second", "Two"), email("third", "Three")] });
  process.stdout.write(`workflows: ${OVERHEAD_SAMPLES} three-send runs and ${OVERHEAD_SAMPLES} direct sends, one at a time… `);
  for (let i = 0; i < OVERHEAD_SAMPLES; i++) {
    await call(stack.url, direct.apiKey, "POST", "/api/communications/send", JSON.parse(SEND_BODY));
    if (!(await delivered(stack.db, direct.tenantId, i + 1, deadline))) failures.push("workflows: a direct send was not delivered in time");
    await call(stack.url, t.apiKey, "POST", "/api/workflows/bench-three/trigger", { recipients: [recipient(i, "o")], data: {} });
    if (!(await delivered(stack.db, t.tenantId, 3 * (i + 1), deadline))) failures.push("workflows: a three-send run's sends were not delivered in time");
  }
  const { results: runs } = await stack.db
    .prepare(
      "SELECT r.created_at AS c, max(m.delivered_at) AS last, min(m.created_at) AS first FROM workflow_run r JOIN communication m ON m.workflow_run_id = r.id " +
        "WHERE r.tenant_id = ? GROUP BY r.id",
    )
    .bind(t.tenantId)
    .all();
  const { results: sends } = await stack.db.prepare("SELECT created_at AS c, delivered_at AS d FROM communication WHERE tenant_id = ? AND delivered_at IS NOT NULL").bind(direct.tenantId).all();
  const r = {
    runToLastMs: median(runs.map((x) => x.last - x.c)),
    runToFirstCreatedMs: median(runs.map((x) => x.first - x.c)),
    directMs: median(sends.map((x) => x.d - x.c)),
    samples: Math.min(runs.length, sends.length),
  };
  console.log(`run ${fmt(r.runToLastMs, 0)} ms, direct ${fmt(r.directMs, 0)} ms`);
  return r;
}

async function measureAudience(stack, { members, seconds, connections, rate, deadline, cpu }, failures) {
  const owner = await createSandboxTenant(stack.url, stack.adminToken, "bench workflow audience");
  const alone = await newTenants(stack, "workflows alone");
  const beside = await newTenants(stack, "beside the audience trigger");
  process.stdout.write(`workflows: importing ${fmt(members)} audience members… `);
  const audienceId = await importAudience(stack, owner, "bench workflow audience", members, "a");
  await call(stack.url, owner.apiKey, "POST", "/api/workflows", { key: "bench-bulk", name: "Audience", steps: [email("hello", "Hello {{name}}, spring is here.")] });
  console.log("done");

  const before = await seriesAlone(stack, alone, { seconds, connections, rate, deadline, cpu }, "workflows", "alone (workflows)", failures);

  const t0 = performance.now();
  const { fanout } = await call(stack.url, owner.apiKey, "POST", "/api/workflows/bench-bulk/trigger", { audienceId, data: {} });
  process.stdout.write("workflows: audience trigger fanning out, transactional sends alongside… ");
  let during;
  let fanOutSeconds;
  let view;
  let lastMove = performance.now();
  while (fanOutSeconds === undefined) {
    await sleep(500);
    const next = await call(stack.url, owner.apiKey, "GET", `/api/workflows/bench-bulk/fanouts/${fanout.id}`);
    if (!view || next.started !== view.started) lastMove = performance.now();
    view = next;
    // The series start once the first page's runs exist, so they overlap bulk runs and their sends.
    if (!during && view.started > 0) during = bothSeries(stack, beside, { seconds, connections, rate });
    if (view.state !== "running") fanOutSeconds = (performance.now() - t0) / 1000;
    else if (performance.now() - lastMove > STALL_MS || Date.now() > deadline) {
      failures.push(`workflows: the fan-out stopped at ${view.started} of ${members} runs started`);
      break;
    }
  }
  const after = await (during ?? bothSeries(stack, beside, { seconds, connections, rate }));
  const windowEnd = Math.min(deadline, Date.now() + COMPLETION_WINDOW_MS);
  const done = await until(stack.db, owner.tenantId, t0, windowEnd, (c) => c.runs === members && c.completed + c.bad === members);
  await drainSeries(stack, after, "beside the audience trigger", deadline, failures);
  const { d } = await one(stack.db, "SELECT count(*) AS d FROM communication WHERE tenant_id = ? AND status = 'delivered'", owner.tenantId);
  console.log(fanOutSeconds ? `every run started in ${fmt(fanOutSeconds, 1)} s, ${fmt(done.completed)} completed after ${fmt(done.seconds, 1)} s` : "did not finish");
  if (view?.started !== members) failures.push(`workflows: the fan-out started ${view?.started} runs for ${members} members`);
  if (done.bad) failures.push(`workflows: ${done.bad} bulk runs failed or were cancelled`);
  for (const [label, series] of [["alone", before], ["beside the audience trigger", after]]) {
    for (const p of SERIES) {
      const r = series[p].http;
      if (r.unexpected || r.socketErrors) failures.push(`workflows: ${p} transactional sends ${label}: ${r.unexpected} unexpected responses, ${r.socketErrors} socket errors`);
    }
  }
  return { members, fanOutSeconds, completedSeconds: done.seconds, completed: done.completed, delivered: d, before, during: after, load: rate ? `open loop, ${rate} sends/s each` : `closed loop, ${Math.max(1, Math.floor(connections / 2))} connections each` };
}

/** @returns the figures printWorkflows prints; `failures` lists what makes the run fail. */
export async function measureWorkflows(stack, { members, seconds = 5, connections = 10, rate, deadline, cpu }) {
  const failures = [];
  const trigger = await measureTrigger(stack, deadline, failures);
  await settle(cpu);
  const overhead = await measureOverhead(stack, deadline, failures);
  await settle(cpu);
  const audience = members ? await measureAudience(stack, { members, seconds, connections, rate, deadline, cpu }, failures) : undefined;
  return { trigger, overhead, audience, failures };
}

export function printWorkflows(r) {
  if (!r) return;
  const per = (n, s) => (s ? n / s : NaN);
  console.log(`\nWorkflows: one trigger of ${fmt(TRIGGER_RECIPIENTS)} recipients (one email send each, sandbox provider)`);
  console.log(
    table(
      ["step", "seconds", "runs per second"],
      [
        ["POST …/trigger → 202 (every run stored, instance creation queued)", fmt(r.trigger.requestSeconds, 2), fmt(per(TRIGGER_RECIPIENTS, r.trigger.requestSeconds))],
        [`POST …/trigger → ${fmt(r.trigger.started)} runs started (none pending)`, fmt(r.trigger.startedSeconds, 1), fmt(per(r.trigger.started, r.trigger.startedSeconds))],
        [`POST …/trigger → ${fmt(r.trigger.completed)} runs completed`, fmt(r.trigger.completedSeconds, 1), fmt(per(r.trigger.completed, r.trigger.completedSeconds))],
      ],
    ),
  );
  const o = r.overhead;
  console.log(`\nStep overhead (medians of ${o.samples}, one at a time)`);
  console.log(
    table(
      ["measure", "ms"],
      [
        ["direct send: created → delivered", fmt(o.directMs, 0)],
        ["3-send run: run created → first send created", fmt(o.runToFirstCreatedMs, 0)],
        ["3-send run: run created → last send delivered", fmt(o.runToLastMs, 0)],
      ],
    ),
  );
  console.log(`3-send run ÷ direct send: ${fmt(o.runToLastMs / o.directMs, 2)}×`);
  const a = r.audience;
  if (!a) return;
  console.log(`\nAudience trigger: ${fmt(a.members)} members on JOURNEYS_BULK (one email send each)`);
  console.log(
    table(
      ["step", "seconds", "runs per second"],
      [
        ["trigger → every run started (fan-out completed)", fmt(a.fanOutSeconds, 1), fmt(per(a.members, a.fanOutSeconds))],
        [`trigger → ${fmt(a.completed)} runs completed, ${fmt(a.delivered)} sends delivered`, fmt(a.completedSeconds, 1), fmt(per(a.completed, a.completedSeconds))],
      ],
    ),
  );
  const rows = [];
  for (const p of SERIES) {
    for (const [label, s] of [["alone", a.before[p]], ["beside the audience trigger", a.during[p]]]) {
      rows.push([`${p}, ${label}`, fmt(s.http.expected), fmt(s.http.rps), fmt(s.http.p99, 1), fmt(s.queue?.n), fmt(s.queue?.p50Ms, 0), fmt(s.queue?.p99Ms, 0)]);
    }
  }
  console.log(`\nTransactional sends from other tenants (${a.load})`);
  console.log(table(["series", "201s", "req/s", "POST p99 ms", "kept", "created → delivered p50 ms", "p99 ms"], rows));
  for (const p of SERIES) {
    const q = (s) => s.queue ?? { p99Ms: NaN };
    console.log(`${p}: created → delivered p99 beside the audience trigger ÷ alone: ${fmt(q(a.during[p]).p99Ms / q(a.before[p]).p99Ms, 2)}×`);
  }
}

export const workflowFailures = (r) => r?.failures ?? [];

// Alone: build and serve the stack, run only this phase.
if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { audience: { type: "string", default: "2000" }, seconds: { type: "string", default: "5" }, rate: { type: "string" } } });
  const rate = values.rate ? Number(values.rate) : undefined;
  await runAlone((stack) => measureWorkflows(stack, { members: Number(values.audience), seconds: Number(values.seconds), rate, deadline: Date.now() + 15 * 60_000 }), printWorkflows);
}
