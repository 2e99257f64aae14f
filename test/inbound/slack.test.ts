/**
 * Slack inbound end to end (Events API): the app posts through chat.postMessage, the customer
 * answers in the message's thread, Slack posts the signed `event_callback`, and the reply is in
 * the conversation, threaded to the communication, told to the tenant's `message.received`
 * webhook; the tenant's reply goes back into the Slack thread. A DM threads by the user the send
 * named. Unsigned, forged, stale, replayed and cross-tenant requests are refused and store
 * nothing; bots' posts and edits are acknowledged and dropped; `url_verification` is echoed once
 * signed. Requests are signed here with WebCrypto directly, not with src's signer (the vendor
 * project checks that signer against Slack's documented example). Fixtures are typed with
 * @slack/types (the Node Slack SDK's event types).
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import type { AppMentionEvent, BotMessageEvent, GenericMessageEvent, MessageChangedEvent } from "@slack/types";
import { addProvider, call, captureEvents, captureQueue, createTenant, json, mockProviders, runDelivery, runMediaJobs, type RecordedRequest } from "../helpers";

const API = "https://slack.mock";
const HOOK = "https://hooks.acme.test";
const TOKEN = "xoxb-1234-5678-abcdef";
const SECRET = "8f742231b10e8888abcd99ab0c1d2e3f";
const CHANNEL = "C0123456789";
const USER = "U0AAAAAAA1";
const DM = "D0BBBBBBB2";
const SENT_TS = "1700000000.000100";
const SLACK = (credentials: Record<string, unknown> = { botToken: TOKEN, signingSecret: SECRET }) => ({ channel: "slack", provider: "slack", priority: 1, credentials, settings: { baseUrl: API } });

let queue: ReturnType<typeof captureQueue>;
let events: ReturnType<typeof captureEvents>;
beforeEach(() => {
  vi.restoreAllMocks();
  queue = captureQueue();
  events = captureEvents();
  vi.spyOn(env.AUTOMATION_QUEUE, "sendBatch").mockResolvedValue(undefined as never);
});

const nowTs = (offset = 0) => `${Math.floor(Date.now() / 1000) + offset}.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
const message = (over: Partial<GenericMessageEvent> = {}): GenericMessageEvent => ({
  type: "message",
  subtype: undefined,
  channel: CHANNEL,
  channel_type: "channel",
  user: USER,
  text: "Can I pay next week?",
  ts: nowTs(),
  event_ts: nowTs(),
  ...over,
});
const callback = (event: object, eventId = `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`) => ({
  token: "legacy-verification-token",
  team_id: "T0CCCCCCC3",
  api_app_id: "A0DDDDDDD4",
  type: "event_callback",
  event_id: eventId,
  event_time: Math.floor(Date.now() / 1000),
  event,
});

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
async function sign(secret: string, timestamp: string, body: string) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return `v0=${hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`v0:${timestamp}:${body}`)))}`;
}
/** A request as Slack signs it: `at` seconds from now, with the given secret (or none). */
async function signed(body: object | string, opts: { secret?: string | null; at?: number; headers?: Record<string, string> } = {}) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const timestamp = String(Math.floor(Date.now() / 1000) + (opts.at ?? 0));
  const secret = opts.secret === undefined ? SECRET : opts.secret;
  const headers: Record<string, string> = { "content-type": "application/json", ...(secret ? { "x-slack-request-timestamp": timestamp, "x-slack-signature": await sign(secret, timestamp, raw) } : {}), ...opts.headers };
  return { body: raw, headers };
}
const inboundUrl = (id: string, provider = "slack") => `https://herald.test/webhooks/inbound/${provider}/${id}`;
async function post(url: string, request: { body: string; headers: Record<string, string> }) {
  const res = await exports.default.fetch(url, { method: "POST", ...request });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}
const storedIn = async (tenantId: string) =>
  (await env.DB.prepare("SELECT provider_message_id, text FROM conversation_message WHERE tenant_id = ?1 AND direction = 'in' ORDER BY provider_message_id").bind(tenantId).all<{ provider_message_id: string; text: string }>()).results;

