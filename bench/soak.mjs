/**
 * The fault soak: `npm run soak [-- --count 2000 --seed herald --fault-rate 0.3 --quick]`.
 *
 * Not a timed test: a run that checks Herald's delivery bookkeeping under faults and a crash, and
 * prints an exact reconciliation. On the served Workers (bench/stack.mjs, with
 * SWEEP_STALE_SECONDS lowered so the sweep acts within the run):
 *
 * 1. Four fault mocks on 127.0.0.1 (bench/fault-provider.mjs), two SendGrid- and two
 *    Twilio-shaped, each answering `--fault-rate` of its calls with 500, 503, 429 with
 *    Retry-After, a reset connection or a hang past the timeout that then accepts.
 * 2. Two tenants, each with two providers per channel (email: SendGrid → SendGrid, SMS: Twilio →
 *    Twilio), so every failure has somewhere to fail over to.
 * 3. `--count` messages through single and batch sends (bench/soak-load.mjs). When half are
 *    accepted, workerd is killed (SIGKILL) and started again on the same persisted state: the
 *    queues' contents are gone, and only the sweep can find that work again.
 * 4. The cron trigger is fired every CRON_SECONDS (production fires every minute) until every
 *    accepted message is terminal or `--max-minutes` have passed; then the books are closed
 *    (bench/soak-reconcile.mjs): accepted, terminal by status, lost, double-sent by cause.
 *
 * Herald's retry ladder is 1, 5, 15 and 60 minutes, and at a 30 % fault rate on both providers a
 * few messages in 2,000 need the third rung: a full run takes over 20 minutes, mostly waiting.
 *
 * Exits 1 when a message was lost, a double send has no known cause, a message is still not
 * terminal at the cap, or a request was refused. Traffic goes only to 127.0.0.1.
 */
