/**
 * CPU of building the hot statements (issue 18 §6): drizzle's builder on every call, as the
 * helpers did, against the SQL text built once (src/db/prepared.ts) that they use now. No D1:
 * the client's prepare/bind are stubs, so what is timed is the JavaScript before a round trip,
 * the part the CPU profile blamed. Run: npx tsx bench/query-build.ts [iterations]
 */
import { and, eq, getTableColumns, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { performance } from "node:perf_hooks";
import { database } from "../src/db/client";
import { communication, communicationEvent, communicationStats } from "../src/db/schema";
import { claimDue, claimStates, eventRow, insertCommunication, insertEvents, updateClaimed, type CommunicationRow } from "../src/db/communications";
import { addToStats } from "../src/db/stats";
import { chunk } from "../src/lib/chunk";

const stub = { bind: () => stub } as unknown as D1PreparedStatement;
const db = database({ prepare: () => stub } as unknown as D1Database);
/** What drizzle's D1 batch does with each item before the round trip. */
const prepare = (item: unknown) => (item as { _prepare(): { getQuery(): unknown } })._prepare().getQuery();

// A full row with a value of each column's type.
const row = Object.fromEntries(
  Object.entries(getTableColumns(communication)).map(([key, c]) => [
    key,
    c.columnType === "SQLiteTimestamp" ? new Date() : c.dataType === "number" ? 1 : c.dataType === "json" ? { a: 1 } : c.dataType === "boolean" ? false : `v-${key}`,
  ]),
) as unknown as CommunicationRow;
const events = Array.from({ length: 7 }, () => eventRow({ tenantId: "t", communicationId: "c", kind: "attempt", detail: { providerMessageId: "m" } }));
const patch: Partial<CommunicationRow> = { status: "sent", sentAt: new Date(), deliveredAt: null, provider: "sendgrid", providerConfigId: "p", providerMessageId: "m", providerResponse: { httpStatus: 202, attempt: 1 }, errorMessage: null, updatedAt: new Date() };
const key = { tenantId: "t", day: "2026-12-02", channel: "email" as const, type: "receipt" };
const COUNTERS = ["accepted", "sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed", "cancelled", "sendLatencyMs", "sendLatencyCount"] as const;

/** The helpers as they were, through drizzle's builder (git show HEAD~3:src/db/…). */
const ids = Array.from({ length: 20 }, (_, i) => `id-${i}`);
const now = new Date();
const before = {
  claimDue: () =>
    db
      .update(communication)
      .set({ status: "sending", claimedAt: now, updatedAt: now })
      .where(
        and(
          eq(communication.tenantId, "t"),
          inArray(communication.id, ids),
          inArray(communication.status, ["queued", "scheduled"]),
          or(isNull(communication.scheduledAt), lte(communication.scheduledAt, now)),
          or(isNull(communication.nextRetryAt), lte(communication.nextRetryAt, now)),
        ),
      )
      .returning(),
  claimStates: () =>
    db
      .select({ id: communication.id, tenantId: communication.tenantId, status: communication.status, scheduledAt: communication.scheduledAt, nextRetryAt: communication.nextRetryAt, priority: communication.priority, campaignId: communication.campaignId })
      .from(communication)
      .where(inArray(communication.id, ids)),
  insertCommunication: () => db.insert(communication).values(row),
  insertEvents: () => chunk(events, 7).map((part) => db.insert(communicationEvent).values(part)),
  updateClaimed: () => {
    const { status, ...rest } = patch;
    return db
      .update(communication)
      .set({ ...rest, status: sql`CASE WHEN ${communication.status} = 'sending' THEN ${status} ELSE ${communication.status} END` })
      .where(and(eq(communication.tenantId, row.tenantId), eq(communication.id, row.id), eq(communication.claimedAt, row.claimedAt!)));
  },
  addToStats: () => {
    const delta = { sent: 1, sendLatencyMs: 20, sendLatencyCount: 1 } as Record<string, number>;
    const values = Object.fromEntries(COUNTERS.map((m) => [m, delta[m] ?? 0]));
    const set = Object.fromEntries(COUNTERS.filter((m) => delta[m]).map((m) => [m, sql`${communicationStats[m]} + ${delta[m]}`]));
    return db
      .insert(communicationStats)
      .values({ ...key, ...values })
      .onConflictDoUpdate({ target: [communicationStats.tenantId, communicationStats.day, communicationStats.channel, communicationStats.type], set });
  },
};
const after = {
  claimDue: () => claimDue(db, "t", ids, now),
  claimStates: () => claimStates(db, ids),
  insertCommunication: () => insertCommunication(db, row),
  insertEvents: () => insertEvents(db, events),
  updateClaimed: () => updateClaimed(db, row, patch),
  addToStats: () => addToStats(db, key, { sent: 1, sendLatencyMs: 20, sendLatencyCount: 1 }),
};

const n = Number(process.argv[2] ?? 20_000);
function time(make: () => unknown) {
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const made = make();
      for (const item of Array.isArray(made) ? made : [made]) prepare(item);
    }
  };
  run(Math.min(n, 2_000)); // warm the JIT
  const start = performance.now();
  run(n);
  return ((performance.now() - start) * 1000) / n; // µs per call
}

console.log(`statement                 drizzle µs  built-once µs  ratio   (${n} calls each)`);
for (const name of Object.keys(before) as (keyof typeof before)[]) {
  const b = time(before[name]);
  const a = time(after[name]);
  console.log(`${name.padEnd(26)}${b.toFixed(2).padStart(10)}${a.toFixed(2).padStart(15)}${(b / a).toFixed(1).padStart(7)}×`);
}
