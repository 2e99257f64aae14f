/** Tenant webhook endpoints and their delivery log, always filtered by tenant. */
import { and, desc, eq } from "drizzle-orm";
import type { Db } from "./client";
import { webhookDelivery, webhookEndpoint } from "./schema";

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
