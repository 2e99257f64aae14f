/**
 * Audience triggers (issue 23): `POST /api/workflows/:key/trigger` with an `audienceId` stores a
 * workflow_fanout row and puts one message on the campaigns queue; each message pages the next
 * members in recipient order (PAGE at a time, PAGES_PER_MESSAGE pages) and starts their runs on
 * JOURNEYS_BULK through startRuns, the same code as a recipient-list trigger: createBatch in
 * calls of 100 (its cap), one run per (trigger idempotency key, recipient), so a redelivered or
 * retried page finds the runs it stored and only creates instances that are missing. The cursor
 * moves from where the message found it and only while the fan-out runs, so a stale message, a
 * duplicate chain or a page that lands after a cancel starts nothing new.
 *
 * Workflows creates at most 100 instances per second per workflow (reference §1.10): the next
 * message is delayed by what this one created at that rate, so a 100,000-member audience takes
 * about 17 minutes to start and a single fan-out stays inside the limit. Transactional triggers
 * use JOURNEYS, a separate workflow with its own limit, and bulk runs' sends take the bulk lane.
 */
import { z } from "zod";
import { EventRecipient } from "../automation/event";
import { countMembers, membersAfterQuery, type MemberKey, type MemberRow } from "../db/audiences";
import { database, runBatch, type Db } from "../db/client";
import { advanceFanout, completeFanout, fanoutByIdempotency, getFanout, insertFanout, stalledFanouts, type WorkflowFanoutRow } from "../db/workflow-fanouts";
import type { Env } from "../env";
import { uuidv7 } from "../lib/ids";
import { cursorOf, sameCursor } from "../campaigns/message";
import { CREATES_PER_SECOND } from "./creation";
import { cancelRuns, startRuns } from "./runs";
import type { Actor } from "./steps/types";

/** Members per page: one startRuns call (its D1 writes chunk by 250), three createBatch calls. */
export const PAGE = 250;
export const PAGES_PER_MESSAGE = 4;
/** The wait before a failed page is tried again: the queue consumer's retry delay (src/lib/queue-batch.ts). */
const RETRY_SECONDS = 30;

export const FanoutMessage = z.object({
  v: z.literal(1),
  kind: z.literal("workflow_fanout"),
  tenantId: z.string().min(1),
  fanoutId: z.string().min(1),
  /** Copied from the fan-out so the page's members are read in the same round trip as the fan-out. */
  audienceId: z.string().min(1),
  after: z.object({ recipientType: z.string(), recipientId: z.string() }).nullable(),
});
export type FanoutMessage = z.infer<typeof FanoutMessage>;

const message = (f: Pick<WorkflowFanoutRow, "tenantId" | "id" | "audienceId">, after: MemberKey | null): FanoutMessage => ({
  v: 1,
  kind: "workflow_fanout",
  tenantId: f.tenantId,
  fanoutId: f.id,
  audienceId: f.audienceId,
  after: after ? { recipientType: after.recipientType, recipientId: after.recipientId } : null,
});


/** A running fan-out without progress for this long has lost its message (or its consumer died). */
export const STALL_MS = 2 * 60_000;

export type FanoutTrigger = {
  tenantId: string;
  workflowKey: string;
  version: number;
  audienceId: string;
  data: Record<string, unknown>;
  actor: Actor | null;
  idempotencyKey?: string;
  cancellationKey?: string;
};

/**
 * Stores the fan-out and sends its first message. A replayed trigger (same idempotency key)
 * answers with the stored fan-out; if that one looks stalled, its chain is restarted from its
 * cursor (a duplicate chain is harmless: it loses the cursor race and stops).
 */
