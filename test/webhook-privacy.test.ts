/**
 * Tenant webhook payloads under data-protection requests and retention: erasing a recipient stubs
 * the stored payloads of their status, message.received and inbox.action events (nobody else's, no other
 * tenant's), cancels what was still pending so the old content is never sent, and a stubbed
 * delivery cannot be replayed; retention stubs only finished deliveries older than the cutoff.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { call, captureEvents, captureQueue, mockProviders, runDelivery, testEnv, type RecordedRequest } from "./helpers";
import { inbound, PHONE, receive, sendAndDeliver, tenantWithSandbox } from "./conversations/fixtures";
import { applyRetention } from "../src/pipeline/retention";
import { database } from "../src/db/client";
import { emitInboxAction } from "../src/inbox/action-event";

const HOOK = "https://hooks.acme.test";
const BOB_PHONE = "+14155550177";

let queue: ReturnType<typeof captureQueue>;
let events: ReturnType<typeof captureEvents>;
let received: RecordedRequest[];
let healthy: boolean;

beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  events = captureEvents();
  received = [];
  healthy = true;
  mockProviders({ [HOOK]: (req) => (received.push(req), healthy ? new Response("ok") : new Response("boom", { status: 500 })) });
});

/** Runs the events consumer until nothing new is queued (fan-out, then attempts). */
async function drainEvents() {
  for (let round = 0; round < 5 && events.sent.length; round++) await runDelivery(events.drain(), { queue: "herald-events" });
}

