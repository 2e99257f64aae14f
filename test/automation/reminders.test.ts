/** Reminder sequences through /api/reminders, driven by the cron handler on a controlled clock. */
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import { communications, cron, DAY, postEvent, processEvents, sandboxTenant, startReminder, type Capture } from "./fixtures";

let key: string;
let q: Capture;

beforeEach(async () => {
  ({ key, q } = await sandboxTenant(["email", "sms"]));
});

const T0 = Date.parse("2030-01-07T09:00:00Z");
const at = (days: number, minutes = 0) => T0 + days * DAY + minutes * 60_000;

const body = (over: Record<string, unknown> = {}) => ({
  name: "collection",
  entityType: "invoice",
  entityId: "inv-1",
  recipient: { id: "cus-1", name: "Jane", email: "jane@example.com", phone: "+14155550123" },
  variables: { invoiceNumber: "INV-1", amount: 50, businessName: "Acme", daysOverdue: 5 },
  firstAt: new Date(T0).toISOString(),
  schedule: { offsetsDays: [0, 3, 10], maxSteps: 5 },
  steps: [
    { templateCode: "collection_notice", channels: ["email"] },
    { templateCode: "invoice_sms", channels: ["sms"] },
  ],
  cancelOn: ["payment.received"],
  ...over,
});

const start = (over: Record<string, unknown> = {}) => startReminder(key, body(over));
const sequence = async (id: string) => (await call("GET", `/api/reminders/${id}`, { key })).json;
const history = (entityId = "inv-1") => communications(key, `&entityType=invoice&entityId=${entityId}`);

