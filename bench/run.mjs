/**
 * Herald's local benchmark: `npm run bench [-- --rounds 3 --seconds 5 --connections 10 --backlog 1000]`.
 *
 * Builds both Workers with wrangler and serves them from one Miniflare instance (bench/stack.mjs).
 * Then, in interleaved rounds with the same number of connections, it drives `GET /health` (the
 * trivial route: what the local runtime itself costs) and `POST /api/communications/send`
 * (validate, check the provider, one D1 batch, one queue send). After each round of sends it waits
 * until the delivery Worker has brought every stored communication to `delivered` through the
 * sandbox provider (bench/delivery.mjs). A short warm-up round goes first and is left out of the
 * medians. Last, a backlog of sends accepted in one batch request shows what the consumer drains
 * on its own, and a probe Worker times the tenant limiter's check (bench/limiter.mjs). It prints
 * the machine, the versions, the figures and the ratios (bench/summary.mjs). Then the in-app inbox:
 * two thousand recipients' WebSockets held open while sends to one more are timed from the POST to
 * the item on its socket (bench/inbox.mjs). Then inbound ingest: `--inbound N` (200 by default, 0
 * skips it) signed Twilio SMS webhooks, threaded and forwarded to a loopback tenant webhook as
 * `message.received` (bench/inbound.mjs).
 *
 * With `--count` it measures nothing of the above: it prints D1 round trips, statements, Durable
 * Object calls and queue sends per message on each path of a message's life (bench/count/).
 *
 * With `--campaign N` (or HERALD_BENCH_CAMPAIGN=N) a last, optional phase imports an N-member
 * audience and sends one campaign to it while transactional sends are timed (bench/campaign.mjs);
 * it has its own time budget, so the default run stays as short as before.
 *
 * `--workflows N` (default 200; 0 skips it) is the workflows phase (bench/workflows.mjs): one
 * trigger of 1,000 recipients, the overhead of a 3-send run against a direct send, and an
 * N-member audience trigger beside timed transactional sends. It has its own time budget too.
 *
 * Exits 1 when a request failed, an accepted communication was not delivered (or, in_app, did not
 * reach its socket), a socket was dropped or a Worker logged an error. Traffic goes only to
 * 127.0.0.1, and Miniflare and the temp dir are removed on every exit path. These are figures
 * from a local simulator on a small machine, not a capacity statement about Cloudflare: see
 * docs/benchmarks.md.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SEND_BODY, createSandboxTenant, sendBatch } from "./api.mjs";
import { settle, workerdCpuClock } from "./cpu.mjs";
import { queueTimes, statusBreakdown, waitForDelivery } from "./delivery.mjs";
import { machine, versions } from "./environment.mjs";
import { fmt } from "./format.mjs";
import { inboxFailures, measureInbox, printInbox } from "./inbox.mjs";
import { inboundFailures, measureInbound, printInbound } from "./inbound.mjs";
import { hit } from "./load.mjs";
import { limiterFailures, measureLimiter, printLimiter } from "./limiter.mjs";
import { startStack } from "./stack.mjs";
import { measureRenders } from "./render.mjs";
import { campaignFailures, measureCampaign, printCampaign } from "./campaign.mjs";
import { measureWorkflows, printWorkflows, workflowFailures } from "./workflows.mjs";
import { findFailures, printSummary } from "./summary.mjs";
import { printCount, runCount } from "./count/print.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The whole run, builds included, must fit in this; waits for delivery are cut to stay inside. */
const BUDGET_MS = 170_000;
/** The optional campaign phase's own budget: a 100,000-member campaign's delivery takes minutes here. */
const CAMPAIGN_BUDGET_MS = 15 * 60_000;
/** The workflows phase's own budget: local Workflows instances start at a few per second on a busy small machine. */
const WORKFLOWS_BUDGET_MS = 12 * 60_000;
const WARMUP_SECONDS = 3;

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "10" },
    backlog: { type: "string", default: "1000" },
    "inbox-sockets": { type: "string", default: "2000" },
    "inbox-messages": { type: "string", default: "100" },
    "inbox-rate": { type: "string", default: "10" },
    inbound: { type: "string", default: "200" },
    campaign: { type: "string", default: process.env.HERALD_BENCH_CAMPAIGN ?? "0" },
    workflows: { type: "string", default: process.env.HERALD_BENCH_WORKFLOWS ?? "200" },
    count: { type: "boolean", default: false },
  },
});
if (args.count) {
  // Billed calls per message instead of load: no Miniflare stack, no autocannon (bench/count/).
  console.log(`Herald billed-call count, ${new Date().toISOString()}`);
  const m = machine();
  console.log(`machine:  ${m.nproc} CPUs (${m.cpu}), ${fmt(m.memoryGiB, 1)} GiB RAM, ${m.os}`);
  try {
    printCount(await runCount(ROOT));
    process.exit(0);
  } catch (error) {
    console.error(`FAIL: ${error?.message ?? error}`);
    process.exit(1);
  }
}
const ROUNDS = positiveInt("rounds", args.rounds);
const SECONDS = positiveInt("seconds", args.seconds);
const CONNECTIONS = positiveInt("connections", args.connections);
/** Sends in the backlog phase: one POST /api/communications/batch, which takes up to 1,000; 0 skips it. */
const BACKLOG = args.backlog === "0" ? 0 : positiveInt("backlog", args.backlog);
/** Idle recipients' sockets held open during the inbox phase (fewer if opening them runs out of time). */
const INBOX_SOCKETS = positiveInt("inbox-sockets", args["inbox-sockets"]);
/** Sends timed to the inbox phase's measured recipient, at a steady rate per second. */
const INBOX_MESSAGES = positiveInt("inbox-messages", args["inbox-messages"]);
const INBOX_RATE = positiveInt("inbox-rate", args["inbox-rate"]);
/** Signed inbound SMS webhooks in the inbound phase; 0 skips it. */
const INBOUND = args.inbound === "0" ? 0 : positiveInt("inbound", args.inbound);
/** Members of the optional campaign phase; 0 skips it. */
const CAMPAIGN = args.campaign === "0" ? 0 : positiveInt("campaign", args.campaign);
/** Members of the workflows phase's audience trigger; `--workflows 0` skips the whole phase. */
const WORKFLOWS = args.workflows === "0" ? 0 : positiveInt("workflows", args.workflows);
/** If something hangs past the budget anyway, give up and clean up. */
const WATCHDOG_MS = BUDGET_MS + (CAMPAIGN ? CAMPAIGN_BUDGET_MS : 0) + (WORKFLOWS ? WORKFLOWS_BUDGET_MS : 0) + 40_000;

