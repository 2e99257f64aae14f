/** Audiences and their members, always filtered by tenant. */
import { and, asc, count, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { chunk } from "../lib/chunk";
import type { Db } from "./client";
import { audience, audienceMember } from "./schema";

export type AudienceRow = typeof audience.$inferSelect;
export type MemberRow = typeof audienceMember.$inferSelect;
export type MemberKey = { recipientType: string; recipientId: string };

/**
 * D1 binds at most 100 parameters per statement, which would make 10,000 members ~900 row-sized
 * statements. Instead each statement binds one JSON array and reads it with json_each: 20
 * statements per 10,000 (a bound value may be up to 2 MB; 500 members stay far below).
 */
const MEMBERS_PER_STATEMENT = 500;
export const insertAudience = (db: Db, row: AudienceRow) => db.insert(audience).values(row).returning().get();

export const getAudience = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(audience)
    .where(and(eq(audience.tenantId, tenantId), eq(audience.id, id)))
    .get();

export const listAudiences = (db: Db, tenantId: string) =>
  db.select().from(audience).where(eq(audience.tenantId, tenantId)).orderBy(asc(audience.createdAt), asc(audience.id)).all();

export const deleteAudience = (db: Db, tenantId: string, id: string) => [
  db.delete(audienceMember).where(and(eq(audienceMember.tenantId, tenantId), eq(audienceMember.audienceId, id))),
  db.delete(audience).where(and(eq(audience.tenantId, tenantId), eq(audience.id, id))),
];

/**
 * Adds members, keeping the contacts and variables of those already there unless the new row
 * gives its own (the newest import wins). Returns statements for the caller to batch.
 */
export type MemberFields = MemberKey & { name?: string | null; email?: string | null; phone?: string | null; variables?: Record<string, unknown> | null };

export function upsertMembers(db: Db, tenantId: string, audienceId: string, rows: MemberFields[], now: Date): BatchItem<"sqlite">[] {
  return chunk(rows, MEMBERS_PER_STATEMENT).map((part) => {
    const json = JSON.stringify(part.map((m) => ({ t: m.recipientType, i: m.recipientId, n: m.name, e: m.email, p: m.phone, v: m.variables })));
    // Columns in the table's order: tenant, audience, type, id, name, email, phone, variables, created.
    return db
      .insert(audienceMember)
      .select(
        sql`SELECT ${tenantId}, ${audienceId}, json_extract(value, '$.t'), json_extract(value, '$.i'), json_extract(value, '$.n'),
                   json_extract(value, '$.e'), json_extract(value, '$.p'), json_extract(value, '$.v'), ${now.getTime()}
            FROM json_each(${json}) WHERE true`,
      )
      .onConflictDoUpdate({
        target: [audienceMember.tenantId, audienceMember.audienceId, audienceMember.recipientType, audienceMember.recipientId],
        set: {
          name: sql`coalesce(excluded.name, ${audienceMember.name})`,
          email: sql`coalesce(excluded.email, ${audienceMember.email})`,
          phone: sql`coalesce(excluded.phone, ${audienceMember.phone})`,
          variables: sql`coalesce(excluded.variables, ${audienceMember.variables})`,
        },
      });
  });
}

export function removeMembers(db: Db, tenantId: string, audienceId: string, keys: MemberKey[]): BatchItem<"sqlite">[] {
  return chunk(keys, MEMBERS_PER_STATEMENT).map((part) => {
    const json = JSON.stringify(part.map((k) => ({ t: k.recipientType, i: k.recipientId })));
    return db
      .delete(audienceMember)
      .where(
        and(
          eq(audienceMember.tenantId, tenantId),
          eq(audienceMember.audienceId, audienceId),
          sql`(${audienceMember.recipientType}, ${audienceMember.recipientId}) IN (SELECT json_extract(value, '$.t'), json_extract(value, '$.i') FROM json_each(${json}))`,
        ),
      );
  });
}

export const countMembers = (db: Db, tenantId: string, audienceId: string) =>
  db
    .select({ n: count() })
    .from(audienceMember)
    .where(and(eq(audienceMember.tenantId, tenantId), eq(audienceMember.audienceId, audienceId)));

/** Members after `after` in recipient order, at most `limit`: the API's pages, a campaign's chunks, a workflow fan-out's pages. */
export const membersAfter = (db: Db, tenantId: string, audienceId: string, after: MemberKey | null, limit: number) => membersAfterQuery(db, tenantId, audienceId, after, limit).all();

/** The same read as a statement, for a D1 batch. */
export const membersAfterQuery = (db: Db, tenantId: string, audienceId: string, after: MemberKey | null, limit: number) =>
  db
    .select()
    .from(audienceMember)
    .where(
      and(
        eq(audienceMember.tenantId, tenantId),
        eq(audienceMember.audienceId, audienceId),
        after ? sql`(${audienceMember.recipientType}, ${audienceMember.recipientId}) > (${after.recipientType}, ${after.recipientId})` : undefined,
      ),
    )
    .orderBy(asc(audienceMember.recipientType), asc(audienceMember.recipientId))
    .limit(limit);

/** Erasure: the recipient leaves every audience (their inline contacts go with them). */
export const deleteMemberships = (db: Db, tenantId: string, recipientType: string, recipientId: string) =>
  db
    .delete(audienceMember)
    .where(and(eq(audienceMember.tenantId, tenantId), eq(audienceMember.recipientType, recipientType), eq(audienceMember.recipientId, recipientId)));