import { dirname, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { call } from "./api.mjs";
import { machine, versions } from "./environment.mjs";
import { fmt, table } from "./format.mjs";
import { FAULTS, startFaultProvider } from "./fault-provider.mjs";
import { planLoad, runLoad } from "./soak-load.mjs";
import { TERMINAL, reconcile } from "./soak-reconcile.mjs";
import { startStack } from "./stack.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The sweep's staleness window for this run (production: 300 s, wrangler.toml). */
const SWEEP_STALE_SECONDS = 45;
const CRON_SECONDS = 15;
/** The providers' per-call deadline, and how long a hanging mock waits before it accepts anyway. */
const TIMEOUT_MS = 2000;
const HANG_MS = 3000;
const POLL_MS = 2000;
const REPORT_EVERY_MS = 60_000;

const { values: args } = parseArgs({
  options: {
    count: { type: "string" },
    seed: { type: "string", default: "herald" },
    "fault-rate": { type: "string", default: "0.3" },
    quick: { type: "boolean", default: false },
    "max-minutes": { type: "string", default: "90" },
  },
});
const COUNT = Number(args.count ?? (args.quick ? 300 : 2000));
const FAULT_RATE = Number(args["fault-rate"]);
const MAX_MINUTES = Number(args["max-minutes"]);
if (!Number.isInteger(COUNT) || COUNT < 2) throw new Error("--count must be an integer of at least 2");
if (!(FAULT_RATE >= 0 && FAULT_RATE < 1)) throw new Error("--fault-rate must be in [0, 1)");
if (!(MAX_MINUTES > 0)) throw new Error("--max-minutes must be positive");
const SEED = args.seed;

let stack;
const mocks = [];
let cron;
async function shutdown(code, message) {
  if (message) console.error(message);
  clearInterval(cron);
  await Promise.allSettled(mocks.map((m) => m.close()));
  await stack?.close().catch(() => {});
  process.exit(code);
}
process.once("SIGINT", () => shutdown(130, "\ninterrupted"));
setTimeout(() => shutdown(2, "FAIL: the soak did not finish within its cap"), (MAX_MINUTES + 10) * 60_000).unref();

const log = (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

try {
  const m = machine();
  const v = versions();
  console.log(`Herald fault soak, ${new Date().toISOString()}`);
  console.log(`machine:  ${m.nproc} CPUs (${m.cpu}), ${fmt(m.memoryGiB, 1)} GiB RAM; load average ${m.load.map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`versions: node ${v.node}, wrangler ${v.wrangler}, miniflare ${v.miniflare}, workerd ${v.workerd}`);
  console.log(
    `run:      ${fmt(COUNT)} messages, seed "${SEED}", fault rate ${FAULT_RATE} (${FAULTS.join(", ")}), provider timeout ${TIMEOUT_MS} ms, ` +
      `hang ${HANG_MS} ms, sweep window ${SWEEP_STALE_SECONDS} s, cron every ${CRON_SECONDS} s, cap ${MAX_MINUTES} min`,
  );
  console.log("\nbuilding both Workers and starting Miniflare…");
  await startStack(ROOT, (created) => (stack = created), { assets: false, vars: { SWEEP_STALE_SECONDS: String(SWEEP_STALE_SECONDS) } });

  let epoch = 0;
  for (const [name, shape] of [["sendgrid-a", "sendgrid"], ["sendgrid-b", "sendgrid"], ["twilio-a", "twilio"], ["twilio-b", "twilio"]]) {
    const mock = await startFaultProvider({ name, shape, seed: SEED, faultRate: FAULT_RATE, hangMs: HANG_MS, epoch: () => epoch });
    mocks.push(mock);
    stack.allowOutbound(mock.origin);
  }
  const tenants = [];
  for (const name of ["t1", "t2"]) tenants.push(await setUpTenant(name));

  let restarting;
  let restarted = false;
  const cronErrors = [];
  const fire = () => {
    if (restarting) return;
    stack.fireCron().catch((error) => cronErrors.push(String(error)));
  };
  cron = setInterval(fire, CRON_SECONDS * 1000);

  const restarts = [];
  let leftOnRestart;
  const restart = async () => {
    const at = Date.now();
    epoch++;
    restarts.push({ epoch, at });
    log(`killing workerd (SIGKILL) with ${fmt(accepted)} messages accepted…`);
    await stack.restart();
    const seconds = (Date.now() - at) / 1000;
    leftOnRestart = await unfinishedIds(tenants);
    log(`restarted in ${fmt(seconds, 1)} s on the same state; ${fmt(leftOnRestart.length)} communications not terminal, none of them on a queue any more`);
    restarts.at(-1).seconds = seconds;
  };

  const requests = planLoad(COUNT, tenants);
  log(`sending ${fmt(COUNT)} messages in ${fmt(requests.length)} requests (${fmt(requests.filter((r) => r.kind === "single").length)} single sends, the rest batches)…`);
  let accepted = 0;
  const loadStarted = Date.now();
  const load = await runLoad(stack, requests, {
    onAccepted: (n) => {
      accepted = n;
      if (!restarted && n >= COUNT / 2) {
        restarted = true;
        restarting = restart().finally(() => (restarting = undefined));
      }
    },
  });
  await restarting;
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  log(`load done in ${fmt(loadSeconds, 1)} s: ${fmt(load.accepted.length)} accepted, ${fmt(load.refused.length)} refused, ${fmt(load.failedTries)} tries without an answer (retried with the same Idempotency-Key)`);

  const waitStarted = Date.now();
  const capAt = loadStarted + MAX_MINUTES * 60_000;
  let lastReport = 0;
  let open = await unfinished(tenants, true);
  while ((open.count > 0 || mocks.some((m) => m.hanging() > 0)) && Date.now() < capAt) {
    if (Date.now() - lastReport >= REPORT_EVERY_MS) {
      lastReport = Date.now();
      const next = open.nextRetryAt ? `, next retry due ${new Date(open.nextRetryAt).toISOString().slice(11, 19)}` : "";
      log(`${fmt(open.count)} not terminal (${Object.entries(open.byStatus).map(([s, n]) => `${s} ${n}`).join(", ")})${next}`);
    }
    await sleep(POLL_MS);
    open = await unfinished(tenants, true);
  }
  const drainSeconds = (Date.now() - waitStarted) / 1000;
  clearInterval(cron);
  log(open.count ? `cap reached with ${fmt(open.count)} not terminal` : `every accepted message terminal ${fmt(drainSeconds)} s after the load ended`);

  const tenantIds = tenants.map((t) => t.tenantId);
  const marks = tenantIds.map(() => "?").join(", ");
  const { results: rows } = await stack.db
    .prepare(`SELECT id, tenant_id, status, provider_message_id, retry_count, next_retry_at, error_message, updated_at FROM communication WHERE tenant_id IN (${marks})`)
    .bind(...tenantIds)
    .all();
  const { results: attempts } = await stack.db
    .prepare(`SELECT communication_id, provider_config_id, error, detail FROM communication_event WHERE tenant_id IN (${marks}) AND kind = 'attempt'`)
    .bind(...tenantIds)
    .all();
  const books = reconcile({ accepted: load.accepted, rows, attempts, mocks, restarts, inFlightMs: 30_000 });
  // The work the kill took off the queues: when was the last of it finished?
  const rowById = new Map(rows.map((r) => [r.id, r]));
  const left = (leftOnRestart ?? []).map((id) => rowById.get(id));
  const recovery = {
    left: left.length,
    finished: left.filter((r) => r && TERMINAL.includes(r.status)).length,
    lastSeconds: left.length && restarts.length ? (Math.max(...left.map((r) => r?.updated_at ?? 0)) - restarts[0].at) / 1000 : undefined,
  };
  const retries = {};
  for (const r of rows) retries[r.retry_count] = (retries[r.retry_count] ?? 0) + 1;

  printFaults();
  printBooks(books, { loadSeconds, drainSeconds, restarts, recovery, retries, load });
  const failures = [];
  if (books.lost.length) failures.push(`${books.lost.length} messages lost`);
  if (books.notTerminal.length) failures.push(`${books.notTerminal.length} messages not terminal at the cap`);
  if (books.byCause.unexplained || Object.keys(books.byCause).some((c) => /unexplained|recorded twice/.test(c))) failures.push("double sends without a known cause");
  if (books.mismatched.length) failures.push(`${books.mismatched.length} messages whose recorded provider id no provider gave`);
  if (books.strays.length) failures.push(`${books.strays.length} stored communications no answer named`);
  if (load.refused.length) failures.push(`${load.refused.length} requests or items refused, first: ${JSON.stringify(load.refused[0])}`);
  if (stack.workerErrors.length) console.log(`\nthe Workers logged ${stack.workerErrors.length} errors or warnings; first: ${stack.workerErrors.slice(0, 3).map((e) => e.slice(0, 300)).join(" | ")}`);
  if (cronErrors.length) console.log(`${cronErrors.length} cron firings failed (around the restart?); first: ${cronErrors[0].slice(0, 300)}`);
  if (failures.length) {
    await printTimelines([...books.lost, ...books.notTerminal, ...books.doubleSent.filter((d) => d.causes.some((c) => /unexplained|recorded twice/.test(c)))].slice(0, 5));
    await shutdown(1, `\n${failures.map((f) => `FAIL: ${f}`).join("\n")}`);
  }
  console.log("\nOK: every accepted message is terminal, none was lost, and every double send has a known cause.");
  await shutdown(0);
} catch (error) {
  await shutdown(1, `\nFAIL: ${error?.stack ?? error}\n${stack?.workerErrors.slice(0, 3).join("\n") ?? ""}`);
}

/** A tenant with two providers per channel on the mocks; rate limits far above the load. */
async function setUpTenant(name) {
  const { tenant, apiKey } = await call(stack.url, stack.adminToken, "POST", "/admin/tenants", { name: `soak ${name}` });
  await call(stack.url, stack.adminToken, "PATCH", `/admin/tenants/${tenant.id}`, { rateLimit: { perSecond: 100_000, burst: 1_000_000 } });
  const common = { rateLimit: { perSecond: 10_000, burst: 10_000 }, timeoutMs: TIMEOUT_MS };
  const twilio = { accountSid: `AC${randomBytes(16).toString("hex")}`, authToken: "soak" };
  const configs = {};
  for (const [i, mock] of mocks.entries()) {
    const email = mock.shape === "sendgrid";
    const config = await call(stack.url, apiKey, "POST", "/api/providers", {
      channel: email ? "email" : "sms",
      provider: mock.shape,
      priority: (i % 2) + 1,
      credentials: email ? { apiKey: "SG.soak" } : twilio,
      settings: { ...common, baseUrl: mock.origin, ...(email ? { from: "soak@herald.test" } : { from: "+15005550006" }) },
    });
    configs[mock.name] = config.id;
  }
  return { name, tenantId: tenant.id, apiKey, configs };
}

/** Ids of the soak's communications not yet terminal. */
async function unfinishedIds(tenants) {
  const ids = tenants.map((t) => t.tenantId);
  const terminal = TERMINAL.map((s) => `'${s}'`).join(", ");
  const { results } = await stack.db
    .prepare(`SELECT id FROM communication WHERE tenant_id IN (${ids.map(() => "?").join(", ")}) AND status NOT IN (${terminal})`)
    .bind(...ids)
    .all();
  return results.map((r) => r.id);
}

/** Communications of the soak's tenants not yet terminal; with `detail`, by status and the next retry. */
async function unfinished(tenants, detail = false) {
  const ids = tenants.map((t) => t.tenantId);
  const marks = ids.map(() => "?").join(", ");
  const terminal = TERMINAL.map((s) => `'${s}'`).join(", ");
  const { results } = await stack.db
    .prepare(`SELECT status, count(*) AS n, min(next_retry_at) AS next FROM communication WHERE tenant_id IN (${marks}) AND status NOT IN (${terminal}) GROUP BY status`)
    .bind(...ids)
    .all();
  const count = results.reduce((n, r) => n + r.n, 0);
  if (!detail) return count;
  const next = results.map((r) => r.next).filter(Boolean);
  return { count, byStatus: Object.fromEntries(results.map((r) => [r.status, r.n])), nextRetryAt: next.length ? Math.min(...next) : undefined };
}

/** Herald's own timeline of a few messages that need explaining, for a bug report. */
async function printTimelines(messages) {
  for (const m of messages) {
    const { results } = await stack.db
      .prepare("SELECT created_at, kind, status, provider_config_id, http_status, error, detail FROM communication_event WHERE tenant_id = ? AND communication_id = ? ORDER BY created_at")
      .bind(m.tenantId, m.id)
      .all();
    console.log(`\ntimeline of ${m.id} (${m.ref}):`);
    for (const e of results) {
      const what = [e.kind, e.status, e.provider_config_id, e.http_status, e.error, e.detail].filter((x) => x !== null && x !== undefined).join(" ");
      console.log(`  ${new Date(e.created_at).toISOString()} ${what}`);
    }
  }
}

function printFaults() {
  console.log("\nProvider calls by answer (fault mocks)");
  const modes = ["accept", ...FAULTS];
  const rows = mocks.map((m) => [m.name, fmt(m.calls.length), ...modes.map((mode) => fmt(m.calls.filter((c) => c.mode === mode).length))]);
  const total = ["all", fmt(mocks.reduce((n, m) => n + m.calls.length, 0)), ...modes.map((mode) => fmt(mocks.reduce((n, m) => n + m.calls.filter((c) => c.mode === mode).length, 0)))];
  console.log(table(["mock", "calls", ...modes], [...rows, total]));
}

function printBooks(b, { loadSeconds, drainSeconds, restarts, recovery, retries, load }) {
  const singles = load.accepted.filter((a) => a.via === "single").length;
  console.log("\nReconciliation");
  console.log(
    table(
      ["", "messages"],
      [
        ["accepted (201, ids named)", fmt(b.accepted)],
        ["… through single sends", fmt(singles)],
        ["… through batch sends", fmt(b.accepted - singles)],
        ["stored but never named in an answer", fmt(b.strays.length)],
        ...Object.entries(b.terminal)
          .sort()
          .map(([status, n]) => [`terminal: ${status}`, fmt(n)]),
        ["not terminal at the end", fmt(b.notTerminal.length)],
        ["lost (accepted, no provider took it, not failed)", fmt(b.lost.length)],
        ["failed, yet a provider took it", fmt(b.failedYetSent.length)],
        ["recorded provider id no provider gave", fmt(b.mismatched.length)],
        ["double-sent", fmt(b.doubleSent.length)],
        ...Object.entries(b.byCause)
          .sort()
          .map(([cause, n]) => [`… by cause: ${cause}`, fmt(n)]),
        ["extra copies providers took", fmt(b.extraCopies)],
        ["provider acceptances in all", fmt(b.providerAcceptances)],
        ["acceptances without a communication id", fmt(b.unidentified)],
      ],
    ),
  );
  console.log(`\nretries per communication: ${Object.entries(retries).map(([k, n]) => `${k}: ${fmt(n)}`).join(", ")}`);
  for (const r of restarts) {
    console.log(
      `restart at ${new Date(r.at).toISOString()}: workerd back in ${fmt(r.seconds, 1)} s; ${fmt(recovery.left)} communications were unfinished and off the queue; ` +
        `${fmt(recovery.finished)} of them terminal at the end, the last ${fmt(recovery.lastSeconds)} s after the kill`,
    );
  }
  console.log(`load ${fmt(loadSeconds, 1)} s; then ${fmt(drainSeconds)} s until ${b.notTerminal.length ? "the cap" : "the last message was terminal"}`);
  const show = (title, list) => {
    if (!list.length) return;
    console.log(`\n${title} (${list.length}, first 20):`);
    for (const item of list.slice(0, 20)) console.log(`  ${JSON.stringify(item)}`);
  };
  show("lost", b.lost);
  show("not terminal", b.notTerminal);
  show("recorded provider id unknown to the providers", b.mismatched);
  show("failed, yet taken by a provider", b.failedYetSent);
  show("double sends without a known cause", b.doubleSent.filter((d) => d.causes.some((c) => c === "unexplained" || c === "recorded twice")));
  show("stored, never named", b.strays);
}