const startedAt = new Date();
const deadline = startedAt.getTime() + BUDGET_MS;
let stack;

/** Cleans up once and exits, whoever asks first (a signal, the watchdog or a failure). */
let exiting;
function shutdown(code, message) {
  if (exiting) return exiting;
  if (message) console.error(message);
  exiting = Promise.resolve(stack?.close())
    .catch((error) => console.error(`cleanup failed: ${error?.message ?? error}`))
    .finally(() => process.exit(code));
  return exiting;
}
const onSignal = {
  SIGINT: () => shutdown(130, "\ninterrupted; cleaning up"),
  SIGTERM: () => shutdown(143, "\nterminated; cleaning up"),
};
for (const [signal, handler] of Object.entries(onSignal)) process.once(signal, handler);
/**
 * Miniflare's exit hook answers these signals by exiting at once, before dispose() and the temp
 * dir removal can finish; ours does both (dispose stops workerd), so it handles them alone.
 */
function keepOnlyOurSignalHandlers() {
  for (const [signal, handler] of Object.entries(onSignal)) {
    for (const listener of process.listeners(signal)) if (listener !== handler) process.off(signal, listener);
  }
}
setTimeout(() => shutdown(2, `\nFAIL: the bench did not finish within ${WATCHDOG_MS / 1000} s`), WATCHDOG_MS).unref();

