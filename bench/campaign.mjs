/**
 * The campaign phase (issue #13), on the served Workers with the sandbox provider: import an
 * audience of N members (POST /api/audiences/:id/members, 10,000 per call), send one campaign to
 * it, and time the fan-out (POST …/send until the campaign is `completed`: every communication
 * created and enqueued on the bulk queue) and the delivery (until all are `delivered`). Around
 * it, transactional sends from other tenants are timed for the same number of seconds twice:
 * with nothing else running, and while the campaign runs. Two series run side by side each time,
 * half the connections each: `priority: "urgent"` (the priority lane, herald-priority-sends) and
 * `normal` (the standard lane, herald-sends), each from a tenant of its own per phase so that
 * D1's created → delivered times of one series and phase can be read alone (queueTimes). The
 * claims under test: a campaign does not starve transactional traffic (its messages have their
 * own queue; docs/campaigns.md), and an urgent send's created → delivered p99 beside a campaign
 * is at most 1.5× its p99 alone (issue 18 §5).
 *
 * Optional in `npm run bench` (`-- --campaign 100000`); alone: `node bench/campaign.mjs --members 5000
 * [--seconds 5] [--rate R]` (`--rate`: open-loop series at R sends/s each instead of closed loop).
 */
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { SEND_BODY, call, createSandboxTenant } from "./api.mjs";
import { settle } from "./cpu.mjs";
import { queueTimes, waitForDelivery } from "./delivery.mjs";
import { fmt, table } from "./format.mjs";
import { hit } from "./load.mjs";
import { isMain, runAlone } from "./alone.mjs";

const PER_CALL = 10_000;
const POLL_MS = 1000;
const STALL_MS = 30_000;
/**
 * Delivery is followed for at most this long after the fan-out ends: at the local simulator's
 * delivery rate a 100,000-message campaign would take half an hour to drain, and a rate over two
 * minutes of steady delivery says as much.
 */
const DELIVERY_WINDOW_MS = 120_000;

/** Issue 18 §5: an urgent send's created → delivered p99 beside a campaign, at most this × alone. */
const PRIORITY_TARGET = 1.5;
export const SERIES = ["urgent", "normal"];
const bodyFor = (priority) => JSON.stringify({ ...JSON.parse(SEND_BODY), priority });

/**
 * Open loop: one send every 1/rate s whatever the answers, for `seconds`. A closed loop slows down
 * with the API, and a slower series fills the consumer's batches more slowly (batches of 10 on the
 * priority lane), so its created → delivered times would rise with no help from the campaign's
 * queue; at a fixed rate only the campaign differs between the two phases.
 */
