/**
 * The Email Worker: `email()` exported from src/index.ts, called as Email Routing calls it, with
 * a ForwardableEmailMessage-like object carrying a raw MIME reply. A reply to a Herald reply-to
 * address on the tenant's reply domain joins the thread of the email it answers; mail for a
 * domain no tenant owns is rejected; a reply token minted for another tenant links nothing.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { call, captureQueue, createTenant, mockProviders, SENDGRID, sendgridAccepts, addProvider } from "../helpers";
import { email, sendAndDeliver } from "../providers/support";
import { mintReplyToken } from "../../src/conversations/reply-token";
import { readConfig } from "../../src/env";
import { replyMime } from "./payloads";

let queue: ReturnType<typeof captureQueue>;
beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  vi.spyOn(env.EVENT_QUEUE, "sendBatch").mockResolvedValue(undefined as never);
});

function forwardable(raw: string, to: string, from = "ann@example.com") {
  const bytes = new TextEncoder().encode(raw);
  const rejected: string[] = [];
  const message = {
    from,
    to,
    raw: new Response(bytes).body!,
    rawSize: bytes.byteLength,
    headers: new Headers({ "message-id": "<x>" }),
    setReject: (reason: string) => void rejected.push(reason),
    forward: async () => ({}) as EmailSendResult,
    reply: async () => ({}) as EmailSendResult,
  } as unknown as ForwardableEmailMessage;
  return { message, rejected };
}

/** As Email Routing calls it (the handler keeps no work past its promise, so no context is waited on). */
const deliverEmail = (message: ForwardableEmailMessage) => worker.email(message, env);

async function tenantWithReplyDomain(name: string, domain: string) {
  const t = await createTenant(name);
  const res = await call("PATCH", "/api/settings", { key: t.key, body: { conversations: { replyDomain: domain } } });
  expect(res.status, res.text).toBe(200);
  return t;
}

const messagesOf = async (tenantId: string) =>
  (
    await env.DB.prepare("SELECT conversation_id, provider_config_id, provider_message_id, text, subject, media, in_reply_to_communication_id FROM conversation_message WHERE tenant_id = ?1 AND direction = 'in'")
      .bind(tenantId)
      .all<{ conversation_id: string; provider_config_id: string; provider_message_id: string; text: string; subject: string; media: string | null; in_reply_to_communication_id: string | null }>()
  ).results;

