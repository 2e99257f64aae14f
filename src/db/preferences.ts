/** Recipient preferences and consent records, always filtered by tenant. */
import { and, asc, eq, inArray, or, type SQL } from "drizzle-orm";
import type { Db } from "./client";
import { communicationRef } from "./communications";
import { communication, consent, recipientPreference } from "./schema";

export type PreferenceRow = typeof recipientPreference.$inferSelect;
export type ConsentRow = typeof consent.$inferSelect;
export type RecipientKey = { entityType: string; entityId: string };

export const getPreference = (db: Db, tenantId: string, r: RecipientKey) =>
  db
    .select()
    .from(recipientPreference)
    .where(and(eq(recipientPreference.tenantId, tenantId), eq(recipientPreference.entityType, r.entityType), eq(recipientPreference.entityId, r.entityId)));

/** The preferences of each of these communications' recipients, with the communication's id. */
export const preferencesFor = (db: Db, communicationIds: string[]) =>
  db
    .select({ communicationId: communicationRef, preference: recipientPreference })
    .from(recipientPreference)
    .innerJoin(
      communication,
      and(
        eq(communication.tenantId, recipientPreference.tenantId),
        eq(communication.recipientType, recipientPreference.entityType),
        eq(communication.recipientId, recipientPreference.entityId),
      ),
    )
    .where(inArray(communication.id, communicationIds));

/** Preferences of many recipients at once (a batch send); callers chunk to D1's parameter limit. */
export function preferencesOf(db: Db, tenantId: string, recipients: RecipientKey[]) {
  const match: SQL[] = recipients.map((r) => and(eq(recipientPreference.entityType, r.entityType), eq(recipientPreference.entityId, r.entityId))!);
  return db
    .select()
    .from(recipientPreference)
    .where(and(eq(recipientPreference.tenantId, tenantId), or(...match)));
}

export const upsertPreference = (db: Db, row: PreferenceRow) => {
  const { tenantId, entityType, entityId, createdAt, ...rest } = row;
  return db
    .insert(recipientPreference)
    .values(row)
    .onConflictDoUpdate({ target: [recipientPreference.tenantId, recipientPreference.entityType, recipientPreference.entityId], set: rest })
    .returning();
};

export const insertConsent = (db: Db, row: ConsentRow) => db.insert(consent).values(row);

export const listConsents = (db: Db, tenantId: string, r: RecipientKey) =>
  db
    .select()
    .from(consent)
    .where(and(eq(consent.tenantId, tenantId), eq(consent.entityType, r.entityType), eq(consent.entityId, r.entityId)))
    .orderBy(asc(consent.createdAt), asc(consent.id))
    .all();
