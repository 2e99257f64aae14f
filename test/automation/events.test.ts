import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, createTenant, getCommunication } from "../helpers";
import { communications, cron, deliver, event, postEvent, processEvents, sandboxTenant, trigger, type Capture } from "./fixtures";

let key: string;
let q: Capture;

beforeEach(async () => {
  ({ key, q } = await sandboxTenant(["email", "sms"]));
});

const sale = (over: Record<string, unknown> = {}) => ({
  type: "sale.created",
  entityType: "sale",
  entityId: "sale-1",
  recipient: { type: "customer", id: "cus-1", name: "Jane Doe", email: "jane@example.com" },
  data: { invoiceNumber: "INV-1", amount: 120.5, businessName: "Acme", invoicePdfUrl: "https://files.acme.test/inv-1.pdf" },
  ...over,
});

describe("POST /api/events", () => {
  it("answers 202 at once and runs the rules off the request path", async () => {
    await trigger(key, { preset: "invoice_email_on_sale" });
    const accepted = await postEvent(key, sale());
    expect(accepted.status).toBe("pending");
    expect(await communications(key)).toHaveLength(0); // nothing happened on the request path
    expect(q.automation.sent).toEqual([{ v: 1, kind: "event", tenantId: expect.any(String), eventId: accepted.id }]);

    await processEvents(q);
    const e = await event(key, accepted.id);
    expect(e.status).toBe("processed");
    expect(e.outcome.communications).toHaveLength(1);
    expect(e.outcome.rules[0].outcome).toMatch(/sending to 1 recipient/);
  });

  it("names the fields it rejects", async () => {
    const res = await call("POST", "/api/events", {
      key,
      body: { type: "Sale Created", entityType: "sale", recipient: { type: "customer" }, data: [], extra: 1 },
    });
    expect(res.status).toBe(422);
    const fields = res.json.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["type", "recipient", "data", "(body)"]));
    const pairs = await call("POST", "/api/events", { key, body: { type: "sale.created", entityType: "sale" } });
    expect(pairs.json.errors).toEqual([{ field: "entityId", message: "give entityType and entityId together" }]);
  });

  it("accepts an idempotencyKey once; a repeat answers 200 with the first event", async () => {
    await trigger(key, { preset: "invoice_email_on_sale" });
    const first = await postEvent(key, sale({ idempotencyKey: "sale-1-created" }));
    const again = await postEvent(key, sale({ idempotencyKey: "sale-1-created" }));
    expect(again).toMatchObject({ id: first.id, duplicate: true });
    expect(q.automation.sent).toHaveLength(1);
    await processEvents(q);
    expect(await communications(key)).toHaveLength(1);
  });

  it("replays the response to a repeated Idempotency-Key header", async () => {
    const headers = { "idempotency-key": "k-1" };
    const a = await call("POST", "/api/events", { key, body: sale(), headers });
    const b = await call("POST", "/api/events", { key, body: sale(), headers });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect(b.json.id).toBe(a.json.id);
    expect(q.automation.sent).toHaveLength(1);
  });

  it("processes a redelivered queue message once", async () => {
    await trigger(key, { preset: "invoice_email_on_sale" });
    await postEvent(key, sale());
    const [message] = q.automation.drain();
    const { runAutomation } = await import("../helpers");
    await runAutomation([message!, message!]);
    await runAutomation([message!]);
    expect(await communications(key)).toHaveLength(1);
  });

  it("recovers an event whose queue message was lost, on the cron pass", async () => {
    await trigger(key, { preset: "invoice_email_on_sale" });
    const { id } = await postEvent(key, sale());
    q.automation.drain(); // lost
    await cron(Date.now() + 10_000); // within the grace period: left alone
    expect(q.automation.sent).toHaveLength(0);
    await cron(Date.now() + 2 * 60_000);
    // (Storage is shared within a file: earlier tests' unprocessed events come along.)
    expect(q.automation.sent.map((m) => m.eventId)).toContain(id);
    const count = q.automation.sent.length;
    await cron(Date.now() + 2 * 60_000); // just re-enqueued: not again
    expect(q.automation.sent).toHaveLength(count);
    await processEvents(q);
    expect((await event(key, id)).status).toBe("processed");
  });
});