try {
  printContext();
  const renders = await measureRenders(ROOT);
  console.log(`\ntemplate rendering: ${fmt(renders.perSecond)} renders/s — ${renders.template}`);
  console.log("\nbuilding both Workers (wrangler deploy --dry-run) and starting Miniflare…");
  await startStack(ROOT, (created) => (stack = created), { assets: false });
  keepOnlyOurSignalHandlers();
  const cpu = workerdCpuClock();
  const rounds = [await runRound({ label: "warm-up", warmup: true, seconds: WARMUP_SECONDS, cpu })];
  for (let n = 1; n <= ROUNDS; n++) rounds.push(await runRound({ label: String(n), n, seconds: SECONDS, cpu }));
  const backlog = BACKLOG ? await runBacklog(cpu) : undefined;
  const limiter = await measureLimiter(stack.probeUrl, { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, cpu });
  await settle(cpu);
  // Opening sockets stops early rather than push the run past its budget.
  const inbox = await measureInbox(stack, { sockets: INBOX_SOCKETS, messages: INBOX_MESSAGES, rate: INBOX_RATE, deadline, cpu });
  await settle(cpu);
  const inbound = INBOUND ? await measureInbound(stack, { messages: INBOUND, cpu }) : undefined;
  await settle(cpu);
  const campaign = CAMPAIGN
    ? await measureCampaign(stack, { members: CAMPAIGN, seconds: SECONDS, connections: CONNECTIONS, deadline: Date.now() + CAMPAIGN_BUDGET_MS, cpu })
    : undefined;
  await settle(cpu);
  const workflows = WORKFLOWS
    ? await measureWorkflows(stack, { members: WORKFLOWS, seconds: SECONDS, connections: CONNECTIONS, deadline: Date.now() + WORKFLOWS_BUDGET_MS, cpu })
    : undefined;
  printSummary(rounds, backlog);
  printLimiter(limiter);
  printInbox(inbox);
  printInbound(inbound);
  printCampaign(campaign);
  printWorkflows(workflows);
  const failures = [
    ...findFailures(rounds, backlog, CONNECTIONS, stack.workerErrors),
    ...limiterFailures(limiter),
    ...inboxFailures(inbox),
    ...inboundFailures(inbound),
    ...campaignFailures(campaign),
    ...workflowFailures(workflows),
  ];
  console.log(`\nload average after the run: ${loadAverage()}; total ${fmt((Date.now() - startedAt.getTime()) / 1000)} s`);
  if (failures.length) {
    await shutdown(1, `\n${failures.map((f) => `FAIL: ${f}`).join("\n")}`);
  } else {
    console.log("\nOK: every request got its expected status and every accepted communication was delivered.");
    await shutdown(0);
  }
} catch (error) {
  const logs = stack?.workerErrors.slice(0, 5).map((l) => `\n  ${l.slice(0, 400)}`).join("") ?? "";
  await shutdown(1, `\nFAIL: ${error?.stack ?? error}${logs ? `\nthe Workers logged:${logs}` : ""}`);
}

/**
 * One round: both targets back to back, in alternating order so neither always runs first. The
 * sends' backlog is drained before the next target, so /health never runs beside a busy consumer.
 */
