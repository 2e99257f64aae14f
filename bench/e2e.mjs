/**
 * End-to-end bench: `npm run bench:e2e [-- --rate 40 --seconds 8 --batches 200 --events 100]`.
 *
 * On the same served Workers as bench/run.mjs (bench/stack.mjs), with SendGrid-shaped mock
 * providers on 127.0.0.1 (bench/mock-provider.mjs) instead of the sandbox:
 *
 * 1. Accept → provider at a sustained rate: sends are fired open-loop at `--rate` per second for
 *    `--seconds`, and each is timed from the API's 201 to the mock provider receiving its request,
 *    p50/p99. Four scenarios, one after the other in one run: a healthy provider; the primary
 *    answering 503 (failover to a healthy secondary, circuit breaker on, as shipped); the primary
 *    hanging until its 1 s timeout with the breaker on; and the same with the breaker off
 *    (`settings.breaker.failures` 1000). The difference between the rows is what an outage costs.
 * 2. Webhook ingest: signed SendGrid event batches (`--events` per batch, `--batches` of them, 10
 *    in flight) posted to the healthy tenant's webhook URL; batches/s, events/s and latency, then a
 *    check that every communication reached `clicked`.
 *
 * Exits 1 when a send was refused, a message never reached a provider, one reached it twice, a
 * webhook batch was refused or a Worker logged an error.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { dirname, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { call } from "./api.mjs";
import { settle, workerdCpuClock } from "./cpu.mjs";
import { machine, versions } from "./environment.mjs";
import { fmt, table } from "./format.mjs";
import { startMockProvider } from "./mock-provider.mjs";
import { startStack } from "./stack.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WATCHDOG_MS = 300_000;
const STALL_MS = 20_000;

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "40" },
    seconds: { type: "string", default: "8" },
    batches: { type: "string", default: "200" },
    events: { type: "string", default: "100" },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const BATCHES = Number(args.batches);
const EVENTS_PER_BATCH = Number(args.events);
for (const [name, n] of Object.entries({ rate: RATE, seconds: SECONDS, batches: BATCHES, events: EVENTS_PER_BATCH })) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
}

const SCENARIOS = [
  { name: "healthy provider", primary: "accept" },
  { name: "primary 503 → failover, breaker on", primary: "fail" },
  { name: "primary hangs (1 s timeout), breaker on", primary: "hang" },
  { name: "primary hangs (1 s timeout), breaker off", primary: "hang", breakerOff: true },
];

let stack;
const mocks = [];
const failures = [];
async function shutdown(code, message) {
  if (message) console.error(message);
  await Promise.allSettled(mocks.map((m) => m.close()));
  await stack?.close().catch(() => {});
  process.exit(code);
}
process.once("SIGINT", () => shutdown(130, "\ninterrupted"));
setTimeout(() => shutdown(2, `FAIL: the bench did not finish within ${WATCHDOG_MS / 1000} s`), WATCHDOG_MS).unref();

try {
  const m = machine();
  const v = versions();
  console.log(`Herald end-to-end bench, ${new Date().toISOString()}`);
  console.log(`machine:  ${m.nproc} CPUs (${m.cpu}), ${fmt(m.memoryGiB, 1)} GiB RAM; load average ${m.load.map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`versions: node ${v.node}, wrangler ${v.wrangler}, miniflare ${v.miniflare}`);
  console.log(`load:     ${RATE} sends/s for ${SECONDS} s per scenario (open loop); webhooks: ${BATCHES} batches × ${EVENTS_PER_BATCH} events, 10 in flight`);
  console.log("\nbuilding both Workers and starting Miniflare…");
  await startStack(ROOT, (created) => (stack = created), { assets: false });
  const cpu = workerdCpuClock();
  const results = [];
  let healthy;
  for (const scenario of SCENARIOS) {
    await settle(cpu);
    const result = await runScenario(scenario);
    results.push(result);
    healthy ??= result;
  }
  printScenarios(results);
  await settle(cpu);
  const ingest = await runWebhookIngest(healthy);
  printIngest(ingest);
  if (stack.workerErrors.length) failures.push(`the Workers logged ${stack.workerErrors.length} errors, first: ${stack.workerErrors[0].slice(0, 300)}`);
  if (failures.length) await shutdown(1, `\n${failures.map((f) => `FAIL: ${f}`).join("\n")}`);
  console.log("\nOK: every send was accepted, reached a provider exactly once, and every webhook batch was applied.");
  await shutdown(0);
} catch (error) {
  await shutdown(1, `\nFAIL: ${error?.stack ?? error}\n${stack?.workerErrors.slice(0, 3).join("\n") ?? ""}`);
}

async function mock(mode) {
  const server = await startMockProvider(mode);
  mocks.push(server);
  stack.allowOutbound(server.origin);
  return server;
}

/** A tenant with SendGrid configs pointing at the mocks; rate limits far above the load. */
async function setUpTenant(scenario, primary, secondary, verificationKey) {
  const { tenant, apiKey } = await call(stack.url, stack.adminToken, "POST", "/admin/tenants", { name: `e2e ${scenario.name}` });
  await call(stack.url, stack.adminToken, "PATCH", `/admin/tenants/${tenant.id}`, { rateLimit: { perSecond: 100_000, burst: 1_000_000 } });
  const settings = (origin, extra = {}) => ({
    from: "bench@herald.test",
    baseUrl: origin,
    rateLimit: { perSecond: 10_000, burst: 10_000 },
    timeoutMs: 1000,
    ...extra,
  });
  const first = await call(stack.url, apiKey, "POST", "/api/providers", {
    channel: "email",
    provider: "sendgrid",
    priority: 1,
    credentials: { apiKey: "SG.bench" },
    settings: settings(primary.origin, { ...(scenario.breakerOff ? { breaker: { failures: 1000 } } : {}), ...(verificationKey ? { webhookVerificationKey: verificationKey } : {}) }),
  });
  if (secondary) {
    await call(stack.url, apiKey, "POST", "/api/providers", { channel: "email", provider: "sendgrid", priority: 2, credentials: { apiKey: "SG.bench" }, settings: settings(secondary.origin) });
  }
  return { tenantId: tenant.id, apiKey, primaryConfig: first };
}