describe("a reminder sequence", () => {
  it("sends each step when due, with its own template and channel, and completes at the last offset", async () => {
    const seq = await start({ variables: { invoiceNumber: "INV-1", amount: 50, businessName: "Acme", daysOverdue: 5, shortLink: "https://s.test/1" } });
    expect(seq).toMatchObject({ status: "active", stepCount: 3, nextAt: new Date(T0).toISOString() });

    await cron(at(0, -1)); // not yet
    expect(await history()).toHaveLength(0);
    await cron(at(0, 1));
    expect((await history()).map((c) => c.channel)).toEqual(["email"]);
    await cron(at(2)); // step 2 is due on day 3
    expect(await history()).toHaveLength(1);
    await cron(at(3, 1));
    const two = await history();
    expect(two.map((c) => c.channel).sort()).toEqual(["email", "sms"]);
    expect(two.find((c) => c.channel === "sms")!.templateId).toBe("system:invoice_sms:sms:en");
    await cron(at(10, 1));
    expect(await history()).toHaveLength(3); // the last step repeats the last template
    const done = await sequence(seq.id);
    expect(done).toMatchObject({ status: "completed", stepsSent: 3, nextAt: null });
    expect(done.communications.map((c: { metadata: { reminderStep: number } }) => c.metadata.reminderStep)).toEqual([1, 2, 3]);
    await cron(at(30));
    expect(await history()).toHaveLength(3);
  });

  it("repeats every N days up to the maximum, keeping its spacing after a late run", async () => {
    const seq = await start({ entityId: "inv-2", schedule: { everyDays: 7, maxSteps: 2 }, steps: [{ templateCode: "collection_notice", channels: ["email"] }] });
    await cron(at(2)); // the cron was down for two days: step 1 goes out late…
    expect((await sequence(seq.id)).nextAt).toBe(new Date(at(9)).toISOString()); // …and step 2 keeps the 7-day gap
    await cron(at(9, 1));
    expect(await history("inv-2")).toHaveLength(2);
    expect((await sequence(seq.id)).status).toBe("completed");
  });

  it("stops on DELETE and cancels its sends still held for quiet hours", async () => {
    await call("PATCH", "/api/communication-preferences/customer/cus-1", {
      key,
      body: { preferredEmail: "jane@example.com", timezone: "UTC", quietHours: { start: "08:00", end: "20:00" } },
    });
    const seq = await start({ entityId: "inv-3", steps: [{ templateCode: "collection_notice", channels: ["email"], routing: "preferences" }] });
    await cron(at(0, 1));
    const [held] = await history("inv-3");
    expect(held!.status).toBe("scheduled");

    const del = await call("DELETE", `/api/reminders/${seq.id}`, { key });
    expect(del.json).toMatchObject({ status: "cancelled", cancelReason: "cancelled by DELETE" });
    expect((await history("inv-3"))[0]!.status).toBe("cancelled");
    await cron(at(3, 1));
    expect(await history("inv-3")).toHaveLength(1);
    expect((await call("DELETE", `/api/reminders/${seq.id}`, { key })).status).toBe(409);
  });

  it("stops when a cancelling event for the same entity arrives, and only then", async () => {
    const seq = await start({ entityId: "inv-4" });
    const other = await start({ entityId: "inv-5" });
    await postEvent(key, { type: "payment.received", entityType: "invoice", entityId: "inv-4" });
    await postEvent(key, { type: "invoice.viewed", entityType: "invoice", entityId: "inv-5" });
    await processEvents(q);
    expect(await sequence(seq.id)).toMatchObject({ status: "cancelled", cancelReason: "cancelled by payment.received" });
    expect((await sequence(other.id)).status).toBe("active");
    await cron(at(0, 1));
    expect(await history("inv-4")).toHaveLength(0);
    expect(await history("inv-5")).toHaveLength(1);
  });

  it("records why a step sent nothing, and moves on", async () => {
    const seq = await start({ entityId: "inv-8", variables: { invoiceNumber: "INV-8" }, schedule: { everyDays: 1, maxSteps: 2 }, steps: [{ templateCode: "collection_notice", channels: ["email"] }] });
    await cron(at(0, 1));
    const after = await sequence(seq.id);
    expect(after).toMatchObject({ stepsSent: 1, status: "active" });
    expect(after.lastError).toMatch(/^templateVariables: missing /);
    expect(await history("inv-8")).toHaveLength(0);
  });

  it("is one per name and entity while active", async () => {
    await start({ entityId: "inv-6" });
    const again = await call("POST", "/api/reminders", { key, body: body({ entityId: "inv-6" }) });
    expect(again.status).toBe(409);
  });

  it("is validated with the fields named", async () => {
    const res = await call("POST", "/api/reminders", {
      key,
      body: body({ entityId: undefined, steps: [], recipient: {}, firstAt: "tomorrow" }),
    });
    expect(res.status).toBe(422);
    expect(res.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(["entityId", "firstAt", "recipient", "steps"]);
    const both = await call("POST", "/api/reminders", { key, body: body({ schedule: { everyDays: 3, offsetsDays: [0, 1], maxSteps: 2 } }) });
    expect(both.json.errors).toEqual([{ field: "schedule.everyDays", message: "give one of every, offsets, everyDays or offsetsDays" }]);
    const order = await call("POST", "/api/reminders", { key, body: body({ schedule: { offsetsDays: [0, 5, 2], maxSteps: 3 } }) });
    expect(order.json.errors).toEqual([{ field: "schedule.offsetsDays", message: "must be increasing" }]);
  });

  it("belongs to its tenant", async () => {
    const seq = await start({ entityId: "inv-7" });
    const other = await createTenant("Other");
    expect((await call("GET", `/api/reminders/${seq.id}`, { key: other.key })).status).toBe(404);
    expect((await call("DELETE", `/api/reminders/${seq.id}`, { key: other.key })).status).toBe(404);
    expect((await call("GET", "/api/reminders", { key: other.key })).json.results).toHaveLength(0);
    // Their payment.received for an entity with the same id does not touch ours.
    await postEvent(other.key, { type: "payment.received", entityType: "invoice", entityId: "inv-7" });
    await processEvents(q);
    expect((await sequence(seq.id)).status).toBe("active");
  });
});
