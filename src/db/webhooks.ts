/** Tenant webhook endpoints and their delivery log, always filtered by tenant. */
import { and, desc, eq, inArray } from "drizzle-orm";
import type { Db } from "./client";
import { communication, webhookDelivery, webhookEndpoint } from "./schema";

export type WebhookEndpointRow = typeof webhookEndpoint.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDelivery.$inferSelect;

export const insertEndpoint = (db: Db, row: WebhookEndpointRow) => db.insert(webhookEndpoint).values(row).run();

export const endpointsOf = (db: Db, tenantId: string) =>
  db.select().from(webhookEndpoint).where(eq(webhookEndpoint.tenantId, tenantId)).orderBy(webhookEndpoint.createdAt);

export const listEndpoints = (db: Db, tenantId: string) => endpointsOf(db, tenantId).all();

export const getEndpoint = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(webhookEndpoint)
    .where(and(eq(webhookEndpoint.tenantId, tenantId), eq(webhookEndpoint.id, id)))
    .get();

export const updateEndpoint = (db: Db, tenantId: string, id: string, patch: Partial<WebhookEndpointRow>) =>
  db
    .update(webhookEndpoint)
    .set(patch)
    .where(and(eq(webhookEndpoint.tenantId, tenantId), eq(webhookEndpoint.id, id)))
    .returning()
    .get();

export async function deleteEndpoint(db: Db, tenantId: string, id: string) {
  const [, removed] = await db.batch([
    db.delete(webhookDelivery).where(and(eq(webhookDelivery.tenantId, tenantId), eq(webhookDelivery.endpointId, id))),
    db
      .delete(webhookEndpoint)
      .where(and(eq(webhookEndpoint.tenantId, tenantId), eq(webhookEndpoint.id, id)))
      .returning({ id: webhookEndpoint.id }),
  ]);
  return removed.length > 0;
}

export const insertDelivery = (db: Db, row: WebhookDeliveryRow) => db.insert(webhookDelivery).values(row);

export const getDelivery = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(webhookDelivery)
    .where(and(eq(webhookDelivery.tenantId, tenantId), eq(webhookDelivery.id, id)))
    .get();

/** One queued attempt's delivery, as a statement for a batch. */
export const deliveryOf = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(webhookDelivery)
    .where(and(eq(webhookDelivery.tenantId, tenantId), eq(webhookDelivery.id, id)));

/**
 * The endpoint of that delivery, read fresh beside it (not from the snapshot): an endpoint
 * disabled a moment ago is not called. Its own statement rather than a join, because a batch
 * maps a join's result by column name and both tables have `id`.
 */
export const endpointOfDelivery = (db: Db, tenantId: string, deliveryId: string) =>
  db
    .select()
    .from(webhookEndpoint)
    .where(
      and(
        eq(webhookEndpoint.tenantId, tenantId),
        inArray(webhookEndpoint.id, db.select({ id: webhookDelivery.endpointId }).from(webhookDelivery).where(and(eq(webhookDelivery.tenantId, tenantId), eq(webhookDelivery.id, deliveryId)))),
      ),
    );

/** The communication a status change announces, as a statement for a batch. */
export const announcedCommunication = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(communication)
    .where(and(eq(communication.tenantId, tenantId), eq(communication.id, id)));

/** An attempt's outcome, as a statement for a batch. */
export const recordAttempt = (db: Db, tenantId: string, id: string, patch: Partial<WebhookDeliveryRow>) =>
  db
    .update(webhookDelivery)
    .set(patch)
    .where(and(eq(webhookDelivery.tenantId, tenantId), eq(webhookDelivery.id, id)));

export const updateDelivery = (db: Db, tenantId: string, id: string, patch: Partial<WebhookDeliveryRow>) =>
  db
    .update(webhookDelivery)
    .set(patch)
    .where(and(eq(webhookDelivery.tenantId, tenantId), eq(webhookDelivery.id, id)))
    .returning()
    .get();

export const listDeliveries = (db: Db, tenantId: string, endpointId: string, limit: number) =>
  db
    .select()
    .from(webhookDelivery)
    .where(and(eq(webhookDelivery.tenantId, tenantId), eq(webhookDelivery.endpointId, endpointId)))
    .orderBy(desc(webhookDelivery.createdAt), desc(webhookDelivery.id))
    .limit(limit)
    .all();
