/**
 * The send ledger's queries. Every function that serves a tenant takes its id and filters by it;
 * the sweep's selections are the only cross-tenant reads, and they return the tenant with each id.
 */
import { and, asc, count, desc, eq, gte, inArray, isNull, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { Channel, CommunicationStatus, Priority } from "../domain";
import { uuidv7 } from "../lib/ids";
import { chunk } from "../lib/chunk";
import type { Db } from "./client";
import { communication, communicationEvent, idempotencyKey } from "./schema";
import { batchItem, columnsOf, decoder, inserter, placeholders, Prepared, quote } from "./prepared";

export type CommunicationRow = typeof communication.$inferSelect;
export type CommunicationEventRow = typeof communicationEvent.$inferSelect;
export type IdempotencyRow = typeof idempotencyKey.$inferSelect;

/** A timeline entry with every optional field empty; callers give what they know. */
export const eventRow = (
  e: Pick<CommunicationEventRow, "tenantId" | "communicationId" | "kind"> & Partial<CommunicationEventRow>,
): CommunicationEventRow => ({
  id: uuidv7(),
  status: null,
  provider: null,
  providerConfigId: null,
  httpStatus: null,
  error: null,
  latencyMs: null,
  detail: null,
  dedupeKey: null,
  createdAt: new Date(),
  ...e,
});

/**
 * A communication's id under its own name, for reads that join another table to communications:
 * D1 returns rows keyed by column name, so a bare `id` beside the other table's `id` would
 * silently take that one's value.
 */
export const communicationRef = sql<string>`${communication.id}`.as("communication_ref");

// The hot writes of accept and delivery: SQL text built once (src/db/prepared.ts).
const communicationInsert = inserter<CommunicationRow>(communication);
const eventInsert = inserter<CommunicationEventRow>(communicationEvent);

export const insertCommunication = (db: Db, row: CommunicationRow) => batchItem(new Prepared(db, communicationInsert.sql(1), communicationInsert.params([row])));
export const insertEvent = (db: Db, row: CommunicationEventRow) => insertEvents(db, [row])[0]!;

/** A timeline row binds 13 parameters; D1 binds at most 100 per statement. */
const EVENTS_PER_STATEMENT = 7;

/** Many timeline entries in as few statements as D1's parameter limit allows. */
export const insertEvents = (db: Db, rows: CommunicationEventRow[]) =>
  chunk(rows, EVENTS_PER_STATEMENT).map((part) => batchItem(new Prepared(db, eventInsert.sql(part.length), eventInsert.params(part))));
export const insertIdempotency = (db: Db, row: IdempotencyRow) => db.insert(idempotencyKey).values(row);

export const getIdempotency = (db: Db, tenantId: string, key: string) =>
  db
    .select()
    .from(idempotencyKey)
    .where(and(eq(idempotencyKey.tenantId, tenantId), eq(idempotencyKey.key, key)))
    .get();

/** How long an Idempotency-Key holds (24 h, as Stripe's). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/** Forgets a key whose record is older than `before` (an expired key is free for a new request). */
export const deleteStaleIdempotency = (db: Db, tenantId: string, key: string, before: Date) =>
  db.delete(idempotencyKey).where(and(eq(idempotencyKey.tenantId, tenantId), eq(idempotencyKey.key, key), lt(idempotencyKey.createdAt, before)));

export const getCommunication = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(communication)
    .where(and(eq(communication.tenantId, tenantId), eq(communication.id, id)))
    .get();

export const listEvents = (db: Db, tenantId: string, communicationId: string) =>
  db
    .select()
    .from(communicationEvent)
    .where(and(eq(communicationEvent.tenantId, tenantId), eq(communicationEvent.communicationId, communicationId)))
    .orderBy(asc(communicationEvent.createdAt), asc(communicationEvent.id))
    .all();

export type CommunicationFilters = {
  channel?: Channel;
  /** Stored statuses, any of which matches. */
  statuses?: CommunicationStatus[];
  type?: string;
  recipientId?: string;
  /** A recipient id or an exact contact (email address, phone number, device…). */
  recipient?: string;
  entityType?: string;
  entityId?: string;
  startDate?: Date;
  endDate?: Date;
};

export async function listCommunications(db: Db, tenantId: string, f: CommunicationFilters, page: number, size: number) {
  const conditions: SQL[] = [eq(communication.tenantId, tenantId)];
  if (f.channel) conditions.push(eq(communication.channel, f.channel));
  if (f.statuses) conditions.push(inArray(communication.status, f.statuses));
  if (f.type) conditions.push(eq(communication.type, f.type));
  if (f.recipientId) conditions.push(eq(communication.recipientId, f.recipientId));
  if (f.recipient) conditions.push(or(eq(communication.recipientContact, f.recipient), eq(communication.recipientId, f.recipient))!);
  if (f.entityType) conditions.push(eq(communication.entityType, f.entityType));
  if (f.entityId) conditions.push(eq(communication.entityId, f.entityId));
  if (f.startDate) conditions.push(gte(communication.createdAt, f.startDate));
  if (f.endDate) conditions.push(lte(communication.createdAt, f.endDate));
  const where = and(...conditions);
  const [results, total] = await db.batch([
    db
      .select()
      .from(communication)
      .where(where)
      .orderBy(desc(communication.createdAt), desc(communication.id))
      .limit(size)
      .offset((page - 1) * size),
    db.select({ n: count() }).from(communication).where(where),
  ]);
  return { results, count: total[0]?.n ?? 0 };
}

/**
 * Takes communications for one delivery attempt: a conditional update, so of two deliveries of
 * the same queue message only one gets the row back. `claimedAt` doubles as the claim's token.
 */
const claim = (db: Db, tenantId: string, ids: string[], now: Date, when: SQL | undefined) =>
  db
    .update(communication)
    .set({ status: "sending", claimedAt: now, updatedAt: now })
    .where(and(eq(communication.tenantId, tenantId), inArray(communication.id, ids), when))
    .returning();

/** D1 binds at most 100 parameters per statement; a claim or a batch read takes one per id. */
export const IDS_PER_STATEMENT = 80;

/**
 * Claims those of one tenant's communications that are due: queued or scheduled, their time and
 * any back-off passed. One statement for up to IDS_PER_STATEMENT ids (a queue batch's worth).
 */
export const claimDue = (db: Db, tenantId: string, ids: string[], now: Date) =>
  batchItem(new Prepared(db, claimDueSql(ids.length), [now.getTime(), now.getTime(), tenantId, ...ids, now.getTime(), now.getTime()], communicationRows.rows));

const communicationRows = decoder<CommunicationRow>(communication);
const claimTexts: string[] = [];
/** The claim's text for `n` ids (built once per n, at most IDS_PER_STATEMENT of them). */
const claimDueSql = (n: number) =>
  (claimTexts[n] ??=
    `update "communication" set "status" = 'sending', "claimed_at" = ?, "updated_at" = ? where "tenant_id" = ? and "id" in (${placeholders(n)})` +
    ` and "status" in ('queued', 'scheduled') and ("scheduled_at" is null or "scheduled_at" <= ?) and ("next_retry_at" is null or "next_retry_at" <= ?)` +
    ` returning ${communicationRows.names}`);

/**
 * Where the given communications stand, for those a claim did not take. Read in the claim's own
 * batch (after it), so it sees the claim's result. Callers match `tenantId` to the message's.
 */
export const claimStates = (db: Db, ids: string[]) =>
  batchItem(new Prepared(db, (stateTexts[ids.length] ??= `select ${stateRows.names} from "communication" where "id" in (${placeholders(ids.length)})`), ids, stateRows.rows));

// A far-future hop goes back on the message's own lane (send-lanes.ts): hence priority and campaign.
const stateRows = decoder<ClaimState>(communication, ["id", "tenantId", "status", "scheduledAt", "nextRetryAt", "priority", "campaignId"]);
const stateTexts: string[] = [];
export type ClaimState = {
  id: string;
  tenantId: string;
  status: CommunicationStatus;
  scheduledAt: Date | null;
  nextRetryAt: Date | null;
  priority: Priority;
  campaignId: string | null;
};

/**
 * Updates a claimed communication, only if the claim is still the one this attempt holds. The
 * status is replaced only while it is still `sending`: a provider's receipt that arrived before
 * this write (a fast `delivered`) stays, and this write still fills in the provider's id.
 */
export function updateClaimed(db: Db, claimed: CommunicationRow, patch: Partial<CommunicationRow>) {
  const keys = (Object.keys(patch) as (keyof CommunicationRow)[]).filter((k) => patch[k] !== undefined);
  const params = keys.map((k) => communicationColumn.get(k)!.encode(patch[k]));
  params.push(claimed.tenantId, claimed.id, communicationColumn.get("claimedAt")!.encode(claimed.claimedAt));
  return batchItem(new Prepared(db, updateClaimedSql(keys), params));
}

const communicationColumn = new Map(columnsOf(communication).map((c) => [c.key, c]));
const updateTexts = new Map<string, string>();

/** One text per set of patched columns: a handful of shapes in all (deliver.ts's outcomes). */
function updateClaimedSql(keys: string[]) {
  const shape = keys.join(",");
  let text = updateTexts.get(shape);
  if (!text) {
    const set = keys.map((k) => {
      const column = quote(communicationColumn.get(k)!.name);
      return k === "status" ? `${column} = CASE WHEN ${column} = 'sending' THEN ? ELSE ${column} END` : `${column} = ?`;
    });
    updateTexts.set(shape, (text = `update "communication" set ${set.join(", ")} where "tenant_id" = ? and "id" = ? and "claimed_at" = ?`));
  }
  return text;
}

export const CANCELLABLE: CommunicationStatus[] = ["scheduled", "queued"];

/** Marks a communication failed unless it already reached a state past sending. */
export const failUnfinished = (db: Db, tenantId: string, id: string, reason: string, now: Date) =>
  db
    .update(communication)
    .set({ status: "failed", failedAt: now, errorMessage: reason, updatedAt: now })
    .where(
      and(
        eq(communication.tenantId, tenantId),
        eq(communication.id, id),
        inArray(communication.status, ["scheduled", "queued", "sending"]),
      ),
    )
    .returning();

export type SweepCandidate = { id: string; tenantId: string; status: CommunicationStatus; priority: Priority; campaignId: string | null };

/**
 * What the queue should be holding but may have lost, oldest first, at most `limit`:
 * - `queued` whose last enqueue is older than `staleBefore` and whose retry time has come;
 * - `scheduled` already due by a grace period whose last enqueue is as old;
 * - `sending` whose attempt stopped reporting (the consumer died mid-send) before `staleBefore`.
 */
export const findSweepCandidates = (db: Db, now: Date, staleBefore: Date, graceBefore: Date, limit: number) =>
  db
    .select({ id: communication.id, tenantId: communication.tenantId, status: communication.status, priority: communication.priority, campaignId: communication.campaignId })
    .from(communication)
    .where(
      or(
        and(
          eq(communication.status, "queued"),
          lte(communication.enqueuedAt, staleBefore),
          or(isNull(communication.nextRetryAt), lte(communication.nextRetryAt, now)),
        ),
        and(
          eq(communication.status, "scheduled"),
          lte(communication.scheduledAt, graceBefore),
          lte(communication.enqueuedAt, graceBefore),
        ),
        and(eq(communication.status, "sending"), lte(communication.claimedAt, staleBefore)),
      ),
    )
    .orderBy(asc(communication.enqueuedAt))
    .limit(limit)
    .all();

/** Marks candidates re-enqueued; a stuck `sending` goes back to `queued` so it can be claimed again. */
export const markReenqueued = (db: Db, c: SweepCandidate, now: Date) =>
  db
    .update(communication)
    .set(c.status === "sending" ? { status: "queued", enqueuedAt: now, updatedAt: now, claimedAt: null } : { enqueuedAt: now })
    .where(and(eq(communication.tenantId, c.tenantId), eq(communication.id, c.id), eq(communication.status, c.status)));

export const touchEnqueued = (db: Db, tenantId: string, id: string, now: Date) =>
  db
    .update(communication)
    .set({ enqueuedAt: now })
    .where(and(eq(communication.tenantId, tenantId), eq(communication.id, id)));


/** Takes back a communication still waiting on one provider's receipt (silent failover). */
export const claimSilent = (db: Db, tenantId: string, id: string, providerConfigId: string, now: Date) =>
  claim(db, tenantId, [id], now, and(eq(communication.status, "sent"), eq(communication.providerConfigId, providerConfigId)));
