/** Every automation cron pass is idempotent and bounded: double and overlapping runs never double-send. */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { automationDeps } from "../../src/automation/deps";
import { retention } from "../../src/automation/cron";
import { runDueReminders } from "../../src/automation/reminders";
import { call } from "../helpers";
import { communications, cron, DAY, postEvent, processEvents, sandboxTenant, startReminder, trigger, type Capture } from "./fixtures";

let key: string;
let q: Capture;

beforeEach(async () => {
  ({ key, q } = await sandboxTenant(["email"]));
});

const T0 = Date.parse("2031-03-03T10:00:00Z");

async function reminderOn(entityId: string, firstAt = T0) {
  const sequence = await startReminder(key, {
    entityType: "invoice",
    entityId,
    recipient: { id: `c-${entityId}`, name: "Cy", email: `${entityId}@example.com` },
    variables: { invoiceNumber: entityId, amount: 1, daysOverdue: 1, businessName: "A" },
    firstAt: new Date(firstAt).toISOString(),
    schedule: { everyDays: 1, maxSteps: 3 },
    steps: [{ templateCode: "collection_notice", channels: ["email"] }],
  });
  return sequence.id as string;
}

describe("the automation cron", () => {
  it("sends a due reminder step once across two overlapping runs and a repeat", async () => {
    for (const id of ["a", "b", "c"]) await reminderOn(id);
    await Promise.all([cron(T0 + 60_000), cron(T0 + 60_000)]);
    await cron(T0 + 90_000);
    const sent = await communications(key);
    expect(sent.map((c) => c.entityId).sort()).toEqual(["a", "b", "c"]);
    expect(q.sends.sent).toHaveLength(3);
  });

  it("flushes a closed digest once across two overlapping runs", async () => {
    await trigger(key, { name: "d", eventType: "stock.low", action: { kind: "send", templateCode: "low_stock_alert", channels: ["email"], digest: { windowSeconds: 60 } } });
    for (const name of ["x", "y"]) await postEvent(key, { type: "stock.low", recipient: { type: "user", id: "u", email: "u@acme.test" }, data: { locationName: "L", name, quantity: 1 } });
    await processEvents(q);
    const at = Date.now() + 2 * 60_000;
    await Promise.all([cron(at), cron(at)]);
    await cron(at + 1000);
    expect(await communications(key)).toHaveLength(1);
  });

  it("re-enqueues a lost event at most harmlessly: it is processed once", async () => {
    await trigger(key, { preset: "invoice_email_on_sale", action: { attachments: [] } });
    await postEvent(key, { type: "sale.created", recipient: { name: "X", email: "x@example.com" }, data: { invoiceNumber: "1", amount: 1, businessName: "A" } });
    q.automation.drain();
    const at = Date.now() + 2 * 60_000;
    await Promise.all([cron(at), cron(at)]);
    expect(q.automation.sent.length).toBeGreaterThanOrEqual(1);
    await processEvents(q);
    expect(await communications(key)).toHaveLength(1);
  });

  it("works through a backlog in bounded chunks", async () => {
    for (const id of ["p", "q", "r"]) await reminderOn(id, T0 - DAY * 400); // due long ago, before anything else here
    const d = automationDeps(env);
    const now = new Date(T0 - DAY * 399);
    expect(await runDueReminders(d, now, 2)).toMatchObject({ due: 2, communications: 2 });
    expect(await runDueReminders(d, now, 2)).toMatchObject({ due: 1, communications: 1 });
    expect(await runDueReminders(d, now, 2)).toMatchObject({ due: 0 });
  });

  it("takes over a step whose run died after claiming it, once the claim is stale", async () => {
    const id = await reminderOn("dead", T0 + 50 * DAY);
    const now = T0 + 50 * DAY + 60_000;
    await env.DB.prepare("UPDATE reminder_sequence SET claimed_at = ? WHERE id = ?").bind(now, id).run();
    await cron(now + 60_000);
    expect(await communications(key, "&entityId=dead")).toHaveLength(0);
    await cron(now + 6 * 60_000);
    await cron(now + 7 * 60_000);
    expect(await communications(key, "&entityId=dead")).toHaveLength(1);
  });

  it("takes over a digest whose flush died after claiming it, once the claim is stale", async () => {
    await trigger(key, { name: "d", eventType: "stock.low", action: { kind: "send", templateCode: "low_stock_alert", channels: ["email"], digest: { windowSeconds: 60 } } });
    await postEvent(key, { type: "stock.low", recipient: { type: "user", id: "w", name: "W", email: "w@acme.test" }, data: { locationName: "L", name: "n", quantity: 1 } });
    await processEvents(q);
    const at = Date.now() + 2 * 60_000;
    await env.DB.prepare("UPDATE digest SET status = 'flushing', claimed_at = ? WHERE recipient_key = 'user/w'").bind(at).run();
    await cron(at + 60_000);
    expect(await communications(key, "&recipientId=w")).toHaveLength(0);
    await Promise.all([cron(at + 6 * 60_000), cron(at + 6 * 60_000)]);
    expect(await communications(key, "&recipientId=w")).toHaveLength(1);
  });

  it("deletes processed events past retention, in bounded chunks", async () => {
    for (let i = 0; i < 3; i++) await postEvent(key, { type: "thing.happened" });
    await processEvents(q);
    const d = automationDeps(env);
    const later = new Date(Date.now() + 31 * DAY);
    const first = await retention(d, later, 2);
    expect(first.events).toBe(2);
    await retention(d, later, 1000);
    expect((await call("GET", "/api/events", { key })).json.results).toHaveLength(0);
  });
});
