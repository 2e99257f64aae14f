/**
 * Tenant webhook payloads under erasure and retention (issue 14). A delivery's payload is replaced
 * in place by a stub naming only its event type and time, so the delivery log stays whole (id,
 * event, endpoint, status, attempts and times stay) and the `redacted` marker says why. The
 * receiver's answer (`last_error`) goes too: an excerpt of a 4xx body can echo the payload.
 *
 * A delivery still pending when its recipient is erased is cancelled (failed, "recipient
 * erased"), not sent with the stub: a stub tells the receiver nothing it can act on, and under the
 * same `webhook-id` its dedupe would take the empty event for the real one. The consumer checks
 * the marker again before each attempt (planAttempt), so an attempt racing the erasure cannot put
 * the row back on the queue with its old content.
 */
import { and, eq, inArray, isNull, lt, ne, sql } from "drizzle-orm";
import type { Db } from "./client";
import { communication, webhookDelivery } from "./schema";
import type { RecipientRef } from "./recipients";
import { chunk } from "../lib/chunk";

export type Redaction = "erased" | "expired";

export const CANCELLED_BY_ERASURE = "cancelled: recipient erased before delivery";

/** The ids bound per statement: D1 binds at most 100 parameters, and the update binds a few. */
const PART = 80;

const stub = (reason: Redaction) =>
  sql`json_object('type', ${webhookDelivery.eventType}, 'timestamp', CASE WHEN json_valid(${webhookDelivery.payload}) THEN json_extract(${webhookDelivery.payload}, '$.timestamp') END, 'data', json('null'), 'redacted', ${reason})`;

/** The pending branches only ever apply to erasure: retention leaves pending deliveries alone. */
const redaction = (reason: Redaction, now: Date) => ({
  payload: stub(reason),
  redacted: reason,
  lastError: sql`CASE WHEN ${webhookDelivery.status} = 'pending' THEN ${CANCELLED_BY_ERASURE} WHEN ${webhookDelivery.lastError} IS NULL THEN NULL ELSE ${`[${reason}]`} END`,
  // The cancelled ones change status, so their time moves; the others keep theirs.
  updatedAt: sql`CASE WHEN ${webhookDelivery.status} = 'pending' THEN ${now.getTime()} ELSE ${webhookDelivery.updatedAt} END`,
  status: sql`CASE WHEN ${webhookDelivery.status} = 'pending' THEN 'failed' ELSE ${webhookDelivery.status} END`,
});

/**
 * Erasure: stubs every delivery about these subjects (conversation ids), as statements for the
 * erasure's batch, at most PART ids each.
 */
export const eraseDeliveries = (db: Db, tenantId: string, subjectIds: string[], now: Date) =>
  chunk(subjectIds, PART).map((part) =>
    db
      .update(webhookDelivery)
      .set(redaction("erased", now))
      .where(and(eq(webhookDelivery.tenantId, tenantId), isNull(webhookDelivery.redacted), inArray(webhookDelivery.subjectId, part))),
  );

/**
 * Erasure of the deliveries about a recipient's communications (status and inbox.action events),
 * found through the communications already renamed to the pseudonym: one statement however many
 * there are, and an erasure that stopped part-way, or ran before deliveries were covered, is
 * completed by running it again.
 */
export const eraseDeliveriesOfCommunications = (db: Db, r: RecipientRef, pseudonym: string, now: Date) =>
  db
    .update(webhookDelivery)
    .set(redaction("erased", now))
    .where(
      and(
        eq(webhookDelivery.tenantId, r.tenantId),
        isNull(webhookDelivery.redacted),
        inArray(
          webhookDelivery.subjectId,
          db
            .select({ id: communication.id })
            .from(communication)
            .where(and(eq(communication.tenantId, r.tenantId), eq(communication.recipientType, r.recipientType), eq(communication.recipientId, pseudonym))),
        ),
      ),
    );

/**
 * Retention: up to `limit` finished (succeeded or failed) deliveries created before `cutoff` lose
 * their payload; a pending one is left to its attempts. Answers how many.
 */
export async function expireDeliveries(db: Db, tenantId: string, cutoff: Date, limit: number, now: Date): Promise<number> {
  const due = db
    .select({ id: webhookDelivery.id })
    .from(webhookDelivery)
    .where(and(eq(webhookDelivery.tenantId, tenantId), lt(webhookDelivery.createdAt, cutoff), ne(webhookDelivery.status, "pending"), isNull(webhookDelivery.redacted)))
    .limit(limit);
  const r = await db.update(webhookDelivery).set(redaction("expired", now)).where(inArray(webhookDelivery.id, due)).run();
  return r.meta.changes ?? 0;
}
