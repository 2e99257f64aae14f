/**
 * The automation cron passes, run by the API Worker's scheduled handler next to the send sweep.
 * Each is bounded (a LIMIT per run; a backlog drains over several runs) and idempotent (rows are
 * claimed with conditional updates before anything is sent), so running twice, or two runs at
 * once, never sends twice.
 */
import { deleteProcessedEvents, findUnprocessedEvents, touchPending } from "../db/business-events";
import { runBatch } from "../db/client";
import { deleteFlushedDigests } from "../db/digests";
import { deleteExpiredNonces } from "../db/webhook-nonces";
import { STALE_CLAIM_MS, type AutomationDeps } from "./deps";
import { flushDigests } from "./digests";
import { enqueueEvents, eventMessage } from "./message";
import { runDueReminders } from "./reminders";

export const RECOVER_BATCH = 500;
export const RETENTION_BATCH = 500;
/** How long an accepted event may wait for its queue message before the pass enqueues it again. */
const EVENT_GRACE_MS = 60_000;
const EVENT_RETENTION_MS = 30 * 86_400_000;
const DIGEST_RETENTION_MS = 7 * 86_400_000;

/** Events whose queue message was lost (or whose consumer died) go back on the queue. */
export async function recoverEvents(d: AutomationDeps, now: Date, limit = RECOVER_BATCH) {
  const lost = await findUnprocessedEvents(d.db, new Date(now.getTime() - EVENT_GRACE_MS), new Date(now.getTime() - STALE_CLAIM_MS), limit);
  if (lost.length === 0) return { reenqueued: 0 };
  await runBatch(d.db, lost.map((e) => touchPending(d.db, e.tenantId, e.id, now)));
  await enqueueEvents(d.automation, lost.map((e) => eventMessage(e.tenantId, e.id)));
  return { reenqueued: lost.length };
}

export async function retention(d: AutomationDeps, now: Date, limit = RETENTION_BATCH) {
  const events = await deleteProcessedEvents(d.db, new Date(now.getTime() - EVENT_RETENTION_MS), limit);
  const digests = await deleteFlushedDigests(d.db, new Date(now.getTime() - DIGEST_RETENTION_MS), limit);
  // Expired nonces no longer refuse anything (claimNonce ignores them); this only keeps the table small.
  const nonces = await deleteExpiredNonces(d.db, now, limit);
  return { events, digests, nonces };
}

/** Runs every pass; one failing does not stop the others (the next run tries it again). */
export async function runAutomationPasses(d: AutomationDeps, now: Date) {
  const passes = { events: recoverEvents, reminders: runDueReminders, digests: flushDigests, retention } as const;
  const summary: Record<string, unknown> = {};
  for (const [name, pass] of Object.entries(passes)) {
    try {
      summary[name] = await pass(d, now);
    } catch (error) {
      console.error(JSON.stringify({ msg: "automation pass failed", pass: name, error: String(error) }));
      summary[name] = { error: String(error) };
    }
  }
  return summary;
}