async function endpoint(key: string) {
  const res = await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/herald` } });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

const deliveries = async (key: string, endpointId: string) => (await call("GET", `/api/webhooks/${endpointId}/deliveries?limit=200`, { key })).json.results as any[];
const rawPayloads = async (tenantId: string) =>
  (await env.DB.prepare("SELECT payload FROM webhook_delivery WHERE tenant_id = ?1").bind(tenantId).all<{ payload: string }>()).results.map((r) => r.payload);

/** A tenant with an endpoint for every event, where ada and bob were each messaged and wrote back. */
async function seed() {
  const t = await tenantWithSandbox(["sms"]);
  const ep = await endpoint(t.key);
  const ada = await sendAndDeliver(t.key, queue, { recipientType: "customer", recipientId: "ada", content: "Your code is 998877" });
  const bob = await sendAndDeliver(t.key, queue, { recipientType: "customer", recipientId: "bob", recipientContact: BOB_PHONE, content: "Hello Bob" });
  // Each pressed an event button on their inbox item.
  for (const c of [ada, bob]) await emitInboxAction(testEnv, t.tenantId, { itemId: c.id, index: 0, label: "Pay", event: "invoice.pay", data: { note: `from ${c.recipientId}` }, at: new Date() });
  const [adaMsg, bobMsg] = await receive(t.tenantId, [inbound(t.configs.sms!, { text: "Ada's secret reply" }), inbound(t.configs.sms!, { from: BOB_PHONE, text: "Bob's reply" })]);
  await drainEvents();
  return { ...t, ep, ada, bob, adaMsg: adaMsg!, bobMsg: bobMsg! };
}

const about = (rows: any[], id: string) => rows.filter((d) => [d.payload.data?.id, d.payload.data?.conversationId, d.payload.data?.communicationId].includes(id));

describe("recipient erasure and tenant webhook payloads", () => {
  it("stubs the recipient's delivered status and message.received payloads, leaves bob's and another tenant's, and refuses to replay a stub", async () => {
    const s = await seed();
    const other = await seed();
    const before = await deliveries(s.key, s.ep);
    const adaRows = [...about(before, s.ada.id), ...about(before, s.adaMsg.conversationId)];
    expect(adaRows.map((d) => d.eventType).sort()).toEqual(["communication.delivered", "communication.sent", "inbox.action", "message.received"]);
    expect(adaRows.every((d) => d.status === "succeeded" && d.attempts === 1)).toBe(true);

    const erased = await call("DELETE", "/api/recipients/customer/ada", { key: s.key });
    expect(erased.status, erased.text).toBe(200);

    const after = await deliveries(s.key, s.ep);
    expect(after).toHaveLength(before.length);
    for (const d of adaRows) {
      const now = after.find((x) => x.id === d.id);
      // The log stays consistent: same event, status, attempts and times; only the content goes.
      expect(now).toEqual({ ...d, redacted: "erased", payload: { type: d.eventType, timestamp: d.payload.timestamp, data: null, redacted: "erased" } });
    }
    const untouched = (rows: any[]) => rows.filter((d) => !adaRows.some((a) => a.id === d.id));
    expect(untouched(after)).toEqual(untouched(before));
    expect(untouched(after).map((d) => (d.eventType === "message.received" ? d.payload.data.text : d.payload.data.recipientId)).sort()).toEqual(["Bob's reply", "bob", "bob", "bob"]);
    const stored = (await rawPayloads(s.tenantId)).join("\n");
    expect(stored).not.toContain("Ada's secret reply");
    expect(stored).not.toContain(PHONE);
    expect(stored).not.toContain('"ada"');
    expect(stored).not.toContain("from ada");

    // Another tenant's ada is another person.
    expect((await rawPayloads(other.tenantId)).join("\n")).toContain("Ada's secret reply");
    expect((await deliveries(other.key, other.ep)).every((d) => d.redacted === null)).toBe(true);

    const replay = await call("POST", `/api/webhooks/${s.ep}/deliveries/${adaRows[0]!.id}/replay`, { key: s.key });
    expect(replay.status).toBe(409);
    expect(replay.headers.get("content-type")).toContain("application/problem+json");
    expect(replay.json.detail ?? replay.json.title).toMatch(/erased/);
    expect(events.sent).toHaveLength(0);
    const bobRow = about(after, s.bob.id)[0]!;
    expect((await call("POST", `/api/webhooks/${s.ep}/deliveries/${bobRow.id}/replay`, { key: s.key })).status).toBe(202);

    // An erasure that ran before deliveries were covered (the row kept its content) is completed
    // by erasing again: the communications are found by the pseudonym they carry now.
    const statusRow = about(before, s.ada.id)[0]!;
    await env.DB.prepare("UPDATE webhook_delivery SET payload = ?1, redacted = NULL WHERE id = ?2").bind(JSON.stringify(statusRow.payload), statusRow.id).run();
    expect((await call("DELETE", "/api/recipients/customer/ada", { key: s.key })).status).toBe(200);
    expect((await deliveries(s.key, s.ep)).find((d) => d.id === statusRow.id)).toMatchObject({ redacted: "erased", payload: { data: null } });
  });

  it("cancels a delivery still pending at erasure time: its old content is never sent, even after a racing attempt", async () => {
    const t = await tenantWithSandbox(["sms"]);
    const ep = await endpoint(t.key);
    healthy = false;
    await sendAndDeliver(t.key, queue, { recipientType: "customer", recipientId: "ada", content: "Your code is 998877" });
    await runDelivery(events.drain(), { queue: "herald-events" }); // fan-out: sent and delivered
    const attempts = events.drain();
    const { retrySpies } = await runDelivery(attempts, { queue: "herald-events" });
    expect(retrySpies.every((spy) => spy.mock.calls.length === 1)).toBe(true);
    // And a message.received logged but not yet attempted.
    await receive(t.tenantId, [inbound(t.configs.sms!, { text: "Ada's secret reply" })]);
    const unattempted = events.drain();
    expect((await deliveries(t.key, ep)).map((d) => d.status)).toEqual(["pending", "pending", "pending"]);

    expect((await call("DELETE", "/api/recipients/customer/ada", { key: t.key })).status).toBe(200);
    const cancelled = await deliveries(t.key, ep);
    expect(cancelled.map((d) => [d.status, d.lastError, d.redacted, d.payload.data])).toEqual(
      Array(3).fill(["failed", "cancelled: recipient erased before delivery", "erased", null]),
    );

    healthy = true;
    received.length = 0;
    await runDelivery([...attempts, ...unattempted], { queue: "herald-events" });
    expect(received).toHaveLength(0);

    // An attempt that read the row before the erasure may write `pending` back afterwards.
    await env.DB.prepare("UPDATE webhook_delivery SET status = 'pending' WHERE tenant_id = ?1").bind(t.tenantId).run();
    await runDelivery([...attempts, ...unattempted], { queue: "herald-events" });
    expect(received).toHaveLength(0);
    expect((await deliveries(t.key, ep)).every((d) => d.status === "failed")).toBe(true);
  });
});

describe("tenant webhook retention", () => {
  it("stubs only finished deliveries older than the tenant's cutoff, once", async () => {
    const s = await seed();
    expect((await call("PATCH", "/api/settings", { key: s.key, body: { retentionDays: 30 } })).status).toBe(200);
    const longAgo = Date.now() - 31 * 86_400_000;
    const rows = await deliveries(s.key, s.ep);
    const [oldAda, oldBob] = [about(rows, s.adaMsg.conversationId)[0]!, about(rows, s.bob.id)[0]!];
    // An old one still being attempted keeps its payload: it has not reached its endpoint yet.
    await env.DB.prepare("UPDATE webhook_delivery SET created_at = ?1 WHERE id IN (?2, ?3)").bind(longAgo, oldAda.id, oldBob.id).run();
    const oldPending = about(rows, s.ada.id)[0]!;
    await env.DB.prepare("UPDATE webhook_delivery SET created_at = ?1, status = 'pending' WHERE id = ?2").bind(longAgo, oldPending.id).run();

    expect((await applyRetention(database(env.DB), env.ATTACHMENTS, new Date())).redactedDeliveries).toBe(2);
    expect((await applyRetention(database(env.DB), env.ATTACHMENTS, new Date())).redactedDeliveries).toBe(0);

    const after = await deliveries(s.key, s.ep);
    for (const d of [oldAda, oldBob]) {
      expect(after.find((x) => x.id === d.id)).toEqual({ ...d, createdAt: new Date(longAgo).toISOString(), redacted: "expired", payload: { type: d.eventType, timestamp: d.payload.timestamp, data: null, redacted: "expired" } });
    }
    expect(after.find((x) => x.id === oldPending.id)).toMatchObject({ status: "pending", redacted: null, payload: oldPending.payload });
    expect(after.filter((d) => d.redacted === "expired")).toHaveLength(2);
    const replay = await call("POST", `/api/webhooks/${s.ep}/deliveries/${oldAda.id}/replay`, { key: s.key });
    expect(replay.status).toBe(409);
    expect(replay.json.detail ?? replay.json.title).toMatch(/retention/);
  });
});