describe("Email Worker", () => {
  it("a reply to a signed reply-to address joins the thread of the email it answers", async () => {
    const { key, tenantId } = await tenantWithReplyDomain("Acme", "replies.acme.test");
    await addProvider(key, SENDGRID());
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1") });
    const communicationId = await sendAndDeliver(key, queue, { ...email, recipientContact: "ann@example.com" });
    const token = await mintReplyToken(readConfig(env).encryptionKey, tenantId, communicationId);

    const { message, rejected } = forwardable(replyMime({ to: `reply+${token}@replies.acme.test` }), `reply+${token}@replies.acme.test`);
    await deliverEmail(message);
    expect(rejected).toEqual([]);
    const [row, ...rest] = await messagesOf(tenantId);
    expect(rest).toEqual([]);
    expect(row).toMatchObject({ provider_config_id: "email_routing", provider_message_id: "CAF=reply-1@mail.example.com", text: "Can I pay next week?", subject: "Re: Invoice INV-1", in_reply_to_communication_id: communicationId });
    expect(JSON.parse(row!.media!)).toMatchObject([{ contentType: "application/pdf", filename: "remittance.pdf", size: 9 }]);

    // The attachment's bytes are in R2 under the tenant.
    const listed = await env.ATTACHMENTS.list({ prefix: `${tenantId}/inbound/` });
    expect(listed.objects).toHaveLength(1);
    expect(await (await env.ATTACHMENTS.get(listed.objects[0]!.key))!.text()).toBe("%PDF-1.4\n");

    // The same mail again (the sending server's retry) is stored once.
    await deliverEmail(forwardable(replyMime({ to: `reply+${token}@replies.acme.test` }), `reply+${token}@replies.acme.test`).message);
    expect(await messagesOf(tenantId)).toHaveLength(1);
  });

  it("outbound email names a signed reply-to on the reply domain, and a reply to it threads to that email", async () => {
    const { key, tenantId } = await tenantWithReplyDomain("Acme", "replies.rt.test");
    // The config's own replyTo gives way to the signed address.
    await addProvider(key, SENDGRID({ settings: { ...SENDGRID().settings, replyTo: "help@acme.test" } }));
    const { requests } = mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-rt") });
    const first = await sendAndDeliver(key, queue, { ...email, recipientContact: "ann@example.com" });
    const second = await sendAndDeliver(key, queue, { ...email, subject: "Invoice INV-2", recipientContact: "ann@example.com" });
    const replyTos = requests.map((r) => JSON.parse(r.body).reply_to?.email as string);
    expect(replyTos).toHaveLength(2);
    for (const address of replyTos) expect(address).toMatch(/^reply\+[0-9a-f]{32}\.[A-Za-z0-9_-]{16}@replies\.rt\.test$/);
    expect(replyTos[0]).not.toBe(replyTos[1]);

    // Ann answers the first email; her client names nothing we know in In-Reply-To, so only the
    // address tells it from the second (the latest send, which the fallback would pick).
    const to = replyTos[0]!;
    await deliverEmail(forwardable(replyMime({ to, messageId: "rt-1@mail.example.com", inReplyTo: "unknown@mail.example.com" }), to).message);
    const [row] = await messagesOf(tenantId);
    expect(row).toMatchObject({ provider_message_id: "rt-1@mail.example.com", in_reply_to_communication_id: first });
    const conv = (await call("GET", `/api/conversations/${row!.conversation_id}`, { key })).json;
    expect(conv).toMatchObject({ contact: "ann@example.com", ourAddress: "reply@replies.rt.test", communicationId: first });

    // A forged token (the first email's id, another MAC) is not taken for it: the reply joins the
    // same thread, answering only what the fallback finds (the latest send), never the named one.
    const forged = to.replace(/\.([A-Za-z0-9_-]{16})@/, (_, mac: string) => `.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}@`);
    expect(forged).not.toBe(to);
    const { message, rejected } = forwardable(replyMime({ to: forged, messageId: "rt-2@mail.example.com", inReplyTo: "unknown@mail.example.com" }), forged);
    await deliverEmail(message);
    expect(rejected).toEqual([]);
    const rows = await messagesOf(tenantId);
    expect(rows.find((r) => r.provider_message_id === "rt-2@mail.example.com")).toMatchObject({ conversation_id: row!.conversation_id, in_reply_to_communication_id: second });
  });

  it("without a reply domain, outbound email keeps the config's own replyTo", async () => {
    const { key } = await createTenant("NoDomain");
    await addProvider(key, SENDGRID({ settings: { ...SENDGRID().settings, replyTo: "help@acme.test" } }));
    const { requests } = mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-nd") });
    await sendAndDeliver(key, queue, { ...email, recipientContact: "ann@example.com" });
    expect(requests.map((r) => JSON.parse(r.body).reply_to)).toEqual([{ email: "help@acme.test" }]);
  });

  it("mail for a domain no tenant owns is rejected and stored nowhere", async () => {
    const { tenantId } = await tenantWithReplyDomain("Acme", "replies2.acme.test");
    const { message, rejected } = forwardable(replyMime({ to: "billing@unknown.example" }), "billing@unknown.example");
    await deliverEmail(message);
    expect(rejected).toEqual(["no mailbox here for billing@unknown.example"]);
    expect(await messagesOf(tenantId)).toEqual([]);
  });

  it("a reply token minted for tenant A, sent to tenant B's domain, links nothing of A's", async () => {
    const a = await tenantWithReplyDomain("A", "replies.a.test");
    const b = await tenantWithReplyDomain("B", "replies.b.test");
    await addProvider(a.key, SENDGRID());
    mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-2") });
    const communicationId = await sendAndDeliver(a.key, queue, { ...email, recipientContact: "ann@example.com" });
    const token = await mintReplyToken(readConfig(env).encryptionKey, a.tenantId, communicationId);
    const to = `reply+${token}@replies.b.test`;
    await deliverEmail(forwardable(replyMime({ to, messageId: "cross@mail.example.com", inReplyTo: "nothing@example" }), to).message);
    expect(await messagesOf(a.tenantId)).toEqual([]);
    expect(await messagesOf(b.tenantId)).toMatchObject([{ provider_message_id: "cross@mail.example.com", in_reply_to_communication_id: null }]);
  });

  it("a second tenant cannot claim a reply domain already taken", async () => {
    await tenantWithReplyDomain("A", "taken.acme.test");
    const b = await createTenant("B");
    const res = await call("PATCH", "/api/settings", { key: b.key, body: { conversations: { replyDomain: "taken.acme.test" } } });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ code: "conflict", errors: [{ field: "conversations.replyDomain" }] });
  });
});