async function runScenario(scenario) {
  const keys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const verificationKey = keys.publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const receiver = await mock("accept");
  const primary = scenario.primary === "accept" ? receiver : await mock(scenario.primary);
  const tenant = await setUpTenant(scenario, primary, primary === receiver ? undefined : receiver, verificationKey);
  process.stdout.write(`${scenario.name}: sending… `);

  const sends = [];
  const started = performance.now();
  const total = RATE * SECONDS;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sentAt = performance.now();
    sends.push(
      fetch(`${stack.url}/api/communications/send`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ channel: "email", recipientContact: `r${i}@example.com`, subject: "Receipt", content: `Hello, your receipt #${i} is ready.` }),
      }).then(async (res) => ({ status: res.status, id: res.status === 201 ? (await res.json()).id : null, sentAt, acceptedAt: performance.now() })),
    );
  }
  const answers = await Promise.all(sends);
  const accepted = answers.filter((a) => a.status === 201);
  if (accepted.length !== total) failures.push(`${scenario.name}: ${total - accepted.length} of ${total} sends were not accepted`);

  // Wait for every accepted message to reach the healthy mock (or stop making progress).
  const want = new Set(accepted.map((a) => a.id));
  let seen = 0;
  let lastMove = performance.now();
  while (distinct(receiver.received, want) < want.size && performance.now() - lastMove < STALL_MS) {
    await sleep(100);
    const now = distinct(receiver.received, want);
    if (now !== seen) lastMove = performance.now();
    seen = now;
  }
  const firstSeen = new Map();
  for (const r of receiver.received) if (r.id && !firstSeen.has(r.id)) firstSeen.set(r.id, r.at);
  const fromAccept = [];
  const fromRequest = [];
  for (const a of accepted) {
    const at = firstSeen.get(a.id);
    if (at === undefined) continue;
    fromAccept.push(at - a.acceptedAt);
    fromRequest.push(at - a.sentAt);
  }
  const reached = firstSeen.size;
  const duplicates = receiver.received.length - reached;
  if (reached !== accepted.length) {
    const { results: statuses } = await stack.db
      .prepare("SELECT status, error_message AS error, count(*) AS n FROM communication WHERE tenant_id = ? GROUP BY status, error_message")
      .bind(tenant.tenantId)
      .all();
    failures.push(`${scenario.name}: only ${reached} of ${accepted.length} accepted sends reached a provider; statuses: ${JSON.stringify(statuses)}`);
  }
  if (duplicates) failures.push(`${scenario.name}: ${duplicates} messages reached the provider twice`);
  const primaryCalls = primary === receiver ? reached : await primaryCallCount(tenant.tenantId, tenant.primaryConfig.id);
  console.log(`${reached} of ${accepted.length} reached the provider`);
  return {
    scenario,
    tenant,
    keys,
    accepted: accepted.length,
    reached,
    duplicates,
    primaryCalls,
    ids: accepted.map((a) => a.id),
    apiP50: quantile(answers.map((a) => a.acceptedAt - a.sentAt), 0.5),
    accept: { p50: quantile(fromAccept, 0.5), p99: quantile(fromAccept, 0.99), max: quantile(fromAccept, 1) },
    request: { p50: quantile(fromRequest, 0.5), p99: quantile(fromRequest, 0.99) },
  };
}

