/**
 * The events sweep, run by the cron beside the send sweep: herald-events has no dead-letter queue,
 * so a message it lost (a sendBatch that failed after the D1 write, a consumer that crashed past
 * max_retries) would leave its work pending for good. D1 says what is still owed:
 *
 * - A tenant-webhook delivery still `pending` that nothing has changed for longer than the longest
 *   back-off of its retry schedule (plus a margin) has no attempt coming: it is queued again, and
 *   marked changed so the next passes wait as long again. One that is also older than the whole
 *   schedule (plus that wait) has already been given its chance: it is failed, saying why, and can
 *   be replayed. A delivery waiting for a legitimate retry is never older than the back-off, so it
 *   is never attempted early; a re-enqueued one whose original turns up late is attempted twice,
 *   which receivers dedupe on `webhook-id`.
 * - An inbound message whose media are still pending MEDIA_STALE_MS after it arrived gets a fresh
 *   media job; the job's own tries settle its media and announce it (media-job.ts is idempotent:
 *   settled media are not fetched again, `message.received` deliveries have derived ids).
 *
 * One D1 round trip per pass (a batch of four statements), at most DELIVERY_LIMIT deliveries and
 * MEDIA_LIMIT messages, queued with one sendBatch per 100; a backlog drains over several passes.
 */
import { runBatch, type Db } from "../db/client";
import { failStaleDeliveries, staleMediaMessages, touchStaleDeliveries, touchStaleMedia, type StaleMediaMessage } from "../db/events-sweep";
import { mediaJobs } from "../conversations/media-job";
import { chunk } from "../lib/chunk";
import type { EventMessage } from "./event-message";
import { WEBHOOK_RETRY_DELAYS } from "./tenant-webhooks";

/** A retry the queue hands over late (a backlog, a batch of slow endpoints) is not taken for lost. */
const DELIVERY_MARGIN_MS = 15 * 60_000;
/** No change for this long: no attempt is coming. */
export const DELIVERY_STALE_MS = Math.max(...WEBHOOK_RETRY_DELAYS) * 1000 + DELIVERY_MARGIN_MS;
/**
 * Older than this (and stale): failed rather than queued again. The schedule's whole span, counted
 * from the moment a lost first attempt is noticed, so a delivery lost at any point of its schedule
 * is queued again at least once before it is given up.
 */
export const DELIVERY_GIVE_UP_MS = WEBHOOK_RETRY_DELAYS.reduce((sum, s) => sum + s, 0) * 1000 + DELIVERY_STALE_MS;
export const LOST_DELIVERY = `its queued attempt was lost: nothing happened to it for ${DELIVERY_STALE_MS / 60_000} minutes and its retry schedule is over; replay it to try again`;

/**
 * A media job settles in its three tries, 30 s and 120 s apart, each under 10 minutes even when
 * every media host hangs (media-job.ts, BATCH_MEDIA): it normally ends within 3 minutes. 15
 * minutes leaves a queue backlog room without leaving a customer's message unannounced for long;
 * a job queued while the first still runs costs a repeated download at most, never a second event.
 */
export const MEDIA_STALE_MS = 15 * 60_000;

const DELIVERY_LIMIT = 500;
const MEDIA_LIMIT = 100;
/** The most messages one Queues sendBatch takes. */
const SEND_BATCH_MAX = 100;

export type EventsSweep = { deliveriesReenqueued: number; deliveriesFailed: number; mediaMessagesReenqueued: number; mediaJobs: number; notQueued: number };

export async function sweepEvents(db: Db, events: Queue<EventMessage>, now: Date): Promise<EventsSweep> {
  const staleBefore = new Date(now.getTime() - DELIVERY_STALE_MS);
  const mediaBefore = new Date(now.getTime() - MEDIA_STALE_MS);
  // Failing first: the touch that follows in the same transaction leaves those out.
  const [failed, reenqueued, media] = (await runBatch(db, [
    failStaleDeliveries(db, staleBefore, new Date(now.getTime() - DELIVERY_GIVE_UP_MS), DELIVERY_LIMIT, LOST_DELIVERY, now),
    touchStaleDeliveries(db, staleBefore, DELIVERY_LIMIT, now),
    staleMediaMessages(db, mediaBefore, MEDIA_LIMIT),
    touchStaleMedia(db, mediaBefore, MEDIA_LIMIT, now),
  ])) as [{ id: string }[], { id: string; tenantId: string }[], StaleMediaMessage[], unknown];

  const jobs = jobsByTenant(media);
  const bodies: EventMessage[] = [...reenqueued.map((d) => ({ kind: "delivery" as const, tenantId: d.tenantId, deliveryId: d.id })), ...jobs];
  // A send that fails leaves its rows marked: they come round again after another wait.
  const parts = chunk(bodies, SEND_BATCH_MAX);
  const sent = await Promise.allSettled(parts.map((part) => events.sendBatch(part.map((body) => ({ body })))));
  const notQueued = sent.reduce((n, s, i) => n + (s.status === "rejected" ? parts[i]!.length : 0), 0);
  return { deliveriesReenqueued: reenqueued.length, deliveriesFailed: failed.length, mediaMessagesReenqueued: media.length, mediaJobs: jobs.length, notQueued };
}

/** One job per tenant (per MEDIA_JOB_MAX messages): a job names one tenant's messages only. */
function jobsByTenant(messages: StaleMediaMessage[]) {
  return [...Map.groupBy(messages, (m) => m.tenantId)].flatMap(([tenantId, list]) => mediaJobs(tenantId, list.map(({ id, to }) => ({ id, to }))));
}
