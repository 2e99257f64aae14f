/** Recipient preferences and consent records, always filtered by tenant. */
import { and, asc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import type { Channel } from "../domain";
import { blankPreference } from "../preferences/consent";
import type { ContactField } from "../preferences/contact-sealing";
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

/** Writes the whole row: only for a row that replaces whatever was there (an erasure's tombstone). */
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

/**
 * One change to a recipient's preference row, applied by a single INSERT … ON CONFLICT DO UPDATE
 * so concurrent writers never read, merge in JS and write a stale row back: each statement sets
 * only the columns it names, merges `preferences` by type with json_patch (a null drops the
 * type), and adds or removes a marketing channel against the row as it is at write time.
 * `reseal` rewrites a contact the change does not name only if it still holds the value the
 * caller read (compare-and-set), so a concurrent new contact is never replaced by an old one.
 */
export type PreferenceChange = {
  set?: Partial<Omit<PreferenceRow, "tenantId" | "entityType" | "entityId" | "createdAt" | "updatedAt" | "preferences" | "optedOutAt" | "marketingRevoked">>;
  preferences?: Record<string, Channel[] | null>;
  optedOut?: boolean;
  marketing?: { channel: Channel; revoked: boolean };
  reseal?: Partial<Record<ContactField, { from: string; to: string }>>;
};

export function changePreference(db: Db, tenantId: string, r: RecipientKey, change: PreferenceChange, now: Date) {
  const t = recipientPreference;
  const set: Record<string, unknown> = { ...change.set, updatedAt: now };
  const row: PreferenceRow = { ...blankPreference(tenantId, r, now), ...change.set };
  if (change.preferences) {
    row.preferences = Object.fromEntries(Object.entries(change.preferences).filter(([, v]) => v !== null)) as Record<string, Channel[]>;
    set.preferences = sql`json_patch(coalesce(${t.preferences}, '{}'), ${JSON.stringify(change.preferences)})`;
  }
  if (change.optedOut === true) {
    // The first opt-out's time stays: a repeated opt-out does not move it.
    row.optedOutAt = now;
    set.optedOutAt = sql`coalesce(${t.optedOutAt}, ${now.getTime()})`;
  } else if (change.optedOut === false) {
    row.optedOutAt = null;
    row.optedOutReason = null;
    set.optedOutAt = null;
    set.optedOutReason = null;
  }
  if (change.marketing) {
    const { channel, revoked } = change.marketing;
    row.marketingRevoked = revoked ? [channel] : [];
    const list = sql`coalesce(${t.marketingRevoked}, '[]')`;
    set.marketingRevoked = revoked
      ? sql`CASE WHEN EXISTS (SELECT 1 FROM json_each(${list}) WHERE value = ${channel}) THEN ${list} ELSE json_insert(${list}, '$[#]', ${channel}) END`
      : sql`(SELECT json_group_array(value) FROM json_each(${list}) WHERE value <> ${channel})`;
  }
  for (const [field, swap] of Object.entries(change.reseal ?? {}) as [ContactField, { from: string; to: string }][]) {
    if (field in set) continue;
    set[field] = sql`CASE WHEN ${t[field]} = ${swap.from} THEN ${swap.to} ELSE ${t[field]} END`;
  }
  return db
    .insert(t)
    .values(row)
    .onConflictDoUpdate({ target: [t.tenantId, t.entityType, t.entityId], set })
    .returning();
}