async function sendFirst(key: string, recipientContact: string, channel = recipientContact) {
  const net = mockProviders({ [API]: json(200, { ok: true, channel, ts: SENT_TS, message: { text: "x" } }) });
  const sent = await call("POST", "/api/communications/send", { key, body: { channel: "slack", recipientContact, content: "Invoice INV-1: $10 due Friday" } });
  expect(sent.status, sent.text).toBe(201);
  await runDelivery(queue.drain().map((m) => m.body));
  expect((await call("GET", `/api/communications/${sent.json.id}`, { key })).json).toMatchObject({ status: "delivered", providerMessageId: `${channel}:${SENT_TS}` });
  net.spy.mockRestore();
  return sent.json.id as string;
}

describe("Slack inbound", () => {
  it("a threaded reply lands in the conversation, answers the communication, reaches message.received, and the tenant's reply goes into the thread", async () => {
    const { key, tenantId } = await createTenant();
    const ep = (await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/in`, eventTypes: ["message.received"] } })).json;
    const p = await addProvider(key, SLACK());
    const sentId = await sendFirst(key, CHANNEL);

    const event = message({ thread_ts: SENT_TS, text: "Can I pay next week? &lt;soon&gt; &amp; thanks" });
    const res = await post(inboundUrl(p.id), await signed(callback(event)));
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ received: 1, stored: 1 });

    const list = await call("GET", "/api/conversations?channel=slack", { key });
    expect(list.json.results).toMatchObject([{ channel: "slack", contact: CHANNEL, unreadCount: 1 }]);
    const conversationId = list.json.results[0].id;
    const messages = await call("GET", `/api/conversations/${conversationId}/messages`, { key });
    const inbound = messages.json.results.find((m: { direction: string }) => m.direction === "inbound");
    expect(inbound).toMatchObject({ text: "Can I pay next week? <soon> & thanks", providerMessageId: `${CHANNEL}:${event.ts}`, inReplyToCommunicationId: sentId });

    // Slack's retry of the event: signed afresh, stored once.
    const retry = await post(inboundUrl(p.id), await signed(callback(event), { headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" } }));
    expect(JSON.parse(retry.text)).toMatchObject({ received: 1, stored: 0, duplicates: 1 });
    expect(await storedIn(tenantId)).toHaveLength(1);

    const received: RecordedRequest[] = [];
    mockProviders({ [HOOK]: (req) => (received.push(req), new Response("ok")) });
    await runDelivery(events.drain(), { queue: "herald-events" });
    expect(received).toHaveLength(1);
    const payload = new Webhook(ep.secret).verify(received[0]!.body, Object.fromEntries(received[0]!.headers)) as { type: string; data: Record<string, unknown> };
    expect(payload).toMatchObject({ type: "message.received", data: { id: inbound.id, conversationId, channel: "slack", from: CHANNEL, text: "Can I pay next week? <soon> & thanks" } });

    const net = mockProviders({ [API]: json(200, { ok: true, channel: CHANNEL, ts: "1700000100.000200" }) });
    const reply = await call("POST", `/api/conversations/${conversationId}/reply`, { key, body: { content: "Yes, Friday week is fine." } });
    expect(reply.status, reply.text).toBe(201);
    await runDelivery(queue.drain().map((m) => m.body));
    expect(net.requests.map((r) => r.url)).toEqual([`${API}/api/chat.postMessage`]);
    expect(JSON.parse(net.requests[0]!.body)).toMatchObject({ channel: CHANNEL, text: "Yes, Friday week is fine.", thread_ts: SENT_TS });
    expect((await call("GET", `/api/communications/${reply.json.communication.id}`, { key })).json).toMatchObject({ status: "delivered", providerMessageId: `${CHANNEL}:1700000100.000200` });
  });

  it("a DM threads by the user the send named; a top-level message is answered in the DM, not in a thread", async () => {
    const { key } = await createTenant();
    const p = await addProvider(key, SLACK());
    // Slack opens the DM itself and answers with its id.
    const sentId = await sendFirst(key, USER, DM);
    // Slack's ts has microseconds; a second later, so it is surely after the send's createdAt.
    const event = message({ channel: DM, channel_type: "im", text: "got it", ts: nowTs(1) });
    expect((await post(inboundUrl(p.id), await signed(callback(event)))).status).toBe(200);

    const [thread] = (await call("GET", "/api/conversations?channel=slack", { key })).json.results;
    expect(thread).toMatchObject({ contact: USER });
    const messages = (await call("GET", `/api/conversations/${thread.id}/messages`, { key })).json.results;
    expect(messages.find((m: { direction: string }) => m.direction === "inbound")).toMatchObject({ providerMessageId: `${DM}:${event.ts}`, inReplyToCommunicationId: sentId });

    const net = mockProviders({ [API]: json(200, { ok: true, channel: DM, ts: "1700000200.000300" }) });
    expect((await call("POST", `/api/conversations/${thread.id}/reply`, { key, body: { content: "Thanks!" } })).status).toBe(201);
    await runDelivery(queue.drain().map((m) => m.body));
    const body = JSON.parse(net.requests[0]!.body);
    expect(body).toMatchObject({ channel: USER, text: "Thanks!" });
    expect(body).not.toHaveProperty("thread_ts");
  });

  it("refuses unsigned, forged and stale requests, a replayed signed request, and signed bodies Slack never sends", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, SLACK());
    const url = inboundUrl(p.id);
    const body = callback(message({ text: "first" }));

    expect((await post(url, await signed(body, { secret: null }))).status).toBe(401);
    const forged = await post(url, await signed(body, { secret: "not0the0secret0of0this0app" }));
    expect(forged.status).toBe(403);
    expect(forged.type).toMatch(/problem\+json/);
    // Signed correctly, but six minutes old (or ahead).
    const stale = await post(url, await signed(body, { at: -6 * 60 }));
    expect(stale.status).toBe(403);
    expect(stale.text).toContain("5 minutes");
    expect((await post(url, await signed(body, { at: 6 * 60 }))).status).toBe(403);
    // A body changed after signing.
    const good = await signed(body);
    expect((await post(url, { ...good, body: good.body.replace("first", "forged") })).status).toBe(403);
    expect(await storedIn(tenantId)).toEqual([]);

    expect((await post(url, good)).status).toBe(200);
    const replay = await post(url, good);
    expect(replay.status).toBe(409);
    expect(replay.type).toMatch(/problem\+json/);
    expect(await storedIn(tenantId)).toMatchObject([{ text: "first" }]);

    for (const junk of ["not json", JSON.stringify({ type: "block_actions" }), JSON.stringify(callback({ type: "message", channel: "general", ts: "now" }))]) {
      const res = await post(url, await signed(junk));
      expect(res.status, junk).toBe(400);
      expect(res.type).toMatch(/problem\+json/);
    }
    // A refused body claimed nothing; the same message signed at another second (a retry) is a duplicate, not a 409.
    expect(JSON.parse((await post(url, await signed(body, { at: -1 }))).text)).toMatchObject({ duplicates: 1 });
  });

  it("a config without a signingSecret accepts nothing, and one tenant's secret cannot post into another's app", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    const none = await addProvider(a.key, SLACK({ botToken: TOKEN }));
    const refused = await post(inboundUrl(none.id), await signed(callback(message())));
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("no signingSecret is configured");

    const pa = await addProvider(a.key, SLACK());
    const pb = await addProvider(b.key, SLACK({ botToken: TOKEN, signingSecret: "b0secret0of0tenant0b0123456789ab" }));
    const body = callback(message({ text: "for A" }));
    expect((await post(inboundUrl(pb.id), await signed(body))).status).toBe(403);
    expect((await post(inboundUrl(pa.id, "telegram"), await signed(body))).status).toBe(404);
    expect((await post(inboundUrl(pa.id), await signed(body))).status).toBe(200);
    expect(await storedIn(a.tenantId)).toHaveLength(1);
    expect(await storedIn(b.tenantId)).toEqual([]);
  });

  it("acknowledges and drops bots' posts (ours included), edits, joins and other events; stores an app mention once", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, SLACK());
    const ts = nowTs();
    const bot: BotMessageEvent = { type: "message", subtype: "bot_message", event_ts: ts, channel: CHANNEL, channel_type: "channel", ts, text: "Invoice INV-1", bot_id: "B0EEEEEEE5" };
    const ours = message({ bot_id: "B0EEEEEEE5", text: "our own chat.postMessage, echoed" });
    const edit: MessageChangedEvent = {
      type: "message", subtype: "message_changed", event_ts: ts, hidden: true, channel: CHANNEL, channel_type: "channel", ts,
      message: message({ text: "edited" }) as unknown as MessageChangedEvent["message"], previous_message: message() as unknown as MessageChangedEvent["previous_message"],
    };
    const join = { type: "message", subtype: "channel_join", channel: CHANNEL, user: USER, ts, text: "<@U0AAAAAAA1> has joined the channel" };
    const reaction = { type: "reaction_added", user: USER, reaction: "thumbsup", item: { type: "message", channel: CHANNEL, ts }, event_ts: ts };
    for (const event of [bot, ours, edit, join, reaction]) {
      const res = await post(inboundUrl(p.id), await signed(callback(event)));
      expect(res.status, JSON.stringify(event).slice(0, 60)).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ received: 0, stored: 0 });
    }
    expect((await post(inboundUrl(p.id), await signed({ type: "app_rate_limited", team_id: "T0CCCCCCC3", minute_rate_limited: 1518467820, api_app_id: "A0DDDDDDD4" }))).status).toBe(200);
    expect(await storedIn(tenantId)).toEqual([]);

    // Subscribed to both app_mention and message.channels, Slack posts the same message twice.
    const mention: AppMentionEvent = { type: "app_mention", channel: CHANNEL, user: USER, text: "<@U0BOTBOT01> invoice?", ts, event_ts: ts };
    expect(JSON.parse((await post(inboundUrl(p.id), await signed(callback(mention)))).text)).toMatchObject({ stored: 1 });
    expect(JSON.parse((await post(inboundUrl(p.id), await signed(callback(message({ ts, text: mention.text }))))).text)).toMatchObject({ stored: 0, duplicates: 1 });
    expect(await storedIn(tenantId)).toEqual([{ provider_message_id: `${CHANNEL}:${ts}`, text: "<@U0BOTBOT01> invoice?" }]);
  });

  it("answers Slack's url_verification with its challenge once signed", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, SLACK());
    const handshake = { token: "legacy-verification-token", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" };
    const res = await post(inboundUrl(p.id), await signed(handshake));
    expect(res.status, res.text).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    expect(res.text).toBe(handshake.challenge);
    expect((await post(inboundUrl(p.id), await signed(handshake, { secret: null }))).status).toBe(401);
    expect((await post(inboundUrl(p.id), await signed(handshake, { secret: "not0the0secret0of0this0app" }))).status).toBe(403);
    expect(await storedIn(tenantId)).toEqual([]);
  });

  it("fetches a shared file with the bot token into R2; a file on another host is kept as a reference", async () => {
    const { key } = await createTenant();
    const p = await addProvider(key, SLACK());
    const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const { requests } = mockProviders({
      [API]: (req) => (new URL(req.url).pathname === "/files-pri/T0CCCCCCC3-F0FFFFFFF6/download/receipt.png" ? new Response(PNG, { headers: { "content-type": "image/png" } }) : new Response("nope", { status: 404 })),
    });
    const file = (id: string, url: string) => ({ id, name: "receipt.png", mimetype: "image/png", size: PNG.byteLength, url_private: url, url_private_download: url });
    const event = {
      ...message({ text: "receipt attached" }),
      subtype: "file_share",
      files: [file("F0FFFFFFF6", `${API}/files-pri/T0CCCCCCC3-F0FFFFFFF6/download/receipt.png`), file("F0GGGGGGG7", "https://files.elsewhere.test/receipt.png")],
    };
    expect((await post(inboundUrl(p.id), await signed(callback(event)))).status).toBe(200);
    // Slack is answered before the file is fetched, by the media job.
    expect(requests).toEqual([]);
    await runMediaJobs(events);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);

    const [thread] = (await call("GET", "/api/conversations?channel=slack", { key })).json.results;
    const [m] = (await call("GET", `/api/conversations/${thread.id}/messages`, { key })).json.results;
    expect(m.media).toEqual([
      { url: `${API}/files-pri/T0CCCCCCC3-F0FFFFFFF6/download/receipt.png`, contentType: "image/png", size: PNG.byteLength, filename: "receipt.png", stored: true, downloadUrl: `/api/conversations/${thread.id}/messages/${m.id}/media/0` },
      { url: "https://files.elsewhere.test/receipt.png", contentType: "image/png", size: PNG.byteLength, filename: "receipt.png", stored: false, error: "the file URL is not on files.slack.com" },
    ]);
    const res = await exports.default.fetch(`https://herald.test${m.media[0].downloadUrl}`, { headers: { authorization: `Bearer ${key}` } });
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(PNG);
    expect(JSON.stringify(m)).not.toContain(TOKEN);
  });
});
