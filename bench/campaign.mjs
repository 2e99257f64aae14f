/**
 * The campaign phase (issue #13), on the served Workers with the sandbox provider: import an
 * audience of N members (POST /api/audiences/:id/members, 10,000 per call), send one campaign to
 * it, and time the fan-out (POST …/send until the campaign is `completed`: every communication
 * created and enqueued on the bulk queue) and the delivery (until all are `delivered`). Around
 * it, transactional sends from another tenant are timed for the same number of seconds twice:
 * with nothing else running, and while the campaign runs. The claim under test: a campaign does
 * not starve transactional traffic (its messages have their own queue; docs/campaigns.md).
 *
 * Optional in `npm run bench` (`-- --campaign 100000`); alone: `node bench/campaign.mjs --members 5000`.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { SEND_BODY, call, createSandboxTenant } from "./api.mjs";
import { settle } from "./cpu.mjs";
import { waitForDelivery } from "./delivery.mjs";
import { fmt, table } from "./format.mjs";
import { hit } from "./load.mjs";
import { startStack } from "./stack.mjs";

const PER_CALL = 10_000;
const POLL_MS = 1000;
const STALL_MS = 30_000;
/**
 * Delivery is followed for at most this long after the fan-out ends: at the local simulator's
 * delivery rate a 100,000-message campaign would take half an hour to drain, and a rate over two
 * minutes of steady delivery says as much.
 */
const DELIVERY_WINDOW_MS = 120_000;

/** Transactional sends from another tenant for `seconds`, closed loop. */
function transactional(stack, tenant, { seconds, connections }) {
  return hit({
    url: `${stack.url}/api/communications/send`,
    method: "POST",
    headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
    body: SEND_BODY,
    expect: 201,
    connections,
    seconds,
  });
}

/**
 * @returns the figures printed by printCampaign; `failures` lists what makes the run fail.
 */
export async function measureCampaign(stack, { members, seconds = 5, connections = 10, deadline, cpu }) {
  const failures = [];
  const owner = await createSandboxTenant(stack.url, stack.adminToken, "bench campaign");
  const other = await createSandboxTenant(stack.url, stack.adminToken, "bench transactional");

  process.stdout.write(`campaign: importing ${fmt(members)} members… `);
  const { id: audienceId } = await call(stack.url, owner.apiKey, "POST", "/api/audiences", { name: "bench audience" });
  const importStarted = performance.now();
  for (let from = 0; from < members; from += PER_CALL) {
    const part = Array.from({ length: Math.min(PER_CALL, members - from) }, (_, i) => ({ recipientId: `r${from + i}`, email: `r${from + i}@bench.test`, name: `R ${from + i}` }));
    await call(stack.url, owner.apiKey, "POST", `/api/audiences/${audienceId}/members`, { members: part });
  }
  const importSeconds = (performance.now() - importStarted) / 1000;
  const { count } = await call(stack.url, owner.apiKey, "GET", `/api/audiences/${audienceId}/count`);
  if (count !== members) failures.push(`campaign: the audience holds ${count} members, not ${members}`);
  console.log(`${fmt(importSeconds, 1)} s`);

  await settle(cpu);
  process.stdout.write("campaign: transactional sends alone… ");
  const before = await transactional(stack, other, { seconds, connections });
  const drainedBefore = await waitForDelivery(stack.url, other.apiKey, deadline);
  if (!drainedBefore.complete) failures.push(`campaign: transactional sends before the campaign not all delivered (${drainedBefore.why})`);
  console.log(`p99 ${fmt(before.p99, 1)} ms`);

  const campaign = await call(stack.url, owner.apiKey, "POST", "/api/campaigns", { name: "bench", audienceId, channel: "email", subject: "Spring sale", content: "Hello, spring is here: 20% off everything this week." });
  const started = performance.now();
  await call(stack.url, owner.apiKey, "POST", `/api/campaigns/${campaign.id}/send`);
  process.stdout.write("campaign: fanning out, transactional sends alongside… ");
  // The load runs while the poller follows the campaign.
  const during = transactional(stack, other, { seconds, connections });
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
  const drainedAfter = await waitForDelivery(stack.url, other.apiKey, deadline);
  if (!drainedAfter.complete) failures.push(`campaign: transactional sends during the campaign not all delivered (${drainedAfter.why})`);
  console.log(fanOutSeconds ? `fanned out in ${fmt(fanOutSeconds, 1)} s` : "did not finish");
  for (const [label, r] of [["alone", before], ["during the campaign", after]]) {
    if (r.unexpected || r.socketErrors) failures.push(`campaign: transactional sends ${label}: ${r.unexpected} unexpected responses, ${r.socketErrors} socket errors`);
  }
  if (last && last.progress.targeted !== members) failures.push(`campaign: ${last.progress.targeted} communications for ${members} members (skipped ${last.progress.skipped})`);
  return {
    members,
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
  console.log(
    table(
      ["transactional POST /api/communications/send", "req/s", "p50 ms", "p99 ms"],
      [
        ["alone", fmt(r.before.rps), fmt(r.before.p50, 1), fmt(r.before.p99, 1)],
        ["while the campaign runs", fmt(r.during.rps), fmt(r.during.p50, 1), fmt(r.during.p99, 1)],
      ],
    ),
  );
  console.log(`transactional p99 with the campaign ÷ without: ${fmt(r.during.p99 / r.before.p99, 2)}×`);
}

export const campaignFailures = (r) => r?.failures ?? [];

// Alone: build and serve the stack, run only this phase.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { members: { type: "string", default: "5000" }, seconds: { type: "string", default: "5" } } });
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  let stack;
  let code = 0;
  try {
    console.log("building both Workers and starting Miniflare…");
    stack = await startStack(root, (s) => (stack = s), { assets: false });
    const r = await measureCampaign(stack, { members: Number(values.members), seconds: Number(values.seconds), deadline: Date.now() + 15 * 60_000 });
    printCampaign(r);
    const failures = [...r.failures, ...stack.workerErrors.slice(0, 5).map((e) => `a Worker logged: ${e.slice(0, 300)}`)];
    for (const f of failures) console.error(`FAIL: ${f}`);
    code = failures.length ? 1 : 0;
  } catch (error) {
    console.error(`FAIL: ${error?.stack ?? error}`);
    code = 1;
  } finally {
    await stack?.close();
    process.exit(code);
  }
}
