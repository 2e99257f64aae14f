/**
 * `inbox.action` for tenant webhooks: a recipient pressed an item's event button. One
 * delivery-log row per subscribed endpoint, then attempted by the events queue like every other
 * event (signed, retried with back-off). An action is taken once per item, so the `webhook-id`
 * (eventId) is stable per item and receivers dedupe on it.
 *
 * The inbox object keeps the taken action in an outbox and calls this until it succeeds
 * (src/durable/inbox.ts), so a call may repeat one that half-landed: each row's id is derived from
 * the event and the endpoint and inserted with ON CONFLICT DO NOTHING, so a repeat adds no row,
 * and every row is enqueued again (the consumer skips a row no longer pending).
 */
import type { Env } from "../env";
import { database, runBatch } from "../db/client";
import { getCommunication } from "../db/communications";
import { endpointsOf, insertDelivery } from "../db/webhooks";
import { chunk } from "../lib/chunk";
import { pendingDelivery, subscribed } from "../pipeline/tenant-webhooks";

export const INBOX_ACTION = "inbox.action";

export type TakenAction = { itemId: string; index: number; label: string; event: string; data: unknown; at: Date };

/** Logs and enqueues the event for every subscribed endpoint; returns how many. */
export async function emitInboxAction(env: Pick<Env, "DB" | "EVENT_QUEUE">, tenantId: string, taken: TakenAction): Promise<number> {
  const db = database(env.DB);
  const [endpoints, c] = await Promise.all([endpointsOf(db, tenantId).all(), getCommunication(db, tenantId, taken.itemId)]);
  const to = endpoints.filter((e) => e.enabled && subscribed(e.eventTypes, INBOX_ACTION));
  if (to.length === 0) return 0;
  const payload = JSON.stringify({
    type: INBOX_ACTION,
    timestamp: taken.at.toISOString(),
    data: {
      communicationId: taken.itemId,
      event: taken.event,
      label: taken.label,
      action: taken.index,
      type: c?.type ?? null,
      recipientType: c?.recipientType ?? null,
      recipientId: c?.recipientId ?? null,
      entityType: c?.entityType ?? null,
      entityId: c?.entityId ?? null,
      data: taken.data,
      actedAt: taken.at.toISOString(),
    },
  });
  const event = { eventId: `evt_inbox_${taken.itemId}_${taken.index}`, eventType: INBOX_ACTION, payload, subjectId: taken.itemId };
  const rows = to.map((e) => ({ ...pendingDelivery(tenantId, e.id, event, taken.at), id: `${event.eventId}_${e.id}` }));
  await runBatch(db, rows.map((r) => insertDelivery(db, r).onConflictDoNothing()));
  // After the commit: a lost queue send leaves the row pending in the delivery log, to replay.
  for (const part of chunk(rows, 100)) await env.EVENT_QUEUE.sendBatch(part.map((r) => ({ body: { kind: "delivery" as const, tenantId, deliveryId: r.id } })));
  return rows.length;
}
