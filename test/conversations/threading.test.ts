import { beforeEach, describe, expect, it, vi } from "vitest";
import { call, captureEvents, captureQueue, runMediaJobs, testEnv } from "../helpers";
import { inbound, OUR_NUMBER, PHONE, receive, sendAndDeliver, tenantWithSandbox } from "./fixtures";
import { replyAddress } from "../../src/conversations/reply-token";

let queue: ReturnType<typeof captureQueue>;
let events: ReturnType<typeof captureEvents>;
beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  events = captureEvents();
});

describe("threading inbound messages", () => {
  it("joins the open thread of that contact and channel, linked to the invoice it answers and the recipient", async () => {
    const t = await tenantWithSandbox();
    const sent = await sendAndDeliver(t.key, queue, { recipientType: "customer", recipientId: "cust-1", entityType: "invoice", entityId: "INV-1" });
    const [first] = await receive(t.tenantId, [inbound(t.configs.sms!)]);
    const [second] = await receive(t.tenantId, [inbound(t.configs.sms!, { text: "Or the week after?" })]);
    expect(first).toMatchObject({ status: "stored" });
    expect(second!.conversationId).toBe(first!.conversationId);

    const conv = (await call("GET", `/api/conversations/${first!.conversationId}`, { key: t.key })).json;
    expect(conv).toMatchObject({ channel: "sms", contact: PHONE, ourAddress: OUR_NUMBER, recipientType: "customer", recipientId: "cust-1", communicationId: sent.id, unreadCount: 2 });
    const messages = (await call("GET", `/api/conversations/${conv.id}/messages`, { key: t.key })).json.results;
    expect(messages.map((m: any) => [m.direction, m.text, m.inReplyToCommunicationId])).toEqual([
      ["inbound", "Can I pay next week?", sent.id],
      ["inbound", "Or the week after?", sent.id],
    ]);
  });

  it("keeps threads apart by channel and by our address, and leaves a reply to nothing unlinked", async () => {
    const t = await tenantWithSandbox();
    const results = await receive(t.tenantId, [
      inbound(t.configs.sms!),
      inbound(t.configs.sms!, { to: "+14155550199" }),
      inbound(t.configs.whatsapp!, { channel: "whatsapp", from: `whatsapp:${PHONE}`, to: `whatsapp:${OUR_NUMBER}` }),
      inbound(t.configs.sms!, { text: "again" }),
    ]);
    const ids = results.map((r) => r.conversationId);
    expect(new Set(ids).size).toBe(3);
    expect(ids[3]).toBe(ids[0]);
    const conv = (await call("GET", `/api/conversations/${ids[0]}`, { key: t.key })).json;
    expect(conv).toMatchObject({ communicationId: null, recipientId: null, unreadCount: 2 });
  });

  it("links a WhatsApp reply by its context id to the message it quotes, not merely the latest", async () => {
    const t = await tenantWithSandbox();
    const older = await sendAndDeliver(t.key, queue, { channel: "whatsapp", content: "Invoice INV-1" });
    await sendAndDeliver(t.key, queue, { channel: "whatsapp", content: "Invoice INV-2" });
    expect(older.providerMessageId).toBeTruthy();
    const [r] = await receive(t.tenantId, [inbound(t.configs.whatsapp!, { channel: "whatsapp", from: `whatsapp:${PHONE}`, to: `whatsapp:${OUR_NUMBER}`, inReplyTo: older.providerMessageId })]);
    const [m] = (await call("GET", `/api/conversations/${r!.conversationId}/messages`, { key: t.key })).json.results;
    expect(m.inReplyToCommunicationId).toBe(older.id);
  });

  it("threads an email reply by its signed reply-to token or In-Reply-To, and ignores a token signed for another tenant", async () => {
    const t = await tenantWithSandbox();
    const other = await tenantWithSandbox(["email"]);
    const sent = await sendAndDeliver(t.key, queue, { channel: "email", recipientContact: "ada@example.com", subject: "Invoice", content: "<p>Due</p>" });
    const secret = (testEnv as any).ENCRYPTION_KEY as string;
    const good = await replyAddress(secret, t.tenantId, sent.id, "reply.acme.test");
    const forged = await replyAddress(secret, other.tenantId, sent.id, "reply.acme.test");
    const email = { channel: "email" as const, from: "Ada@Example.com", subject: "Re: Invoice", text: "Paid it" };
    const [byToken, byForged, byHeader] = await receive(t.tenantId, [
      inbound(t.configs.email!, { ...email, to: good }),
      inbound(t.configs.email!, { ...email, to: forged, receivedAt: new Date(Date.now() - 30 * 86400_000).toISOString() }),
      inbound(t.configs.email!, { ...email, to: "billing@acme.test", inReplyTo: `<x@y> <${sent.providerMessageId}>` }),
    ]);
    expect(byToken!.conversationId).toBe(byForged!.conversationId);
    const messages = (await call("GET", `/api/conversations/${byToken!.conversationId}/messages`, { key: t.key })).json.results;
    // Oldest first: the forged token names nothing, and that message is older than the answer window.
    expect(messages.map((m: any) => m.inReplyToCommunicationId)).toEqual([null, sent.id]);
    const header = (await call("GET", `/api/conversations/${byHeader!.conversationId}/messages`, { key: t.key })).json.results;
    expect(header[0].inReplyToCommunicationId).toBe(sent.id);
    const conv = (await call("GET", `/api/conversations/${byToken!.conversationId}`, { key: t.key })).json;
    expect(conv).toMatchObject({ contact: "ada@example.com", ourAddress: "reply@reply.acme.test" });
  });

  it("dedupes by provider message id, across batches and within one", async () => {
    const t = await tenantWithSandbox();
    const m = inbound(t.configs.sms!);
    const [a, b] = await receive(t.tenantId, [m, m]);
    const [c] = await receive(t.tenantId, [m]);
    expect([a!.status, b!.status, c!.status]).toEqual(["stored", "duplicate", "duplicate"]);
    expect(b!.messageId).toBe(a!.messageId);
    expect(c!.messageId).toBe(a!.messageId);
    const conv = (await call("GET", `/api/conversations/${a!.conversationId}`, { key: t.key })).json;
    expect(conv.unreadCount).toBe(1);
    expect((await call("GET", `/api/conversations/${conv.id}/messages`, { key: t.key })).json.results).toHaveLength(1);
  });

  it("reads a batch in one D1 round trip and writes it in one", async () => {
    const t = await tenantWithSandbox();
    // Warm the tenant snapshot (settings, webhook endpoints), read once per isolate and TTL.
    await receive(t.tenantId, [inbound(t.configs.sms!)]);
    const spy = vi.spyOn(testEnv.DB, "batch");
    await receive(t.tenantId, Array.from({ length: 20 }, (_, i) => inbound(t.configs.sms!, { from: `+1415555${String(1000 + i)}` })));
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it("stores media bytes in R2 under the message, and keeps a provider URL as a reference", async () => {
    const t = await tenantWithSandbox();
    const bytes = new TextEncoder().encode("fake-jpeg");
    const [r] = await receive(t.tenantId, [
      inbound(t.configs.whatsapp!, {
        channel: "whatsapp",
        from: `whatsapp:${PHONE}`,
        to: `whatsapp:${OUR_NUMBER}`,
        text: undefined,
        media: [
          { contentType: "image/jpeg", size: 999, filename: "receipt.jpg", bytes },
          { contentType: "audio/ogg", size: 1234, url: "https://lookaside.example/media/1" },
        ],
      }),
    ]);
    const mediaOf = async () => (await call("GET", `/api/conversations/${r!.conversationId}/messages`, { key: t.key })).json.results[0].media;
    const key = `${t.tenantId}/inbound/${r!.messageId}/0`;
    const stored = { contentType: "image/jpeg", size: bytes.byteLength, filename: "receipt.jpg", stored: true, downloadUrl: `/api/conversations/${r!.conversationId}/messages/${r!.messageId}/media/0` };
    // The bytes in hand are stored at once; the link waits for the media job.
    expect(await mediaOf()).toEqual([stored, { url: "https://lookaside.example/media/1", contentType: "audio/ogg", size: 1234, stored: false, pending: true }]);
    const { jobs } = await runMediaJobs(events);
    expect(jobs).toEqual([{ kind: "media", tenantId: t.tenantId, messages: [{ id: r!.messageId, to: `whatsapp:${OUR_NUMBER}` }] }]);
    // A sandbox config fetches nothing: the link stays a reference.
    expect(await mediaOf()).toEqual([stored, { url: "https://lookaside.example/media/1", contentType: "audio/ogg", size: 1234, stored: false }]);
    const obj = await testEnv.ATTACHMENTS.get(key);
    expect(await obj!.text()).toBe("fake-jpeg");
    expect(obj!.httpMetadata?.contentType).toBe("image/jpeg");
  });
  it("a message with media to fetch is announced by its job with what ingest decided: the communication it answers, its recipient, its addresses", async () => {
    const t = await tenantWithSandbox();
    expect((await call("POST", "/api/webhooks", { key: t.key, body: { url: "https://hooks.acme.test/in", eventTypes: ["message.received"] } })).status).toBe(201);
    const sent = await sendAndDeliver(t.key, queue, { recipientType: "customer", recipientId: "cust-1", entityType: "invoice", entityId: "INV-1" });
    const payloads = async () =>
      (await testEnv.DB.prepare("SELECT payload FROM webhook_delivery WHERE tenant_id = ?1 AND event_type = 'message.received' ORDER BY id").bind(t.tenantId).all<{ payload: string }>()).results.map((r) => JSON.parse(r.payload).data);
    const [plain] = await receive(t.tenantId, [inbound(t.configs.sms!, { text: "paid" })]);
    const [withMedia] = await receive(t.tenantId, [inbound(t.configs.sms!, { text: "receipt", media: [{ contentType: "image/jpeg", size: 10, url: "https://lookaside.example/media/2" }] })]);
    expect((await payloads()).map((p) => p.id)).toEqual([plain!.messageId]);
    await runMediaJobs(events);
    const [a, b] = await payloads();
    const { id: _a, text: _t, media: _m, receivedAt: _r, providerMessageId: _p, ...same } = a;
    expect(b).toMatchObject({ ...same, id: withMedia!.messageId, text: "receipt", media: [{ url: "https://lookaside.example/media/2", contentType: "image/jpeg", size: 10, stored: false }] });
    expect(b).toMatchObject({ from: PHONE, to: OUR_NUMBER, recipientType: "customer", recipientId: "cust-1", entityType: "invoice", entityId: "INV-1", inReplyToCommunicationId: sent.id });
  });
});
