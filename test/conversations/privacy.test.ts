/**
 * Conversations under data-protection requests and retention: a recipient's export lists their
 * threads and messages; erasure blanks the messages (both directions), replaces the thread's
 * contact and deletes the stored media from R2, for the threads linked to the profile and those
 * with one of their contacts, and nobody else's; retention blanks only the messages stored before
 * the tenant's cutoff, and takes the contact of threads idle since.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { call, captureEvents, captureQueue } from "../helpers";
import { inbound, PHONE, receive, sendAndDeliver, tenantWithSandbox } from "./fixtures";
import { applyRetention } from "../../src/pipeline/retention";
import { database } from "../../src/db/client";

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
const OTHER_PHONE = "+14155550177";
const SECOND_PHONE = "+14155550124";

let queue: ReturnType<typeof captureQueue>;
beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  captureEvents();
});

const withMedia = (configId: string, over: Parameters<typeof inbound>[1] = {}) =>
  inbound(configId, { text: "Here is my ID card", media: [{ contentType: "image/jpeg", size: JPEG.byteLength, bytes: JPEG }], ...over });

const mediaKey = (tenantId: string, messageId: string) => `${tenantId}/inbound/${messageId}/0`;
const messagesOf = async (key: string, conversationId: string) => (await call("GET", `/api/conversations/${conversationId}/messages`, { key })).json.results;

/**
 * A tenant where customer/ada has a profile with PHONE and an email address, an SMS thread with a
 * medium and a reply, an email thread, and a thread from a number only her communications name;
 * bob writes too.
 */
async function seed() {
  const t = await tenantWithSandbox(["sms", "email"]);
  expect((await call("PATCH", "/api/communication-preferences/customer/ada", { key: t.key, body: { preferredPhone: PHONE, preferredEmail: "Ada@Example.com" } })).status).toBe(200);
  await sendAndDeliver(t.key, queue, { recipientType: "customer", recipientId: "ada", recipientContact: SECOND_PHONE, content: "Your code is 998877" });
  const [ada, adaSecond, bob, adaEmail] = await receive(t.tenantId, [
    withMedia(t.configs.sms!),
    inbound(t.configs.sms!, { from: SECOND_PHONE, text: "Wrong number? This is Ada" }),
    withMedia(t.configs.sms!, { from: OTHER_PHONE, text: "Bob here" }),
    inbound(t.configs.email!, { channel: "email", from: "ada@example.com", to: "billing@acme.test", subject: "My invoice", text: "Please resend it" }),
  ]);
  const reply = await call("POST", `/api/conversations/${ada!.conversationId}/reply`, { key: t.key, body: { content: "Thanks Ada, received" } });
  expect(reply.status, reply.text).toBe(201);
  return { ...t, ada: ada!, adaSecond: adaSecond!, bob: bob!, adaEmail: adaEmail! };
}

