import { beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, addProvider, call, captureEvents, captureQueue, mockProviders, runDelivery, SENDGRID, sendgridAccepts, type RecordedRequest } from "../helpers";
import { inbound, OUR_NUMBER, PHONE, receive, tenantWithSandbox } from "./fixtures";

let queue: ReturnType<typeof captureQueue>;
beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  captureEvents();
});

const wa = { channel: "whatsapp" as const, from: `whatsapp:${PHONE}`, to: `whatsapp:${OUR_NUMBER}` };

describe("conversations API", () => {
  it("lists threads newest first with filters, unread counts and a cursor; read clears the count", async () => {
    const t = await tenantWithSandbox();
    const [a] = await receive(t.tenantId, [inbound(t.configs.sms!, { receivedAt: "2026-01-01T10:00:00Z" })]);
    const [b] = await receive(t.tenantId, [inbound(t.configs.whatsapp!, wa)]);
    const [c] = await receive(t.tenantId, [inbound(t.configs.sms!, { from: "+14155550999" })]);
    const all = (await call("GET", "/api/conversations", { key: t.key })).json;
    expect(all.results.map((r: any) => r.id)).toEqual([c!.conversationId, b!.conversationId, a!.conversationId]);
    expect(all.nextCursor).toBeNull();

    const sms = (await call("GET", "/api/conversations?channel=sms&limit=1", { key: t.key })).json;
    expect(sms.results.map((r: any) => r.id)).toEqual([c!.conversationId]);
    const next = (await call("GET", `/api/conversations?channel=sms&limit=1&cursor=${encodeURIComponent(sms.nextCursor)}`, { key: t.key })).json;
    expect(next.results.map((r: any) => r.id)).toEqual([a!.conversationId]);

    const read = await call("POST", `/api/conversations/${b!.conversationId}/read`, { key: t.key });
    expect(read.json).toMatchObject({ id: b!.conversationId, unreadCount: 0 });
    const unread = (await call("GET", "/api/conversations?unread=true", { key: t.key })).json.results.map((r: any) => r.id);
    expect(unread.sort()).toEqual([a!.conversationId, c!.conversationId].sort());

    const bad = await call("GET", "/api/conversations?channel=fax", { key: t.key });
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    expect(bad.json.errors[0].field).toBe("channel");
    expect((await call("GET", "/api/conversations?cursor=nope", { key: t.key })).json.errors[0].field).toBe("cursor");
  });

  it("replies in-thread through the send pipeline, recorded as an outbound message", async () => {
    const t = await tenantWithSandbox();
    const [r] = await receive(t.tenantId, [inbound(t.configs.sms!)]);
    const res = await call("POST", `/api/conversations/${r!.conversationId}/reply`, { key: t.key, body: { content: "Yes, next week is fine." } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.communication).toMatchObject({ channel: "sms", recipientContact: PHONE, status: "queued", type: "conversation_reply" });
    await runDelivery(queue.drain().map((m) => m.body));
    const comm = (await call("GET", `/api/communications/${res.json.communication.id}`, { key: t.key })).json;
    expect(comm.status).toBe("delivered");
    const messages = (await call("GET", `/api/conversations/${r!.conversationId}/messages`, { key: t.key })).json.results;
    expect(messages.map((m: any) => [m.direction, m.text, m.communicationId])).toEqual([
      ["inbound", "Can I pay next week?", null],
      ["outbound", "Yes, next week is fine.", comm.id],
    ]);
    const bad = await call("POST", `/api/conversations/${r!.conversationId}/reply`, { key: t.key, body: { content: "x", templateCode: "y" } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("content");
  });

  it("a reply to a suppressed contact is stored as suppressed, as any send is", async () => {
    const t = await tenantWithSandbox();
    await receive(t.tenantId, [inbound(t.configs.sms!, { text: "STOP" })]);
    const [r] = await receive(t.tenantId, [inbound(t.configs.sms!, { text: "actually, one question" })]);
    const res = await call("POST", `/api/conversations/${r!.conversationId}/reply`, { key: t.key, body: { content: "Sure" } });
    await runDelivery(queue.drain().map((m) => m.body));
    expect((await call("GET", `/api/communications/${res.json.communication.id}`, { key: t.key })).json.status).toBe("suppressed");
  });

  it("an email reply goes out with In-Reply-To and References naming the customer's message", async () => {
    const t = await tenantWithSandbox(["sms"]);
    const sg = await addProvider(t.key, SENDGRID());
    const [r] = await receive(t.tenantId, [inbound(sg.id, { channel: "email", from: "ada@example.com", to: "billing@acme.test", subject: "Invoice INV-1", text: "Paid?", providerMessageId: "<CAF123@mail.example.com>" })]);
    const res = await call("POST", `/api/conversations/${r!.conversationId}/reply`, { key: t.key, body: { content: "<p>Yes, thank you.</p>" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.communication.subject).toBe("Re: Invoice INV-1");
    const sent: RecordedRequest[] = [];
    mockProviders({ "https://sendgrid.mock": (req) => (sent.push(req), sendgridAccepts()()) });
    await runDelivery(queue.drain().map((m) => m.body));
    const body = JSON.parse(sent[0]!.body);
    expect(body.headers).toMatchObject({ "In-Reply-To": "<CAF123@mail.example.com>", References: "<CAF123@mail.example.com>" });
    expect(body.personalizations[0].to[0].email).toBe("ada@example.com");
  });

  it("WhatsApp: free text inside 24 hours of the last inbound message, a 422 naming templateCode outside it, or the named template", async () => {
    const t = await tenantWithSandbox();
    const [fresh] = await receive(t.tenantId, [inbound(t.configs.whatsapp!, wa)]);
    const inside = await call("POST", `/api/conversations/${fresh!.conversationId}/reply`, { key: t.key, body: { content: "Hi!" } });
    expect(inside.status, inside.text).toBe(201);
    expect((await call("GET", `/api/conversations/${fresh!.conversationId}`, { key: t.key })).json.windowOpenUntil).not.toBeNull();

    const [stale] = await receive(t.tenantId, [inbound(t.configs.whatsapp!, { ...wa, from: "whatsapp:+14155550777", receivedAt: new Date(Date.now() - 25 * 3600_000).toISOString() })]);
    const outside = await call("POST", `/api/conversations/${stale!.conversationId}/reply`, { key: t.key, body: { content: "Hi!" } });
    expect(outside.status).toBe(422);
    expect(outside.headers.get("content-type")).toContain("application/problem+json");
    expect(outside.json.detail).toContain("24-hour");
    expect(outside.json.errors).toEqual([{ field: "templateCode", message: expect.stringContaining("24-hour") }]);

    const template = { name: "payment_reminder", language: "en" };
    const withTemplate = await call("POST", `/api/conversations/${stale!.conversationId}/reply`, { key: t.key, body: { content: "Your invoice is due", whatsappTemplate: template } });
    expect(withTemplate.status, withTemplate.text).toBe(201);
    expect(withTemplate.json.communication.metadata).toMatchObject({ whatsappTemplate: template, conversationId: stale!.conversationId });
  });

  it("another tenant's conversation is 404 on every route, and scopes are enforced", async () => {
    const t = await tenantWithSandbox(["sms"]);
    const other = await tenantWithSandbox(["sms"]);
    const [r] = await receive(t.tenantId, [inbound(t.configs.sms!)]);
    const id = r!.conversationId;
    for (const [method, path, body] of [
      ["GET", `/api/conversations/${id}`],
      ["GET", `/api/conversations/${id}/messages`],
      ["POST", `/api/conversations/${id}/read`],
      ["POST", `/api/conversations/${id}/reply`, { content: "hi" }],
    ] as const) {
      const res = await call(method, path, { key: other.key, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await call("GET", "/api/conversations", { key: other.key })).json.results).toEqual([]);
    expect((await call("GET", `/api/conversations/${id}`, { key: t.key })).json.unreadCount).toBe(1);

    const readOnly = (await call("POST", `/admin/tenants/${t.tenantId}/api-keys`, { key: ADMIN, body: { name: "ro", scopes: ["conversations:read"] } })).json.apiKey;
    expect((await call("GET", `/api/conversations/${id}`, { key: readOnly })).status).toBe(200);
    expect((await call("POST", `/api/conversations/${id}/reply`, { key: readOnly, body: { content: "hi" } })).status).toBe(403);
  });
});
