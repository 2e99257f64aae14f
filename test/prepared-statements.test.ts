/**
 * The hot statements written once as SQL text (src/db/prepared.ts) store exactly what drizzle's
 * builder stored: the same columns, the same driver encodings (timestamps in ms, JSON as text,
 * booleans as 0/1, nulls), so every other query keeps reading them as before.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { database, runBatch } from "../src/db/client";
import { claimDue, claimStates, eventRow, getCommunication, insertCommunication, insertEvents, updateClaimed, type CommunicationRow } from "../src/db/communications";
import { getTableColumns } from "drizzle-orm";
import { communication, communicationEvent, communicationStats } from "../src/db/schema";
import { addToStats, statsRows } from "../src/db/stats";
import { createTenant } from "./helpers";

const db = database(env.DB);
const raw = (table: string, id: string) => env.DB.prepare(`SELECT * FROM ${table} WHERE id = ?`).bind(id).first<Record<string, unknown>>();
const without = (row: Record<string, unknown> | null, ...keys: string[]) => Object.fromEntries(Object.entries(row ?? {}).filter(([k]) => !keys.includes(k)));

function sample(tenantId: string, id: string): CommunicationRow {
  const at = new Date(1_764_000_000_123);
  // Every column null, then a value of each kind: text with a quote, JSON, timestamps, integers.
  const empty = Object.fromEntries(Object.keys(getTableColumns(communication)).map((k) => [k, null]));
  return {
    ...empty,
    id, tenantId, recipientType: "customer", recipientContact: "a@example.com", recipientName: 'A "quoted" name', channel: "email",
    type: "receipt", subject: "S", content: "<p>hi</p>", metadata: { order: 7, nested: { ok: true } }, templateVariables: { n: 1 },
    attachments: [], status: "sending", priority: "normal", openCount: 0, clickCount: 0, retryCount: 0, maxRetries: 3, costMicros: 1200,
    createdAt: at, updatedAt: at, claimedAt: at, enqueuedAt: at,
  } as unknown as CommunicationRow;
}

describe("statements built once", () => {
  it("do not go through drizzle's query builder on each call", () => {
    const spies = (["insert", "update", "select"] as const).map((m) => vi.spyOn(db, m));
    const row = sample("t", "c");
    const made = [
      insertCommunication(db, row),
      ...insertEvents(db, [eventRow({ tenantId: "t", communicationId: "c", kind: "attempt" })]),
      updateClaimed(db, row, { status: "sent", updatedAt: new Date() }),
      addToStats(db, { tenantId: "t", day: "2026-12-02", channel: "email", type: "receipt" }, { sent: 1 }),
      claimDue(db, "t", ["a", "b"], new Date()),
      claimStates(db, ["a", "b"]),
    ];
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    // One text per shape, shared by every call.
    const text = (item: unknown) => (item as { getQuery(): { sql: string } }).getQuery().sql;
    expect(text(updateClaimed(db, row, { status: "failed", updatedAt: new Date(1) }))).toBe(text(made[2]));
    for (const spy of spies) spy.mockRestore();
  });


  it("insert a communication and its timeline exactly as drizzle's builder does", async () => {
    const { tenantId } = await createTenant();
    const base = sample(tenantId, "c-built-once");
    await runBatch(db, [insertCommunication(db, base)]);
    await db.insert(communication).values({ ...base, id: "c-builder" });
    expect(without(await raw("communication", "c-built-once"), "id")).toEqual(without(await raw("communication", "c-builder"), "id"));
    expect(await getCommunication(db, tenantId, "c-built-once")).toEqual({ ...(await getCommunication(db, tenantId, "c-builder")), id: "c-built-once" });

    const e = (id: string, communicationId: string) => eventRow({ id, tenantId, communicationId, kind: "attempt", httpStatus: 202, latencyMs: 12, detail: { providerMessageId: "m" }, createdAt: new Date(5) });
    await runBatch(db, insertEvents(db, [e("e-built-once", "c-built-once")]));
    await db.insert(communicationEvent).values(e("e-builder", "c-builder"));
    expect(without(await raw("communication_event", "e-built-once"), "id", "communication_id")).toEqual(without(await raw("communication_event", "e-builder"), "id", "communication_id"));
  });

  it("claim only what is due and read where the rest stand, typed as before", async () => {
    const { tenantId } = await createTenant();
    const now = new Date(1_764_000_002_000);
    const due = { ...sample(tenantId, "c-due"), status: "queued" as const, claimedAt: null, nextRetryAt: new Date(now.getTime() - 1) };
    const later = { ...sample(tenantId, "c-later"), status: "scheduled" as const, claimedAt: null, scheduledAt: new Date(now.getTime() + 60_000) };
    await runBatch(db, [insertCommunication(db, due), insertCommunication(db, later)]);
    const [claimed, states] = (await runBatch(db, [claimDue(db, tenantId, ["c-due", "c-later"], now), claimStates(db, ["c-later"])])) as [CommunicationRow[], unknown[]];
    expect(claimed).toEqual([{ ...due, status: "sending", claimedAt: now, updatedAt: now }]);
    expect(states).toEqual([{ id: "c-later", tenantId, status: "scheduled", scheduledAt: later.scheduledAt, nextRetryAt: null, priority: "normal", campaignId: null }]);
    expect(await getCommunication(db, tenantId, "c-due")).toEqual(claimed[0]);
  });

  it("update a claimed communication only under its claim, keeping a status a receipt already moved", async () => {
    const { tenantId } = await createTenant();
    const row = sample(tenantId, "c-claimed");
    await runBatch(db, [insertCommunication(db, row)]);
    const at = new Date(1_764_000_001_000);
    await runBatch(db, [updateClaimed(db, { ...row, claimedAt: new Date(1) }, { status: "failed", errorMessage: "stale claim" })]);
    expect(await getCommunication(db, tenantId, row.id)).toMatchObject({ status: "sending", errorMessage: null });

    await env.DB.prepare("UPDATE communication SET status = 'delivered' WHERE id = ?").bind(row.id).run();
    await runBatch(db, [updateClaimed(db, row, { status: "sent", sentAt: at, providerMessageId: "m-1", providerResponse: { httpStatus: 202, attempt: 1 }, errorMessage: null, updatedAt: at })]);
    expect(await getCommunication(db, tenantId, row.id)).toMatchObject({ status: "delivered", sentAt: at, providerMessageId: "m-1", providerResponse: { httpStatus: 202, attempt: 1 }, updatedAt: at });
  });

  it("add a delta to the day's stats and leave the other counters alone", async () => {
    const { tenantId } = await createTenant();
    const key = { tenantId, day: "2026-12-02", channel: "email" as const, type: "receipt" };
    await runBatch(db, [addToStats(db, key, { accepted: 2 }), addToStats(db, key, { sent: 1, sendLatencyMs: 40, sendLatencyCount: 1 }), addToStats(db, key, { accepted: 1 })]);
    const [stats] = await statsRows(db, tenantId, key.day, key.day);
    expect(stats).toMatchObject({ accepted: 3, sent: 1, sendLatencyMs: 40, sendLatencyCount: 1, delivered: 0, failed: 0 });
    expect(Object.keys(stats!).sort()).toEqual(Object.keys(getTableColumns(communicationStats)).sort());
  });
});