describe("recipient erasure and export", () => {
  it("exports the recipient's threads with their messages, then erases them (media gone from R2) and leaves bob's and another tenant's alone", async () => {
    const s = await seed();
    const other = await tenantWithSandbox(["sms"]);
    await call("PATCH", "/api/communication-preferences/customer/ada", { key: other.key, body: { preferredPhone: PHONE } });
    const [theirs] = await receive(other.tenantId, [withMedia(other.configs.sms!)]);
    for (const [tenant, r] of [[s.tenantId, s.ada], [s.tenantId, s.bob], [other.tenantId, theirs!]] as const) {
      expect(await env.ATTACHMENTS.head(mediaKey(tenant, r.messageId))).not.toBeNull();
    }

    const exported = (await call("GET", "/api/recipients/customer/ada/export", { key: s.key })).json;
    const byId = new Map(exported.conversations.map((c: any) => [c.id, c]));
    expect([...byId.keys()].sort()).toEqual([s.ada.conversationId, s.adaSecond.conversationId, s.adaEmail.conversationId].sort());
    expect(byId.get(s.ada.conversationId)).toMatchObject({
      contact: PHONE,
      recipientType: "customer",
      recipientId: "ada",
      messages: [
        { direction: "inbound", text: "Here is my ID card", media: [expect.objectContaining({ contentType: "image/jpeg", stored: true })] },
        { direction: "outbound", text: "Thanks Ada, received" },
      ],
    });
    expect(byId.get(s.adaSecond.conversationId)).toMatchObject({ contact: SECOND_PHONE, messages: [{ text: "Wrong number? This is Ada" }] });
    expect(byId.get(s.adaEmail.conversationId)).toMatchObject({ contact: "ada@example.com", messages: [{ subject: "My invoice", text: "Please resend it" }] });

    const res = await call("DELETE", "/api/recipients/customer/ada", { key: s.key });
    expect(res.status, res.text).toBe(200);
    expect(res.json.erased).toMatchObject({ conversations: 3, conversationMedia: 1 });

    expect(await env.ATTACHMENTS.head(mediaKey(s.tenantId, s.ada.messageId))).toBeNull();
    const erased = await messagesOf(s.key, s.ada.conversationId);
    expect(erased.map((m: any) => [m.direction, m.text, m.subject, m.button, m.media])).toEqual([
      ["inbound", "[erased]", null, null, []],
      ["outbound", "[erased]", null, null, []],
    ]);
    expect((await messagesOf(s.key, s.adaSecond.conversationId)).map((m: any) => m.text)).toEqual(["[erased]"]);
    expect((await messagesOf(s.key, s.adaEmail.conversationId)).map((m: any) => [m.subject, m.text])).toEqual([["[erased]", "[erased]"]]);
    const thread = (await call("GET", `/api/conversations/${s.ada.conversationId}`, { key: s.key })).json;
    // Counts and times stay; the contact and the recipient's id do not.
    expect(thread).toMatchObject({ contact: `[erased]:${s.ada.conversationId}`, recipientType: "customer", unreadCount: 1 });
    expect(thread.recipientId).toMatch(/^erased:[0-9a-f]{16}$/);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM conversation_message WHERE tenant_id = ? AND (text LIKE '%Ada%' OR text LIKE '%ID card%' OR text LIKE '%resend%' OR subject LIKE '%invoice%' OR media IS NOT NULL)")
      .bind(s.tenantId)
      .all<{ n: number }>();
    // Bob's medium is the only one left in the tenant.
    expect(rows.results[0]!.n).toBe(1);
    expect((await call("GET", "/api/recipients/customer/ada/export", { key: s.key })).json.conversations).toEqual([]);

    // Nothing can be sent to an erased thread; the customer writing again opens a new one.
    const reply = await call("POST", `/api/conversations/${s.ada.conversationId}/reply`, { key: s.key, body: { content: "hello?" } });
    expect(reply.status).toBe(409);
    expect(reply.json.errors).toEqual([{ field: "conversation", message: expect.any(String) }]);
    const [again] = await receive(s.tenantId, [inbound(s.configs.sms!, { text: "me again" })]);
    expect(again!.conversationId).not.toBe(s.ada.conversationId);

    // Bob's thread and the other tenant's Ada are untouched.
    expect(await env.ATTACHMENTS.head(mediaKey(s.tenantId, s.bob.messageId))).not.toBeNull();
    expect((await messagesOf(s.key, s.bob.conversationId)).map((m: any) => [m.text, m.media.length])).toEqual([["Bob here", 1]]);
    expect(await env.ATTACHMENTS.head(mediaKey(other.tenantId, theirs!.messageId))).not.toBeNull();
    const theirThread = (await call("GET", `/api/conversations/${theirs!.conversationId}`, { key: other.key })).json;
    expect(theirThread).toMatchObject({ contact: PHONE, recipientId: "ada" });
    expect((await messagesOf(other.key, theirs!.conversationId)).map((m: any) => m.text)).toEqual(["Here is my ID card"]);
  });
});

describe("conversation retention", () => {
  it("blanks only messages stored before the tenant's cutoff (their media deleted) and takes the contact of idle threads", async () => {
    const t = await tenantWithSandbox(["sms"]);
    expect((await call("PATCH", "/api/settings", { key: t.key, body: { retentionDays: 30 } })).status).toBe(200);
    const [old, recent, idle] = await receive(t.tenantId, [
      withMedia(t.configs.sms!, { text: "old news" }),
      withMedia(t.configs.sms!, { text: "fresh news" }),
      withMedia(t.configs.sms!, { from: OTHER_PHONE, text: "long ago" }),
    ]);
    expect(recent!.conversationId).toBe(old!.conversationId);
    const longAgo = Date.now() - 31 * 86_400_000;
    await env.DB.prepare("UPDATE conversation_message SET created_at = ?, at = ? WHERE id IN (?, ?)").bind(longAgo, longAgo, old!.messageId, idle!.messageId).run();
    await env.DB.prepare("UPDATE conversation SET last_message_at = ? WHERE id = ?").bind(longAgo, idle!.conversationId).run();

    const first = await applyRetention(database(env.DB), env.ATTACHMENTS, new Date());
    expect(first.redactedMessages).toBe(2);
    const second = await applyRetention(database(env.DB), env.ATTACHMENTS, new Date());
    expect(second.redactedMessages).toBe(0);

    expect((await messagesOf(t.key, old!.conversationId)).map((m: any) => [m.text, m.media.length])).toEqual([
      ["[redacted]", 0],
      ["fresh news", 1],
    ]);
    expect(await env.ATTACHMENTS.head(mediaKey(t.tenantId, old!.messageId))).toBeNull();
    expect(await env.ATTACHMENTS.head(mediaKey(t.tenantId, recent!.messageId))).not.toBeNull();
    expect(await env.ATTACHMENTS.head(mediaKey(t.tenantId, idle!.messageId))).toBeNull();
    expect((await call("GET", `/api/conversations/${old!.conversationId}`, { key: t.key })).json.contact).toBe(PHONE);
    const idleThread = (await call("GET", `/api/conversations/${idle!.conversationId}`, { key: t.key })).json;
    expect(idleThread).toMatchObject({ contact: `[redacted]:${idle!.conversationId}`, unreadCount: 1 });
  });
});