async function paced(url, tenant, { seconds, rate, priority }) {
  const body = bodyFor(priority);
  const latencies = [];
  let expected = 0;
  let socketErrors = 0;
  const one = async () => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${url}/api/communications/send`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
        body,
      });
      await res.arrayBuffer();
      if (res.status === 201) expected++;
    } catch {
      socketErrors++;
    }
    latencies.push(performance.now() - t0);
  };
  const started = performance.now();
  const inFlight = [];
  for (let i = 0; i < seconds * rate; i++) {
    const due = started + (i * 1000) / rate;
    if (due > performance.now()) await sleep(due - performance.now());
    inFlight.push(one());
  }
  await Promise.all(inFlight);
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { completed: sorted.length, expected, unexpected: sorted.length - expected - socketErrors, socketErrors, rps: sorted.length / seconds, p50: at(0.5), p99: at(0.99) };
}

/** Transactional sends from one tenant for `seconds`: closed loop, or open loop at `rate`/s. */
function transactional(stack, tenant, { seconds, connections, priority, rate }) {
  if (rate) return paced(stack.url, tenant, { seconds, rate, priority });
  return hit({
    url: `${stack.url}/api/communications/send`,
    method: "POST",
    headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
    body: bodyFor(priority),
    expect: 201,
    connections,
    seconds,
  });
}

/**
 * Both series at once, each from its own fresh tenant: closed loop with half the connections each
 * (at least one), or open loop at `rate` sends/s each.
 * @returns {Promise<Record<string, { tenant, http }>>}
 */
export async function bothSeries(stack, tenants, { seconds, connections, rate }) {
  const each = Math.max(1, Math.floor(connections / 2));
  const runs = await Promise.all(SERIES.map((priority) => transactional(stack, tenants[priority], { seconds, connections: each, priority, rate })));
  return Object.fromEntries(SERIES.map((priority, i) => [priority, { tenant: tenants[priority], http: runs[i] }]));
}

/** Waits for each series' sends to be delivered, then reads their created → delivered times. */
export async function drainSeries(stack, series, label, deadline, failures) {
  for (const priority of SERIES) {
    const s = series[priority];
    s.delivery = await waitForDelivery(stack.url, s.tenant.apiKey, deadline);
    if (!s.delivery.complete) failures.push(`campaign: ${priority} transactional sends ${label} not all delivered (${s.delivery.why})`);
    s.queue = await trimmedQueueTimes(stack.db, s.tenant.tenantId);
    s.untrimmed = await queueTimes(stack.db, s.tenant.tenantId);
  }
}

/**
 * The consumer's `max_batch_timeout` (1 s, workers/delivery/wrangler.toml): when a closed-loop
 * series stops, its last partial batch waits out the timeout, so every run would end with up to
 * a batch of ~1 s waits, the p99 of a few hundred sends, whatever ran beside them. Sends created
 * in the series' last second are left out of the percentiles for that reason (both phases
 * alike); `max ms` and the count show what was kept.
 */
const TAIL_MS = 1000;

async function trimmedQueueTimes(db, tenantId) {
  const { results } = await db
    .prepare(
      "SELECT created_at AS c, delivered_at AS d FROM communication WHERE tenant_id = ?1 AND delivered_at IS NOT NULL " +
        "AND created_at <= (SELECT max(created_at) FROM communication WHERE tenant_id = ?1) - ?2",
    )
    .bind(tenantId, TAIL_MS)
    .all();
  if (results.length === 0) return undefined;
  const waits = results.map((r) => r.d - r.c).sort((a, b) => a - b);
  const at = (q) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))];
  return { n: waits.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: waits.at(-1) };
}

/** A new audience of `members` members (`<prefix>0`, `<prefix>1`, … with emails), imported 10,000 per call; returns its id. */
export async function importAudience(stack, tenant, name, members, prefix) {
  const { id } = await call(stack.url, tenant.apiKey, "POST", "/api/audiences", { name });
  for (let from = 0; from < members; from += PER_CALL) {
    const part = Array.from({ length: Math.min(PER_CALL, members - from) }, (_, i) => ({ recipientId: `${prefix}${from + i}`, email: `${prefix}${from + i}@bench.test`, name: `${prefix.toUpperCase()} ${from + i}` }));
    await call(stack.url, tenant.apiKey, "POST", `/api/audiences/${id}/members`, { members: part });
  }
  return id;
}

/**
 * The transactional series timed with nothing else running (the baseline a bulk phase is compared
 * against), between two waits for workerd to go idle; `phase` prefixes the progress line.
 */
export async function seriesAlone(stack, tenants, { seconds, connections, rate, deadline, cpu }, phase, label, failures) {
  await settle(cpu);
  process.stdout.write(`${phase}: transactional sends alone… `);
  const series = await bothSeries(stack, tenants, { seconds, connections, rate });
  await drainSeries(stack, series, label, deadline, failures);
  console.log(`urgent created → delivered p99 ${fmt(series.urgent.queue?.p99Ms, 0)} ms`);
  await settle(cpu);
  return series;
}

export const newTenants = async (stack, phase) =>
  Object.fromEntries(await Promise.all(SERIES.map(async (p) => [p, await createSandboxTenant(stack.url, stack.adminToken, `bench ${p} ${phase}`)])));

/**
 * @returns the figures printed by printCampaign; `failures` lists what makes the run fail.
 */
export async function measureCampaign(stack, { members, seconds = 5, connections = 10, rate, deadline, cpu }) {
  const failures = [];
  const owner = await createSandboxTenant(stack.url, stack.adminToken, "bench campaign");
  const alone = await newTenants(stack, "alone");
  const beside = await newTenants(stack, "during the campaign");

  process.stdout.write(`campaign: importing ${fmt(members)} members… `);
  const importStarted = performance.now();
  const audienceId = await importAudience(stack, owner, "bench audience", members, "r");
  const importSeconds = (performance.now() - importStarted) / 1000;
  const { count } = await call(stack.url, owner.apiKey, "GET", `/api/audiences/${audienceId}/count`);
  if (count !== members) failures.push(`campaign: the audience holds ${count} members, not ${members}`);
  console.log(`${fmt(importSeconds, 1)} s`);

  const before = await seriesAlone(stack, alone, { seconds, connections, rate, deadline, cpu }, "campaign", "alone", failures);

  const campaign = await call(stack.url, owner.apiKey, "POST", "/api/campaigns", { name: "bench", audienceId, channel: "email", subject: "Spring sale", content: "Hello, spring is here: 20% off everything this week." });
  const started = performance.now();
  await call(stack.url, owner.apiKey, "POST", `/api/campaigns/${campaign.id}/send`);
  process.stdout.write("campaign: fanning out, transactional sends alongside… ");
  // The load runs while the poller follows the campaign.
  const during = bothSeries(stack, beside, { seconds, connections, rate });
  let fanOutSeconds;
  let deliveredSeconds;
  let last;
  let lastMove = performance.now();
  while (deliveredSeconds === undefined) {
    if (fanOutSeconds !== undefined && performance.now() - started > fanOutSeconds * 1000 + DELIVERY_WINDOW_MS) {
      deliveredSeconds = (performance.now() - started) / 1000; // partial: the rate is what counts
      break;
    }
    if (Date.now() > deadline) {
      failures.push("campaign: time budget exhausted before every campaign message was delivered");
      break;
    }
    if (performance.now() - lastMove > STALL_MS) {
      failures.push(`campaign: no progress for ${STALL_MS / 1000} s`);
      break;
    }
    await sleep(POLL_MS);
    const now = await call(stack.url, owner.apiKey, "GET", `/api/campaigns/${campaign.id}`);
    if (!last || now.progress.targeted !== last.progress.targeted || now.progress.delivered !== last.progress.delivered) lastMove = performance.now();
    last = now;
    if (fanOutSeconds === undefined && now.status === "completed") fanOutSeconds = (performance.now() - started) / 1000;
    if (now.status === "completed" && now.progress.delivered === now.progress.targeted) deliveredSeconds = (performance.now() - started) / 1000;
  }
  const after = await during;
  // Their sends were accepted while the campaign ran; most are delivered by now (the priority
  // lane drains beside the bulk one), so this wait adds nothing to their created → delivered time.
  await drainSeries(stack, after, "during the campaign", deadline, failures);
  console.log(fanOutSeconds ? `fanned out in ${fmt(fanOutSeconds, 1)} s` : "did not finish");
  for (const [label, series] of [["alone", before], ["during the campaign", after]]) {
    for (const priority of SERIES) {
      const r = series[priority].http;
      if (r.unexpected || r.socketErrors) failures.push(`campaign: ${priority} transactional sends ${label}: ${r.unexpected} unexpected responses, ${r.socketErrors} socket errors`);
    }
  }
  if (last && last.progress.targeted !== members) failures.push(`campaign: ${last.progress.targeted} communications for ${members} members (skipped ${last.progress.skipped})`);
  return {
    members,
    load: rate ? `open loop, ${rate} sends/s each` : `closed loop, ${Math.max(1, Math.floor(connections / 2))} connections each`,
    delivered: last?.progress.delivered ?? 0,
    importSeconds,
    fanOutSeconds,
    deliveredSeconds,
    progress: last?.progress,
    before,
    during: after,
    failures,
  };
}

export function printCampaign(r) {
  if (!r) return;
  const perSecond = (n, s) => (s ? n / s : NaN);
  console.log(`\nCampaign: ${fmt(r.members)} members, email, sandbox provider`);
  console.log(
    table(
      ["step", "seconds", "per second"],
      [
        ["audience import (JSON, 10,000 per call)", fmt(r.importSeconds, 1), fmt(perSecond(r.members, r.importSeconds))],
        ["fan-out (send → every communication created and enqueued)", fmt(r.fanOutSeconds, 1), fmt(perSecond(r.members, r.fanOutSeconds))],
        [
          r.delivered === r.members
            ? "delivery (send → every communication delivered)"
            : `delivery (send → ${fmt(r.delivered)} delivered when the ${DELIVERY_WINDOW_MS / 1000} s window after the fan-out closed)`,
          fmt(r.deliveredSeconds, 1),
          fmt(perSecond(r.delivered, r.deliveredSeconds)),
        ],
      ],
    ),
  );
  const rows = [];
  for (const priority of SERIES) {
    for (const [label, s] of [["alone", r.before[priority]], ["while the campaign runs", r.during[priority]]]) {
      rows.push([`${priority}, ${label}`, fmt(s.http.expected), fmt(s.http.rps), fmt(s.http.p50, 1), fmt(s.http.p99, 1), fmt(s.queue?.n), fmt(s.queue?.p50Ms, 0), fmt(s.queue?.p99Ms, 0), fmt(s.queue?.maxMs, 0), fmt(s.untrimmed?.p99Ms, 0)]);
    }
  }
  console.log(`\nTransactional sends from other tenants, ${SERIES.join(" and ")} side by side (${r.load})`);
  console.log(table(["series", "201s", "req/s", "POST p50 ms", "POST p99 ms", "kept", "created → delivered p50 ms", "p99 ms", "max ms", "p99 with the last 1 s"], rows));
  console.log(`created → delivered from D1, over the sends created before each series' last ${TAIL_MS / 1000} s (its last partial batch waits out the batch timeout)`);
  for (const priority of SERIES) {
    const q = (s) => s.queue ?? { p50Ms: NaN, p99Ms: NaN };
    const [a, d] = [q(r.before[priority]), q(r.during[priority])];
    const target = priority === "urgent" ? ` (target ≤ ${PRIORITY_TARGET}×: ${d.p99Ms / a.p99Ms <= PRIORITY_TARGET ? "met" : "missed"})` : "";
    console.log(
      `${priority}: created → delivered with the campaign ÷ without: p50 ${fmt(d.p50Ms / a.p50Ms, 2)}×, p99 ${fmt(d.p99Ms / a.p99Ms, 2)}×${target}; ` +
        `POST p99 ${fmt(r.during[priority].http.p99 / r.before[priority].http.p99, 2)}×`,
    );
  }
}

export const campaignFailures = (r) => r?.failures ?? [];

// Alone: build and serve the stack, run only this phase.
if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { members: { type: "string", default: "5000" }, seconds: { type: "string", default: "5" }, rate: { type: "string" } } });
  const rate = values.rate ? Number(values.rate) : undefined;
  await runAlone((stack) => measureCampaign(stack, { members: Number(values.members), seconds: Number(values.seconds), rate, deadline: Date.now() + 15 * 60_000 }), printCampaign);
}
