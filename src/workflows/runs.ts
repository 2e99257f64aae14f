/**
 * Starting, cancelling and signalling runs. A trigger writes one `pending` workflow_run row per
 * recipient (in chunked D1 batches; the idempotency key makes a replayed trigger find the same
 * rows), creates their Workflows instances itself when there are at most 20 and otherwise queues
 * their creation (src/workflows/creation.ts), so it answers as soon as the runs are stored. A
 * cancel marks the rows first, so a run the terminate call misses still stops before its next
 * step (the interpreter checks the flag) and a queued one is never created; one run can be
 * cancelled by id the same way, and a cancelled run's pending sends are cancelled with it.
 * Business events reach waiting runs through `sendEvent`.
 */
import { recipientKey, type EventRecipient } from "../automation/event";
import { database, runBatch } from "../db/client";
import type { WorkflowRunRow } from "../db/workflows";
import { cancelById, cancelByKey, getRun, insertRuns, openRunsOf, runsByIdempotency } from "../db/workflows";
import { cancelFanoutsByKey } from "../db/workflow-fanouts";
import type { Env } from "../env";
import { uuidv7 } from "../lib/ids";
import { cancelRunSends } from "../pipeline/cancel";
import { INLINE_CREATES, createInstances, enqueueCreation, withoutInstance } from "./creation";
import type { Actor } from "./steps/types";

export const MAX_TRIGGER_RECIPIENTS = 1000;
const INSERT_CHUNK = 250;

export type Trigger = {
  tenantId: string;
  workflowKey: string;
  version: number;
  recipients: EventRecipient[];
  data: Record<string, unknown>;
  /** Per recipient, merged over `data` (an audience member's variables). */
  recipientData?: (Record<string, unknown> | null | undefined)[];
  actor: Actor | null;
  idempotencyKey?: string;
  cancellationKey?: string;
  binding?: "JOURNEYS" | "JOURNEYS_BULK";
  /** Up to this many instances to create (default INLINE_CREATES) are created before returning; more all go to the queue. */
  createInline?: number;
};

export type StartedRun = { id: string; recipient: { type: string; id: string } };
const runsOf = (rows: WorkflowRunRow[]): StartedRun[] => rows.map((r) => ({ id: r.id, recipient: { type: r.recipientType, id: r.recipientId ?? "" } }));

const recipientIdOf = (r: EventRecipient) => r.id ?? r.email ?? r.phone ?? r.whatsapp ?? r.messengerId ?? null;

/** Workflows event types allow letters, digits, `-` and `_`; ours are dotted and never contain `-`. */
export const workflowsEventType = (eventType: string) => eventType.replace(/\./g, "-");