export async function startFanout(env: Env, t: FanoutTrigger, now = new Date()): Promise<WorkflowFanoutRow> {
  const db = database(env.DB);
  const id = uuidv7(now.getTime());
  const key = t.idempotencyKey ?? `fanout:${id}`;
  const before = t.idempotencyKey ? await fanoutByIdempotency(db, t.tenantId, t.workflowKey, key) : undefined;
  if (before) {
    if (before.state === "running" && now.getTime() - before.updatedAt.getTime() > STALL_MS) await env.CAMPAIGN_QUEUE.send(message(before, cursorOf(before)));
    return before;
  }
  const [{ n }] = (await countMembers(db, t.tenantId, t.audienceId)) as [{ n: number }];
  const row: WorkflowFanoutRow = {
    id,
    tenantId: t.tenantId,
    workflowKey: t.workflowKey,
    version: t.version,
    audienceId: t.audienceId,
    data: t.data,
    actor: t.actor,
    idempotencyKey: key,
    cancellationKey: t.cancellationKey ?? null,
    state: "running",
    total: n,
    started: 0,
    failed: 0,
    cursorType: null,
    cursorId: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
  const stored = await insertFanout(db, row);
  // Lost the race to a concurrent trigger with the same key: that one sent the message.
  if (!stored) return (await fanoutByIdempotency(db, t.tenantId, t.workflowKey, key))!;
  await env.CAMPAIGN_QUEUE.send(message(stored, null));
  return stored;
}

/**
 * The cron pass: restarts the chains of fan-outs that made no progress for STALL_MS (their message
 * was lost, or kept failing past the queue's retries), from their cursor. A chain that was only
 * slow runs beside the restarted one until one of them loses the cursor race.
 */
export async function restartStalledFanouts(env: Env, now: Date): Promise<number> {
  const stalled = await stalledFanouts(database(env.DB), new Date(now.getTime() - STALL_MS), 100);
  if (stalled.length) await env.CAMPAIGN_QUEUE.sendBatch(stalled.map((f) => ({ body: message(f, cursorOf(f)) })));
  return stalled.length;
}

export type PageOutcome = "stale" | "continued" | "completed" | "cancelled";

/** A member as a run's recipient, or why it cannot be one (counted as failed, never dropped silently). */
function recipientOf(m: MemberRow): { ok: true; recipient: EventRecipient } | { ok: false; reason: string } {
  const r = EventRecipient.safeParse({ type: m.recipientType, id: m.recipientId, ...(m.name ? { name: m.name } : {}), ...(m.email ? { email: m.email } : {}), ...(m.phone ? { phone: m.phone } : {}) });
  if (r.success) return { ok: true, recipient: r.data };
  const issue = r.error.issues[0]!;
  return { ok: false, reason: `${m.recipientType}/${m.recipientId}: ${issue.path.join(".") || "recipient"}: ${issue.message}` };
}

/** One queue message: up to PAGES_PER_MESSAGE pages, then the next message, paced to the creation limit. */
export async function runFanoutMessage(env: Env, msg: FanoutMessage): Promise<PageOutcome> {
  const db = database(env.DB);
  const began = Date.now();
  let after: MemberKey | null = msg.after;
  let created = 0;
  for (let page = 0; page < PAGES_PER_MESSAGE; page++) {
    const [[f], members] = (await runBatch(db, [getFanout(db, msg.tenantId, msg.fanoutId), membersAfterQuery(db, msg.tenantId, msg.audienceId, after, PAGE)])) as [WorkflowFanoutRow[], MemberRow[]];
    if (!f || f.state !== "running" || !sameCursor(cursorOf(f), after)) return f?.state === "cancelled" ? "cancelled" : "stale";
    if (members.length === 0) {
      await completeFanout(db, f, new Date());
      return "completed";
    }
    let outcome: PageResult;
    try {
      outcome = await startPage(env, db, f, after, members);
    } catch (error) {
      // The first page throws: the queue retries this message. A later one must not, because the
      // retry would find the cursor moved past this message's first pages and stop as stale: the
      // chain goes on from here instead, after the same wait as a retry.
      if (page === 0) throw error;
      console.error(JSON.stringify({ msg: "workflow fan-out page failed", fanoutId: f.id, error: String(error) }));
      await env.CAMPAIGN_QUEUE.send(message(f, after), { delaySeconds: RETRY_SECONDS });
      return "continued";
    }
    if (outcome.kind !== "advanced") return outcome.kind;
    created += outcome.created;
    after = members.at(-1)!;
  }
  // What this message created, at CREATES_PER_SECOND, less the time it already took.
  const delaySeconds = Math.max(0, Math.ceil(created / CREATES_PER_SECOND - (Date.now() - began) / 1000));
  await env.CAMPAIGN_QUEUE.send(message({ tenantId: msg.tenantId, id: msg.fanoutId, audienceId: msg.audienceId }, after), { delaySeconds });
  return "continued";
}

type PageResult = { kind: "advanced"; created: number } | { kind: "stale" } | { kind: "cancelled" };

async function startPage(env: Env, db: Db, f: WorkflowFanoutRow, from: MemberKey | null, members: MemberRow[]): Promise<PageResult> {
  const valid: { recipient: EventRecipient; variables: Record<string, unknown> | null }[] = [];
  let lastError: string | undefined;
  for (const m of members) {
    const r = recipientOf(m);
    if (r.ok) valid.push({ recipient: r.recipient, variables: m.variables ?? null });
    else lastError = r.reason;
  }
  const { runs, created } = valid.length
    ? await startRuns(env, {
        tenantId: f.tenantId,
        workflowKey: f.workflowKey,
        version: f.version,
        recipients: valid.map((v) => v.recipient),
        recipientData: valid.map((v) => v.variables),
        data: f.data,
        actor: f.actor ?? null,
        idempotencyKey: f.idempotencyKey,
        cancellationKey: f.cancellationKey ?? undefined,
        binding: "JOURNEYS_BULK",
        // This page is already on the queue, paced to the creation limit: it creates them all.
        createInline: Infinity,
      })
    : { runs: [], created: 0 };
  const moved = await advanceFanout(db, f, from, members.at(-1)!, { started: runs.length, failed: members.length - valid.length, lastError }, new Date());
  if (moved.length) return { kind: "advanced", created };
  // Cancelled while this page was starting: its runs were stored after the cancel marked the
  // others, so cancel them too. Otherwise a concurrent chain moved the cursor first.
  const [now] = await getFanout(db, f.tenantId, f.id);
  if (now?.state === "cancelled" && f.cancellationKey) {
    await cancelRuns(env, f.tenantId, f.cancellationKey);
    return { kind: "cancelled" };
  }
  return { kind: "stale" };
}
