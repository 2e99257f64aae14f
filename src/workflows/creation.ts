/**
 * Creating runs' Workflows instances. A recipient-list trigger stores its runs `pending`; with at
 * most INLINE_CREATES of them it creates their instances itself (a transactional trigger starts
 * at once), otherwise it hands them all to the campaigns queue as `workflow_create` messages of
 * up to CREATE_CHUNK run ids, so the call answers as soon as the runs are stored. Each message
 * reads its runs that are still pending (a cancelled run is no longer pending, so its instance is
 * never created), skips those whose instance exists (a redelivery, a replayed trigger, the cron)
 * and creates the others in one createBatch; a failure throws and the queue retries the message.
 *
 * Workflows creates at most CREATES_PER_SECOND instances per second per workflow: each message is
 * delayed by what the messages before it create at that rate, like the audience fan-out's pacing.
 * A message lost for good is caught by the cron: pending runs not looked at for LOST_MS are
 * checked and created if missing, at most LOST_PER_PASS per pass, each marked as looked at so the
 * next pass reads others.
 */
import { z } from "zod";
import { database, runBatch } from "../db/client";
import { pendingRunsByIds, touchPendingRuns, untouchedPendingRuns, type WorkflowRunRow } from "../db/workflows";
import type { Env } from "../env";
import type { JourneyParams } from "./engine";

/** createBatch's limit per call. */
export const CREATE_CHUNK = 100;
/**
 * The most instances a trigger creates before answering. Small, because the call waits on them:
 * in the bench's Miniflare a createBatch of 100 held a 1,000-recipient trigger's answer 11 s more
 * than queueing them all (docs/benchmarks.md); at Cloudflare's 100/s it would be about 1 s. A
 * transactional trigger of a few recipients still starts before the answer.
 */
export const INLINE_CREATES = 20;
/** Instance creations per second per workflow that Workflows allows (paid plan). */
export const CREATES_PER_SECOND = 100;
/** A pending run untouched this long may have lost its creation message. */
export const LOST_MS = 5 * 60_000;
const LOST_PER_PASS = 100;

type Binding = WorkflowRunRow["binding"];

export const CreateRunsMessage = z.object({
  v: z.literal(1),
  kind: z.literal("workflow_create"),
  tenantId: z.string().min(1),
  runIds: z.array(z.string().min(1)).min(1).max(CREATE_CHUNK),
});
export type CreateRunsMessage = z.infer<typeof CreateRunsMessage>;

const paramsOf = (r: WorkflowRunRow): JourneyParams => ({ runId: r.id, tenantId: r.tenantId, workflowKey: r.workflowKey, version: r.version });

/** Creates these runs' instances (all on one binding), CREATE_CHUNK per createBatch call. */
export async function createInstances(env: Env, binding: Binding, rows: WorkflowRunRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CREATE_CHUNK) {
    await env[binding].createBatch(rows.slice(i, i + CREATE_CHUNK).map((r) => ({ id: r.instanceId, params: paramsOf(r) })));
  }
}

/** The runs whose instance Workflows does not know (`get` rejects for an unknown id). */
export const withoutInstance = async (env: Env, rows: WorkflowRunRow[]): Promise<WorkflowRunRow[]> =>
  (await Promise.all(rows.map((r) => env[r.binding].get(r.instanceId).then(() => null, () => r)))).filter((r): r is WorkflowRunRow => r !== null);

/** Puts these runs' creation on the campaigns queue, one message per chunk, message n delayed n seconds. */
export async function enqueueCreation(env: Env, tenantId: string, runIds: string[]): Promise<void> {
  const messages = [];
  for (let n = 0; n * CREATE_CHUNK < runIds.length; n++) {
    const body: CreateRunsMessage = { v: 1, kind: "workflow_create", tenantId, runIds: runIds.slice(n * CREATE_CHUNK, (n + 1) * CREATE_CHUNK) };
    messages.push({ body, delaySeconds: Math.ceil((n * CREATE_CHUNK) / CREATES_PER_SECOND) });
  }
  if (!messages.length) return;
  // sendBatch takes at most 100 messages: a trigger's 1,000 recipients make 10 at most.
  try {
    await env.CAMPAIGN_QUEUE.sendBatch(messages);
  } catch (error) {
    // The runs are stored: the cron's pass (createLostRuns) creates them after LOST_MS, so the
    // trigger still answers with its runs rather than failing after storing them.
    console.error(JSON.stringify({ msg: "workflow creation not queued", tenantId, runs: runIds.length, error: String(error) }));
  }
}

/** One queue message: creates the instances its still-pending runs lack; returns how many. */
export async function runCreateMessage(env: Env, msg: CreateRunsMessage): Promise<number> {
  const pending = await pendingRunsByIds(database(env.DB), msg.tenantId, msg.runIds);
  return createMissing(env, pending);
}

/** Groups by binding (a message's or a pass's runs may mix them) and creates what is missing. */
async function createMissing(env: Env, rows: WorkflowRunRow[]): Promise<number> {
  const missing = await withoutInstance(env, rows);
  for (const binding of ["JOURNEYS", "JOURNEYS_BULK"] as const) await createInstances(env, binding, missing.filter((r) => r.binding === binding));
  return missing.length;
}

/** The cron pass: pending runs untouched for LOST_MS get their instance if it was never created. */
export async function createLostRuns(env: Env, now: Date): Promise<number> {
  const db = database(env.DB);
  const rows = await untouchedPendingRuns(db, new Date(now.getTime() - LOST_MS), LOST_PER_PASS);
  if (!rows.length) return 0;
  const created = await createMissing(env, rows);
  // Runs whose instance exists but has not reached its first step (a Workflows backlog, or an
  // instance that errored before it) would otherwise fill every pass: the next pass reads others.
  const tenants = [...new Set(rows.map((r) => r.tenantId))];
  await runBatch(db, tenants.map((t) => touchPendingRuns(db, t, rows.filter((r) => r.tenantId === t).map((r) => r.id), now)));
  return created;
}
