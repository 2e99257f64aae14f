/**
 * Reminder sequences finer than whole days (`every: "2h"`, `offsets: ["0m", "30m", "3h"]`) and
 * their run view: GET /api/reminders lists with filters and a cursor, GET /api/reminders/:id shows
 * each step (sent with its communications, skipped and why, due, pending, cancelled by an event).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import { communications, cron, postEvent, processEvents, sandboxTenant, startReminder, type Capture } from "./fixtures";

let key: string;
let q: Capture;

beforeEach(async () => {
  ({ key, q } = await sandboxTenant(["email"]));
});

const T0 = Date.parse("2030-01-07T09:00:00Z");
const at = (minutes: number) => T0 + minutes * 60_000;
const HOUR = 60;

const body = (over: Record<string, unknown> = {}) => ({
  name: "collection",
  entityType: "invoice",
  entityId: "inv-1",
  recipient: { id: "cus-1", name: "Jane", email: "jane@example.com" },
  variables: { invoiceNumber: "INV-1", amount: 50, businessName: "Acme", daysOverdue: 5 },
  firstAt: new Date(T0).toISOString(),
  schedule: { every: "2h", maxSteps: 3 },
  steps: [{ templateCode: "collection_notice", channels: ["email"] }],
  cancelOn: ["payment.received"],
  ...over,
});

const start = (over: Record<string, unknown> = {}) => startReminder(key, body(over));
const sequence = async (id: string) => {
  const res = await call("GET", `/api/reminders/${id}`, { key });
  expect(res.status, res.text).toBe(200);
  return res.json;
};
const history = (entityId = "inv-1") => communications(key, `&entityType=invoice&entityId=${entityId}`);

describe("a reminder schedule in hours and minutes", () => {
  it("sends every 2h and shows each step as it goes", async () => {
    const seq = await start();
    expect(seq.schedule).toMatchObject({ every: "2h", offsets: null, everyDays: null, maxSteps: 3 });
    let view = await sequence(seq.id);
    expect(view.steps.map((s: { status: string; dueAt: string }) => [s.status, s.dueAt])).toEqual([
      ["due", new Date(at(0)).toISOString()],
      ["pending", new Date(at(2 * HOUR)).toISOString()],
      ["pending", new Date(at(4 * HOUR)).toISOString()],
    ]);

    await cron(at(1));
    await cron(at(HOUR)); // one hour in: step 2 is not due yet
    expect(await history()).toHaveLength(1);
    await cron(at(2 * HOUR + 1));
    const sent = await history();
    expect(sent).toHaveLength(2);

    view = await sequence(seq.id);
    expect(view.steps[0]).toMatchObject({ step: 1, status: "sent", at: new Date(at(1)).toISOString() });
    expect(view.steps[1]).toMatchObject({ step: 2, status: "sent", dueAt: new Date(at(2 * HOUR + 1)).toISOString() }); // shifted by step 1's lateness
    const ids = view.steps.flatMap((s: { communications: { id: string }[] }) => s.communications.map((c) => c.id)).sort();
    expect(ids).toEqual(sent.map((c) => c.id).sort());
    expect(view.steps[1].communications[0]).toMatchObject({ channel: "email" });
    // Step 1 went out a minute late: step 3 keeps the 2h spacing from it.
    expect(view.steps[2]).toMatchObject({ step: 3, status: "due", dueAt: new Date(at(4 * HOUR + 1)).toISOString() });

    await cron(at(4 * HOUR + 2));
    expect(await sequence(seq.id)).toMatchObject({ status: "completed", stepsSent: 3 });
  });

  it("follows offsets as durations", async () => {
    const seq = await start({ entityId: "inv-2", schedule: { offsets: ["0m", "30m", "3h"], maxSteps: 5 } });
    expect(seq).toMatchObject({ stepCount: 3, schedule: { offsets: ["0m", "30m", "3h"], every: null } });
    await cron(at(1));
    await cron(at(29));
    expect(await history("inv-2")).toHaveLength(1);
    await cron(at(31));
    expect(await history("inv-2")).toHaveLength(2);
    await cron(at(3 * HOUR + 1));
    expect(await history("inv-2")).toHaveLength(3);
    expect((await sequence("" + seq.id)).status).toBe("completed");
  });

  it("keeps the day fields working beside the new ones", async () => {
    const seq = await start({ entityId: "inv-3", schedule: { everyDays: 1, maxSteps: 2 } });
    expect(seq.schedule).toMatchObject({ everyDays: 1, every: "1d" });
    const view = await sequence(seq.id);
    expect(view.steps[1].dueAt).toBe(new Date(at(24 * HOUR)).toISOString());
  });

  it("rejects spacing under a minute, two kinds of schedule, and offsets out of order", async () => {
    const fine = await call("POST", "/api/reminders", { key, body: body({ schedule: { every: "30s", maxSteps: 2 } }) });
    expect(fine.status).toBe(422);
    expect(fine.json.errors).toEqual([{ field: "schedule.every", message: "must be at least 1m (the reminder cron runs every minute)" }]);
    const both = await call("POST", "/api/reminders", { key, body: body({ schedule: { every: "2h", offsets: ["0m"], maxSteps: 2 } }) });
    expect(both.json.errors[0].field).toBe("schedule.every");
    const order = await call("POST", "/api/reminders", { key, body: body({ schedule: { offsets: ["0m", "2h", "1h"], maxSteps: 3 } }) });
    expect(order.json.errors).toEqual([{ field: "schedule.offsets", message: "must be increasing" }]);
    const bad = await call("POST", "/api/reminders", { key, body: body({ schedule: { every: "2 hours", maxSteps: 3 } }) });
    expect(bad.json.errors[0].field).toBe("schedule.every");
  });
});

describe("the reminder run view", () => {
  it("shows a skipped step with why, and the steps a cancelling event stopped with the event", async () => {
    const seq = await start({ entityId: "inv-4", variables: { invoiceNumber: "INV-4" } }); // missing variables: nothing renders
    await cron(at(1));
    let view = await sequence(seq.id);
    expect(view.steps[0]).toMatchObject({ status: "skipped", communications: [] });
    expect(view.steps[0].error).toMatch(/^templateVariables: missing /);

    const ev = await postEvent(key, { type: "payment.received", entityType: "invoice", entityId: "inv-4" });
    await processEvents(q);
    view = await sequence(seq.id);
    expect(view).toMatchObject({ status: "cancelled", cancelledBy: { eventType: "payment.received", eventId: ev.id } });
    expect(view.steps.slice(1).map((s: { status: string }) => s.status)).toEqual(["cancelled", "cancelled"]);
    expect(view.steps[1].cancelledBy).toEqual({ eventType: "payment.received", eventId: ev.id, reason: "cancelled by payment.received" });
  });

  it("lists with filters and a cursor, within the tenant", async () => {
    const a = await start({ entityId: "inv-10", recipient: { type: "customer", id: "cus-a", email: "a@example.com" } });
    const b = await start({ entityId: "inv-11", name: "dunning", recipient: { type: "customer", id: "cus-b", email: "b@example.com" } });
    const c = await start({ entityId: "inv-12", recipient: { type: "customer", id: "cus-a", email: "a@example.com" } });
    const list = async (qs: string) => {
      const res = await call("GET", `/api/reminders?${qs}`, { key });
      expect(res.status, res.text).toBe(200);
      return res.json as { results: { id: string }[]; nextCursor: string | null };
    };
    expect((await list("recipientId=cus-a")).results.map((r) => r.id)).toEqual([c.id, a.id]);
    expect((await list("name=dunning")).results.map((r) => r.id)).toEqual([b.id]);
    const first = await list("limit=2");
    expect(first.results.map((r) => r.id)).toEqual([c.id, b.id]);
    const second = await list(`limit=2&cursor=${first.nextCursor}`);
    expect(second).toEqual({ results: [expect.objectContaining({ id: a.id })], nextCursor: null });
    expect((await call("GET", "/api/reminders?limit=0", { key })).status).toBe(422);
    const other = await createTenant("Other");
    expect((await call("GET", "/api/reminders?recipientId=cus-a", { key: other.key })).json.results).toEqual([]);
  });
});
