import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { call, captureAutomation, captureEvents, captureQueue, mockProviders, runDelivery, type RecordedRequest } from "../helpers";
import { inbound, PHONE, receive, sendAndDeliver, tenantWithSandbox } from "./fixtures";

let queue: ReturnType<typeof captureQueue>;
let events: ReturnType<typeof captureEvents>;
let automation: ReturnType<typeof captureAutomation>;
beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  events = captureEvents();
  automation = captureAutomation();
});

const wa = { channel: "whatsapp" as const, from: `whatsapp:${PHONE}`, to: "whatsapp:+14155550100" };

describe("keywords on inbound messages", () => {
  it("STOP on WhatsApp suppresses the contact on that channel, and START lifts it", async () => {
    const t = await tenantWithSandbox();
    const [r] = await receive(t.tenantId, [inbound(t.configs.whatsapp!, { ...wa, text: " Stop " })]);
    expect(r).toMatchObject({ status: "stored", keyword: "stop" });
    const listed = await call("GET", `/api/suppressions?channel=whatsapp&contact=${encodeURIComponent(PHONE)}`, { key: t.key });
    expect(listed.json.results[0]).toMatchObject({ reason: "opt_out", detail: "replied STOP", source: "inbound" });
    const status = async (channel: string) => {
      const res = await call("POST", "/api/communications/send", { key: t.key, body: { channel, recipientContact: PHONE, content: "hello" } });
      await runDelivery(queue.drain().map((m) => m.body));
      return (await call("GET", `/api/communications/${res.json.id}`, { key: t.key })).json.status;
    };
    expect(await status("whatsapp")).toBe("suppressed");
    expect(await status("sms")).toBe("delivered"); // another channel: untouched

    await receive(t.tenantId, [inbound(t.configs.whatsapp!, { ...wa, text: "START" })]);
    expect(await status("whatsapp")).toBe("delivered");
    const trail = await call("GET", `/api/communication-preferences/contact/${encodeURIComponent(PHONE)}/consents`, { key: t.key });
    expect(trail.json.results.map((c: { status: string }) => c.status)).toEqual(["revoked", "granted"]);
  });

  it("answers HELP with the tenant's text, in the thread", async () => {
    const t = await tenantWithSandbox();
    const [none] = await receive(t.tenantId, [inbound(t.configs.sms!, { text: "help" })]);
    expect(none).toMatchObject({ keyword: "help" });
    expect(queue.sent).toHaveLength(0); // no text configured: nothing is sent

    expect((await call("PATCH", "/api/settings", { key: t.key, body: { conversations: { helpText: "Acme billing: reply PAID once paid, STOP to opt out." } } })).status).toBe(200);
    const [r] = await receive(t.tenantId, [inbound(t.configs.sms!, { text: "HELP" })]);
    expect(queue.sent).toHaveLength(1);
    await runDelivery(queue.drain().map((m) => m.body));
    const messages = (await call("GET", `/api/conversations/${r!.conversationId}/messages`, { key: t.key })).json.results;
    const out = messages.find((m: any) => m.direction === "outbound");
    expect(out).toMatchObject({ text: "Acme billing: reply PAID once paid, STOP to opt out." });
    const comm = (await call("GET", `/api/communications/${out.communicationId}`, { key: t.key })).json;
    expect(comm).toMatchObject({ channel: "sms", recipientContact: PHONE, status: "delivered", type: "conversation_help" });
  });

  it("a tenant keyword emits its business event, naming the invoice the message answers", async () => {
    const t = await tenantWithSandbox();
    const bad = await call("PATCH", "/api/settings", { key: t.key, body: { conversations: { keywords: [{ keyword: "two words", event: "invoice.paid" }] } } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toContain("keywords");
    await call("PATCH", "/api/settings", { key: t.key, body: { conversations: { keywords: [{ keyword: "PAID", event: "invoice.paid" }] } } });
    const sent = await sendAndDeliver(t.key, queue, { recipientType: "customer", recipientId: "cust-1", entityType: "invoice", entityId: "INV-1" });
    const m = inbound(t.configs.sms!, { text: "paid" });
    const [r] = await receive(t.tenantId, [m]);
    expect(r).toMatchObject({ keyword: "tenant" });
    await receive(t.tenantId, [m]); // the provider's retry: no second event

    const listed = (await call("GET", "/api/events?type=invoice.paid", { key: t.key })).json.results;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ type: "invoice.paid", entityType: "invoice", entityId: "INV-1", recipients: [{ type: "customer", id: "cust-1" }], data: { conversationId: r!.conversationId, communicationId: sent.id, text: "paid" } });
    expect(automation.sent).toEqual([expect.objectContaining({ kind: "event", eventId: listed[0].id })]);
  });

  it("sends message.received to a subscribed tenant webhook, signed per Standard Webhooks", async () => {
    const t = await tenantWithSandbox();
    const HOOK = "https://hooks.acme.test";
    const ep = (await call("POST", "/api/webhooks", { key: t.key, body: { url: `${HOOK}/in`, eventTypes: ["message.received"] } })).json;
    const other = await call("POST", "/api/webhooks", { key: t.key, body: { url: `${HOOK}/status`, eventTypes: ["communication.delivered"] } });
    expect(other.status).toBe(201);
    const received: RecordedRequest[] = [];
    mockProviders({ [HOOK]: (req) => (received.push(req), new Response("ok")) });
    const [r] = await receive(t.tenantId, [inbound(t.configs.sms!)]);
    const deliveries = events.drain();
    expect(deliveries).toHaveLength(1);
    await runDelivery(deliveries, { queue: "herald-events" });
    expect(received.map((q) => q.url)).toEqual([`${HOOK}/in`]);
    const payload = new Webhook(ep.secret).verify(received[0]!.body, Object.fromEntries(received[0]!.headers)) as any;
    expect(payload).toMatchObject({ type: "message.received", data: { id: r!.messageId, conversationId: r!.conversationId, channel: "sms", from: PHONE, text: "Can I pay next week?" } });
    expect(received[0]!.headers.get("webhook-id")).toBe(`evt_msg_${r!.messageId}`);
  });
});
