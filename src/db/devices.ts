/** Recipients' push devices, always filtered by tenant. */
import { and, asc, desc, eq, inArray, notInArray, sql } from "drizzle-orm";
import type { Db } from "./client";
import { communicationRef } from "./communications";
import { communication, communicationEvent, device } from "./schema";
import type { RecipientRef } from "./recipients";

export type DeviceRow = typeof device.$inferSelect;

const ofRecipient = (r: RecipientRef) =>
  and(eq(device.tenantId, r.tenantId), eq(device.recipientType, r.recipientType), eq(device.recipientId, r.recipientId));

/**
 * Registers a device, or refreshes it when its token or endpoint is already known to the tenant
 * (an app registers on every launch). A token that moves to another recipient follows them: it is
 * the same phone, now signed in as someone else. `createdAt` is kept on a refresh, so the caller
 * can tell a new row from an old one.
 */
export const upsertDevice = (db: Db, row: DeviceRow) =>
  db
    .insert(device)
    .values(row)
    .onConflictDoUpdate({
      target: [device.tenantId, device.address],
      set: {
        recipientType: row.recipientType,
        recipientId: row.recipientId,
        platform: row.platform,
        transport: row.transport,
        p256dh: row.p256dh,
        auth: row.auth,
        lastSeenAt: row.lastSeenAt,
      },
    })
    .returning();

export const devicesOf = (db: Db, r: RecipientRef) =>
  db.select().from(device).where(ofRecipient(r)).orderBy(desc(device.lastSeenAt), asc(device.id));

/** Keeps the recipient's `keep` most recently seen devices: stale tokens pile up as apps reinstall. */
export const trimDevices = (db: Db, r: RecipientRef, keep: number) =>
  db
    .delete(device)
    .where(
      and(
        ofRecipient(r),
        notInArray(
          device.id,
          db.select({ id: device.id }).from(device).where(ofRecipient(r)).orderBy(desc(device.lastSeenAt), asc(device.id)).limit(keep),
        ),
      ),
    );

export async function deleteDevice(db: Db, r: RecipientRef, id: string) {
  const rows = await db.delete(device).where(and(ofRecipient(r), eq(device.id, id))).returning({ id: device.id });
  return rows.length > 0;
}

/** Devices the push service called dead (unregistered, expired). */
export const deleteDevices = (db: Db, tenantId: string, ids: string[]) =>
  db.delete(device).where(and(eq(device.tenantId, tenantId), inArray(device.id, ids)));

export const deleteDevicesOf = (db: Db, r: RecipientRef) => db.delete(device).where(ofRecipient(r));

/**
 * The registered devices of each of these push communications' recipients (the contact is
 * `<recipientType>/<recipientId>`), most recently seen first, with the communication's id.
 */
export const devicesFor = (db: Db, communicationIds: string[]) =>
  db
    .select({ communicationId: communicationRef, device })
    .from(device)
    .innerJoin(
      communication,
      and(eq(communication.tenantId, device.tenantId), eq(communication.recipientContact, sql`${device.recipientType} || '/' || ${device.recipientId}`)),
    )
    .where(and(inArray(communication.id, communicationIds), eq(communication.channel, "push")))
    .orderBy(desc(device.lastSeenAt), asc(device.id));

/**
 * The devices that already accepted each of these communications, from their timelines: a
 * delivery that comes back (a throttle wait, a retry) must not buzz the same phone twice. Keyed
 * by communication id only: callers match rows to communications they claimed for their tenant.
 */
export const acceptedDevicesFor = (db: Db, communicationIds: string[]) =>
  db
    .select({
      communicationId: communicationEvent.communicationId,
      deviceId: sql<string>`json_extract(${communicationEvent.detail}, '$.deviceId')`,
      providerMessageId: sql<string>`json_extract(${communicationEvent.detail}, '$.providerMessageId')`,
      provider: communicationEvent.provider,
      providerConfigId: communicationEvent.providerConfigId,
    })
    .from(communicationEvent)
    .where(
      and(
        inArray(communicationEvent.communicationId, communicationIds),
        eq(communicationEvent.kind, "attempt"),
        sql`json_extract(${communicationEvent.detail}, '$.providerMessageId') is not null`,
        sql`json_extract(${communicationEvent.detail}, '$.deviceId') is not null`,
      ),
    );