describe("trigger rules", () => {
  it("fire only when their conditions hold", async () => {
    await trigger(key, {
      name: "big sales",
      eventType: "sale.created",
      conditions: [
        { field: "amount", op: "gte", value: 1000 },
        { field: "customer.segment", op: "in", value: ["vip", "gold"] },
      ],
      action: { kind: "send", templateCode: "invoice_email", channels: ["email"] },
    });
    await postEvent(key, sale({ data: { ...sale().data, amount: 5000, customer: { segment: "vip" } } }));
    await postEvent(key, sale({ data: { ...sale().data, amount: 5000, customer: { segment: "new" } } }));
    await postEvent(key, sale({ data: { ...sale().data, amount: "999.99", customer: { segment: "vip" } } }));
    await processEvents(q);
    expect(await communications(key)).toHaveLength(1);
  });

  it("send later when they have a delay", async () => {
    await trigger(key, { preset: "invoice_email_on_sale", action: { delaySeconds: 3600 } });
    const { id } = await postEvent(key, sale());
    await processEvents(q);
    const [c] = await communications(key);
    expect(c!.status).toBe("scheduled");
    const received = Date.parse((await event(key, id)).receivedAt);
    expect(Date.parse(c!.scheduledAt)).toBe(received + 3600_000);
    expect(q.sends.sent[0]!.delaySeconds).toBeGreaterThan(3500);
  });

  it("record why a send could not be made, without failing the event", async () => {
    await trigger(key, { preset: "invoice_email_on_sale" });
    const { id } = await postEvent(key, sale({ data: { invoiceNumber: "INV-2", amount: 10, businessName: "Acme" } }));
    const noContact = await postEvent(key, sale({ recipient: { type: "customer", id: "cus-9" } }));
    await processEvents(q);
    expect((await event(key, id)).outcome.errors).toEqual([
      { ruleId: expect.any(String), field: "data.invoicePdfUrl", message: expect.stringMatching(/does not carry/) },
    ]);
    const e = await event(key, noContact.id);
    expect(e.status).toBe("processed");
    expect(e.outcome.errors[0]).toMatchObject({ field: "recipientContact" });
  });

  it("are validated with the fields named", async () => {
    const res = await call("POST", "/api/triggers", {
      key,
      body: { name: "x", eventType: "stock.low", action: { kind: "reminder", name: "r", schedule: { maxSteps: 0 }, steps: [{ templateCode: "x", channels: ["fax"] }] } },
    });
    expect(res.status).toBe(422);
    const fields = res.json.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["action.schedule.maxSteps", "action.steps.0.channels.0"]));
    const preset = await call("POST", "/api/triggers", { key, body: { preset: "nope" } });
    expect(preset.json.errors[0].field).toBe("preset");
    const cond = await call("POST", "/api/triggers", { key, body: { name: "x", eventType: "a.b", conditions: [{ field: "a", op: "in", value: 1 }], action: { kind: "send", templateCode: "t", channels: ["email"] } } });
    expect(cond.json.errors[0].field).toBe("conditions.0.value");
  });

  it("can be listed, disabled, edited and deleted", async () => {
    const rule = await trigger(key, { preset: "invoice_email_on_sale" });
    expect((await call("GET", "/api/triggers", { key })).json.results).toHaveLength(1);
    const off = await call("PATCH", `/api/triggers/${rule.id}`, { key, body: { enabled: false } });
    expect(off.json).toMatchObject({ enabled: false, preset: "invoice_email_on_sale" });
    await postEvent(key, sale());
    await processEvents(q);
    expect(await communications(key)).toHaveLength(0);
    const bad = await call("PATCH", `/api/triggers/${rule.id}`, { key, body: { action: { delaySeconds: -1 } } });
    expect(bad.json.errors[0].field).toBe("action.delaySeconds");
    expect((await call("DELETE", `/api/triggers/${rule.id}`, { key })).status).toBe(204);
    expect((await call("GET", `/api/triggers/${rule.id}`, { key })).status).toBe(404);
  });
});

describe("tenant isolation", () => {
  it("keeps events, rules and their sends within the tenant", async () => {
    const other = await createTenant("Other");
    await addProvider(other.key, { channel: "email", provider: "sandbox" });
    const rule = await trigger(key, { preset: "invoice_email_on_sale" });
    const { id } = await postEvent(other.key, sale());
    await processEvents(q);
    expect(await communications(other.key)).toHaveLength(0); // our rule did not fire for them
    expect((await event(other.key, id)).outcome.rules).toEqual([]);
    expect((await call("GET", `/api/events/${id}`, { key })).status).toBe(404);
    expect((await call("GET", `/api/triggers/${rule.id}`, { key: other.key })).status).toBe(404);
    expect((await call("PATCH", `/api/triggers/${rule.id}`, { key: other.key, body: { enabled: false } })).status).toBe(404);
    expect((await call("DELETE", `/api/triggers/${rule.id}`, { key: other.key })).status).toBe(404);
    expect((await call("GET", "/api/events", { key })).json.results).toHaveLength(0);
    // The same idempotencyKey in two tenants is two events.
    const a = await postEvent(key, sale({ idempotencyKey: "same" }));
    const b = await postEvent(other.key, sale({ idempotencyKey: "same" }));
    expect(a.id).not.toBe(b.id);
  });
});

describe("delivery of an event-triggered send", () => {
  it("goes through the ordinary send pipeline to the provider", async () => {
    await trigger(key, { preset: "invoice_email_on_sale" });
    await postEvent(key, sale());
    await processEvents(q);
    await deliver(q);
    const [c] = await communications(key);
    const full = await getCommunication(key, c!.id);
    expect(full).toMatchObject({ status: "delivered", provider: "sandbox", entityType: "sale", entityId: "sale-1" });
  });
});