export async function startRuns(env: Env, t: Trigger, now = new Date()): Promise<{ runs: StartedRun[]; created: number }> {
  const db = database(env.DB);
  const binding = t.binding ?? "JOURNEYS";
  const rows: WorkflowRunRow[] = t.recipients.map((r, i) => {
    const id = uuidv7(now.getTime());
    const own = t.recipientData?.[i];
    return {
      id,
      tenantId: t.tenantId,
      workflowKey: t.workflowKey,
      version: t.version,
      recipientType: r.type,
      recipientId: recipientIdOf(r),
      recipient: r,
      status: "pending",
      data: own ? { ...t.data, ...own } : t.data,
      actor: t.actor,
      cancellationKey: t.cancellationKey ?? null,
      cancelReason: null,
      idempotencyKey: t.idempotencyKey ? `${t.idempotencyKey}\u0000${recipientKey(r)}` : null,
      instanceId: id,
      binding,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
  });
  // The runs already stored under this trigger's keys, by key (one statement for all of them).
  const storedByKey = async () =>
    new Map(t.idempotencyKey ? (await runsByIdempotency(db, t.tenantId, t.workflowKey, rows.map((r) => r.idempotencyKey!))).map((r) => [r.idempotencyKey!, r]) : []);
  let existing = await storedByKey();
  const fresh = rows.filter((r) => !r.idempotencyKey || !existing.has(r.idempotencyKey));
  for (let i = 0; i < fresh.length; i += INSERT_CHUNK) await runBatch(db, insertRuns(db, fresh.slice(i, i + INSERT_CHUNK)));
  // A concurrent replay may have won some keys: whatever is stored is what runs.
  if (t.idempotencyKey && fresh.length) existing = await storedByKey();
  const stored = t.idempotencyKey ? rows.map((r) => existing.get(r.idempotencyKey!) ?? r) : rows;
  const mine = new Set(fresh.map((r) => r.id));
  // A replay also starts any run still pending whose instance the first call never created (it
  // failed between the D1 write and createBatch, or its queue message has not run yet). Runs
  // created here are checked against Workflows first; the queue's consumer checks its own.
  const pending = [...stored.filter((r) => mine.has(r.id)), ...stored.filter((r) => !mine.has(r.id) && r.status === "pending")];
  if (pending.length > (t.createInline ?? INLINE_CREATES)) {
    await enqueueCreation(env, t.tenantId, pending.map((r) => r.id));
    return { runs: runsOf(stored), created: 0 };
  }
  const toCreate = [...pending.filter((r) => mine.has(r.id)), ...(await withoutInstance(env, pending.filter((r) => !mine.has(r.id))))];
  await createInstances(env, binding, toCreate);
  return { runs: runsOf(stored), created: toCreate.length };
}

/**
 * Stops audience fan-outs under the key (members not reached yet get no run), marks every open
 * run under it cancelled, then terminates their instances and cancels the sends they created that
 * have not gone out (scheduled by quiet hours or a send time, or still queued). The fan-outs go
 * first: a page that was starting runs meanwhile sees the cancel when it moves its cursor and
 * cancels its own runs.
 */
export async function cancelRuns(env: Env, tenantId: string, cancellationKey: string, now = new Date()): Promise<{ runs: number; fanouts: number }> {
  const db = database(env.DB);
  const fanouts = await cancelFanoutsByKey(db, tenantId, cancellationKey, now);
  const cancelled = await cancelByKey(db, tenantId, cancellationKey, `cancellation key ${cancellationKey}`, now);
  await terminateAll(env, cancelled);
  await cancelRunSends(env, db, tenantId, cancelled.map((r) => r.id), now);
  return { runs: cancelled.length, fanouts: fanouts.length };
}

/**
 * Cancels one run the same way: the row first, then its instance, then its pending sends. Answers false when the run was
 * not open (unknown, another tenant's, or finished meanwhile), so the caller can say which.
 */
export async function cancelRun(env: Env, tenantId: string, runId: string, reason: string, now = new Date()): Promise<boolean> {
  const db = database(env.DB);
  const cancelled = await cancelById(db, tenantId, runId, reason, now);
  await terminateAll(env, cancelled);
  await cancelRunSends(env, db, tenantId, cancelled.map((r) => r.id), now);
  return cancelled.length > 0;
}

type CancelledRun = Pick<WorkflowRunRow, "id" | "binding" | "instanceId">;
const terminateAll = (env: Env, runs: CancelledRun[]) =>
  Promise.all(
    runs.map(async (r) => {
      try {
        await (await env[r.binding].get(r.instanceId)).terminate();
      } catch (error) {
        // Already finished, or not created yet: the cancelled flag stops it before its next step.
        console.log(JSON.stringify({ msg: "terminate skipped", runId: r.id, error: String(error) }));
      }
    }),
  );

/**
 * Delivers a business event to this recipient's open runs: any of them waiting on `eventType`
 * (wait_for_event) resumes; the others never asked for it and ignore it. Returns how many runs
 * were signalled. Called by POST /api/events.
 */
export async function notifyRunsOfEvent(env: Env, tenantId: string, eventType: string, recipient: { type: string; id?: string | null }, data: Record<string, unknown>): Promise<number> {
  if (!recipient.id) return 0;
  const db = database(env.DB);
  const runs = await openRunsOf(db, tenantId, recipient.type, recipient.id);
  const type = workflowsEventType(eventType);
  const event = { type, payload: JSON.stringify({ type: eventType, data }) };
  const send = async (r: (typeof runs)[number]) => (await env[r.binding].get(r.instanceId)).sendEvent(event);
  const sent = await Promise.all(
    runs.map(async (r) => {
      try {
        await send(r);
        return 1;
      } catch (error) {
        // A pending run's instance may not exist yet (its creation is queued): create it now, so
        // Workflows keeps the event for the run's wait_for_event instead of it being lost. If the
        // queue created it meanwhile, the createBatch fails and the second send reaches it.
        if (r.status === "pending") {
          const row = await getRun(db, tenantId, r.id);
          if (row?.status === "pending") await createInstances(env, row.binding, [row]).catch(() => undefined);
          try {
            await send(r);
            return 1;
          } catch {
            // fall through: logged below
          }
        }
        console.log(JSON.stringify({ msg: "sendEvent skipped", runId: r.id, error: String(error) }));
        return 0;
      }
    }),
  );
  return sent.reduce<number>((a, b) => a + b, 0);
}