function distinct(received, want) {
  return new Set(received.filter((r) => want.has(r.id)).map((r) => r.id)).size;
}

/** Calls the failing primary took: its attempt entries on the timelines. */
async function primaryCallCount(tenantId, configId) {
  const row = await stack.db
    .prepare("SELECT count(*) AS n FROM communication_event WHERE tenant_id = ? AND provider_config_id = ? AND kind = 'attempt'")
    .bind(tenantId, configId)
    .first();
  return row.n;
}

function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function printScenarios(results) {
  console.log("\nAccept → provider (ms), one run, scenarios in sequence");
  console.log(
    table(
      ["scenario", "accepted", "reached", "dupes", "primary calls", "API p50", "p50", "p99", "max", "request→provider p50", "p99"],
      results.map((r) => [
        r.scenario.name,
        fmt(r.accepted),
        fmt(r.reached),
        fmt(r.duplicates),
        fmt(r.primaryCalls),
        fmt(r.apiP50, 1),
        fmt(r.accept.p50),
        fmt(r.accept.p99),
        fmt(r.accept.max),
        fmt(r.request.p50),
        fmt(r.request.p99),
      ]),
    ),
  );
  const base = results[0].accept;
  console.log(
    "\nfailover cost, as ratios to the healthy row (p50 / p99): " +
      results
        .slice(1)
        .map((r) => `${r.scenario.name}: ${fmt(r.accept.p50 / base.p50, 2)}× / ${fmt(r.accept.p99 / base.p99, 2)}×`)
        .join("; "),
  );
}

/** SendGrid-sized signed event batches against the healthy scenario's communications. */
async function runWebhookIngest(healthy) {
  const { keys } = healthy;
  const path = new URL(healthy.tenant.primaryConfig.webhookUrl).pathname;
  // processed, delivered, open, click for every message, then repeated opens until the batches are full.
  const kinds = ["processed", "delivered", "open", "click"];
  const events = [];
  const now = Math.floor(Date.now() / 1000);
  for (let n = 0; events.length < BATCHES * EVENTS_PER_BATCH; n++) {
    const id = healthy.ids[n % healthy.ids.length];
    const round = Math.floor(n / healthy.ids.length);
    const event = kinds[Math.min(round, kinds.length - 1)];
    events.push({ email: "r@example.com", timestamp: now, event, sg_event_id: `ev-${n}`, sg_message_id: `mock-${n}.filter`, herald_communication_id: id });
  }
  const bodies = [];
  for (let b = 0; b < BATCHES; b++) {
    const body = JSON.stringify(events.slice(b * EVENTS_PER_BATCH, (b + 1) * EVENTS_PER_BATCH));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign("sha256", Buffer.from(timestamp + body), keys.privateKey).toString("base64");
    bodies.push({ body, headers: { "content-type": "application/json", "x-twilio-email-event-webhook-signature": signature, "x-twilio-email-event-webhook-timestamp": timestamp } });
  }
  process.stdout.write(`\nwebhook ingest: ${fmt(BATCHES)} batches of ${EVENTS_PER_BATCH} events… `);
  const latencies = [];
  const statuses = {};
  let next = 0;
  const started = performance.now();
  // In order per worker: the first batches carry processed/delivered, so statuses move forward.
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < bodies.length) {
        const { body, headers } = bodies[next++];
        const t = performance.now();
        const res = await fetch(`${stack.url}${path}`, { method: "POST", headers, body });
        await res.arrayBuffer();
        latencies.push(performance.now() - t);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const refused = BATCHES - (statuses[200] ?? 0);
  if (refused) failures.push(`webhook ingest: ${refused} batches were not accepted (${JSON.stringify(statuses)})`);
  const clicked = await stack.db
    .prepare("SELECT count(*) AS n FROM communication WHERE tenant_id = ? AND status = 'clicked'")
    .bind(healthy.tenant.tenantId)
    .first();
  if (clicked.n !== healthy.ids.length) failures.push(`webhook ingest: ${clicked.n} of ${healthy.ids.length} communications reached clicked`);
  console.log(`${fmt(BATCHES / seconds, 1)} batches/s`);
  return { seconds, batchesPerSecond: BATCHES / seconds, eventsPerSecond: (BATCHES * EVENTS_PER_BATCH) / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), clicked: clicked.n, of: healthy.ids.length };
}

function printIngest(r) {
  console.log("\nWebhook ingest (signed SendGrid batches, 10 in flight)");
  console.log(
    table(
      ["batches/s", "events/s", "p50 ms", "p99 ms", "total s", "clicked"],
      [[fmt(r.batchesPerSecond, 1), fmt(r.eventsPerSecond), fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.seconds, 1), `${fmt(r.clicked)} of ${fmt(r.of)}`]],
    ),
  );
}