async function runRound({ label, warmup = false, n = 0, seconds, cpu }) {
  const tenant = await createSandboxTenant(stack.url, stack.adminToken, `bench round ${label}`);
  const targets = {
    health: { url: `${stack.url}/health`, expect: 200 },
    send: {
      url: `${stack.url}/api/communications/send`,
      method: "POST",
      headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
      body: SEND_BODY,
      expect: 201,
    },
  };
  const round = { label, warmup, tenantId: tenant.tenantId };
  for (const name of n % 2 ? ["health", "send"] : ["send", "health"]) {
    await settle(cpu);
    process.stdout.write(`round ${label}: ${name}… `);
    const before = cpu?.();
    round[name] = await hit({ ...targets[name], connections: CONNECTIONS, seconds });
    round[name].cpuMs = cpu ? cpu() - before : undefined;
    console.log(`${fmt(round[name].rps)} req/s`);
    if (name !== "send") continue;

    process.stdout.write(`round ${label}: waiting for delivery… `);
    const drainStart = cpu?.();
    round.delivery = await waitForDelivery(stack.url, tenant.apiKey, deadline);
    await settle(cpu); // what the deliveries set off (status events) belongs to this round's cost
    round.delivery.cpuMs = cpu ? cpu() - drainStart : undefined;
    round.times = await queueTimes(stack.db, tenant.tenantId);
    if (!round.delivery.complete) round.statuses = await statusBreakdown(stack.db, tenant.tenantId);
    console.log(`${fmt(round.delivery.delivered)} of ${fmt(round.delivery.stored)} delivered after ${fmt(round.delivery.seconds, 1)} s`);
  }
  return round;
}

/** A backlog queued in one request, drained by the consumer with nothing else running. */
async function runBacklog(cpu) {
  const tenant = await createSandboxTenant(stack.url, stack.adminToken, "bench backlog");
  await settle(cpu);
  process.stdout.write(`backlog: ${fmt(BACKLOG)} sends in one batch request… `);
  const before = cpu?.();
  const started = performance.now();
  const accepted = await sendBatch(stack.url, tenant.apiKey, BACKLOG);
  const requestSeconds = (performance.now() - started) / 1000;
  const delivery = await waitForDelivery(stack.url, tenant.apiKey, deadline);
  await settle(cpu);
  const result = { accepted, requestSeconds, delivery, cpuMs: cpu ? cpu() - before : undefined };
  result.times = await queueTimes(stack.db, tenant.tenantId);
  if (!delivery.complete) result.statuses = await statusBreakdown(stack.db, tenant.tenantId);
  console.log(`${fmt(delivery.delivered)} of ${fmt(delivery.stored)} delivered after ${fmt(requestSeconds + delivery.seconds, 1)} s`);
  return result;
}

function printContext() {
  const m = machine();
  const v = versions();
  console.log(`Herald local benchmark, ${startedAt.toISOString()}`);
  console.log(`machine:  ${m.nproc} CPUs (${m.cpu}), ${fmt(m.memoryGiB, 1)} GiB RAM, ${m.os}; load average ${loadAverage()}`);
  console.log(
    `versions: node ${v.node}, wrangler ${v.wrangler}, miniflare ${v.miniflare} (workerd ${v.workerd}; ` +
      `wrangler itself bundles miniflare ${v.wranglerMiniflare}), autocannon ${v.autocannon}`,
  );
  console.log(
    `load:     autocannon on 127.0.0.1, ${CONNECTIONS} connections, a ${WARMUP_SECONDS} s warm-up then ${ROUNDS} round${ROUNDS === 1 ? "" : "s"} × ${SECONDS} s per target, interleaved` +
      (BACKLOG ? `; then a backlog of ${fmt(BACKLOG)} sends` : "") +
      `; then up to ${fmt(INBOX_SOCKETS)} inbox sockets and ${fmt(INBOX_MESSAGES)} in_app sends at ${fmt(INBOX_RATE)}/s` +
      (INBOUND ? `; then ${fmt(INBOUND)} signed inbound SMS webhooks` : "") +
      (CAMPAIGN ? `; then a campaign to ${fmt(CAMPAIGN)} members` : "") +
      (WORKFLOWS ? `; then workflows: a 1,000-recipient trigger, 3-send runs, an audience trigger of ${fmt(WORKFLOWS)} members` : ""),
  );
}

function loadAverage() {
  return machine()
    .load.map((l) => l.toFixed(2))
    .join(" ");
}

function positiveInt(name, raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got "${raw}"`);
    process.exit(64);
  }
  return n;
}
