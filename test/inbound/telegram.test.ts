/**
 * Telegram inbound end to end: the bot sends through the API, the customer answers, Telegram
 * posts the update with setWebhook's secret token, and the reply is in the conversation, threaded
 * to what was sent. Forged and missing tokens, a replayed update_id and another tenant's URL are
 * refused and store nothing. Fixtures are typed with @grammyjs/types (Telegram's Update).
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Update } from "@grammyjs/types";
import { addProvider, call, captureQueue, createTenant, json, mockProviders, runDelivery } from "../helpers";

const API = "https://telegram.mock";
const SECRET = "tg-secret_0123456789abcdef";
const CHAT = 123456789;
const TELEGRAM = (webhookSecret = SECRET, botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") => ({
  channel: "telegram",
  provider: "telegram",
  priority: 1,
  credentials: { botToken, webhookSecret },
  settings: { baseUrl: API },
});

let queue: ReturnType<typeof captureQueue>;
beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  vi.spyOn(env.EVENT_QUEUE, "sendBatch").mockResolvedValue(undefined as never);
  vi.spyOn(env.AUTOMATION_QUEUE, "sendBatch").mockResolvedValue(undefined as never);
});

const update = (updateId: number, messageId: number, text: string, replyTo?: number): Update => ({
  update_id: updateId,
  message: {
    message_id: messageId,
    date: Math.floor(Date.now() / 1000),
    chat: { id: CHAT, type: "private", first_name: "Ann" },
    from: { id: CHAT, is_bot: false, first_name: "Ann" },
    text,
    ...(replyTo ? { reply_to_message: { message_id: replyTo, date: Math.floor(Date.now() / 1000) - 60, chat: { id: CHAT, type: "private", first_name: "Ann" }, text: "sent", from: { id: 1, is_bot: true, first_name: "Acme" }, reply_to_message: undefined } } : {}),
  },
});

const inboundUrl = (id: string, provider = "telegram") => `https://herald.test/webhooks/inbound/${provider}/${id}`;
async function post(url: string, body: Update | string, secret?: string) {
  const headers: Record<string, string> = { "content-type": "application/json", ...(secret ? { "x-telegram-bot-api-secret-token": secret } : {}) };
  const res = await exports.default.fetch(url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}
const storedIn = async (tenantId: string) =>
  (await env.DB.prepare("SELECT provider_message_id, text FROM conversation_message WHERE tenant_id = ?1 AND direction = 'in' ORDER BY provider_message_id").bind(tenantId).all<{ provider_message_id: string; text: string }>()).results;

describe("Telegram inbound", () => {
  it("a reply to the bot's message lands in the conversation, threaded to the communication", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, TELEGRAM());
    mockProviders({ [API]: json(200, { ok: true, result: { message_id: 42, date: 1700000000, chat: { id: CHAT, type: "private" }, text: "x" } }) });
    const sent = await call("POST", "/api/communications/send", { key, body: { channel: "telegram", recipientContact: String(CHAT), content: "Invoice INV-1: $10 due Friday" } });
    expect(sent.status, sent.text).toBe(201);
    await runDelivery(queue.drain().map((m) => m.body));

    const res = await post(inboundUrl(p.id), update(900001, 43, "Can I pay next week?", 42), SECRET);
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ received: 1, stored: 1 });

    const list = await call("GET", "/api/conversations?channel=telegram", { key });
    expect(list.status, list.text).toBe(200);
    expect(list.json.results).toMatchObject([{ channel: "telegram", contact: String(CHAT), unreadCount: 1 }]);
    const messages = await call("GET", `/api/conversations/${list.json.results[0].id}/messages`, { key });
    expect(messages.json.results.find((m: { direction: string }) => m.direction === "inbound")).toMatchObject({
      text: "Can I pay next week?",
      providerMessageId: `${CHAT}:43`,
      inReplyToCommunicationId: sent.json.id,
    });
    expect(await storedIn(tenantId)).toHaveLength(1);
  });

  it("refuses missing and forged secret tokens, a replayed update_id, and bodies that are not updates", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, TELEGRAM());
    const url = inboundUrl(p.id);
    expect((await post(url, update(1, 10, "hi"))).status).toBe(401);
    const forged = await post(url, update(1, 10, "hi"), "not-the-secret-0123456789");
    expect(forged.status).toBe(403);
    expect(forged.type).toMatch(/problem\+json/);
    expect(await storedIn(tenantId)).toEqual([]);

    expect((await post(url, update(2, 11, "first"), SECRET)).status).toBe(200);
    // The same update again, even carrying another message: a replay.
    const replay = await post(url, update(2, 12, "forged content"), SECRET);
    expect(replay.status).toBe(409);
    expect(replay.type).toMatch(/problem\+json/);
    expect(await storedIn(tenantId)).toMatchObject([{ provider_message_id: `${CHAT}:11`, text: "first" }]);

    const junk = await post(url, "not json", SECRET);
    expect(junk.status).toBe(400);
    expect(junk.type).toMatch(/problem\+json/);
    // The junk claimed nothing: a real update with a new id still goes through.
    expect((await post(url, update(3, 13, "second"), SECRET)).status).toBe(200);
  });

  it("a config without a webhookSecret accepts no updates", async () => {
    const { key } = await createTenant();
    const p = await addProvider(key, { ...TELEGRAM(), credentials: { botToken: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" } });
    expect((await post(inboundUrl(p.id), update(1, 10, "hi"), SECRET)).status).toBe(403);
  });

  it("tenant A's secret cannot post into tenant B's bot, and another provider's path is no endpoint", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    const pa = await addProvider(a.key, TELEGRAM());
    const pb = await addProvider(b.key, TELEGRAM("tenant-b-secret_0123456789"));
    expect((await post(inboundUrl(pb.id), update(5, 20, "hi"), SECRET)).status).toBe(403);
    expect((await post(inboundUrl(pa.id, "twilio"), update(5, 20, "hi"), SECRET)).status).toBe(404);
    expect((await post(inboundUrl(pa.id), update(5, 20, "hi"), SECRET)).status).toBe(200);
    expect(await storedIn(a.tenantId)).toHaveLength(1);
    expect(await storedIn(b.tenantId)).toEqual([]);
    // Update ids are per bot: B's own update 5 is not A's replay.
    expect((await post(inboundUrl(pb.id), update(5, 20, "hi"), "tenant-b-secret_0123456789")).status).toBe(200);
  });
});
