/**
 * Inbound media that providers only link to is fetched with the receiving config's credentials
 * and stored in R2 with its type and size; the thread lists it with a download path served by the
 * API (tenant-scoped, conversations:read). A download that is too large or fails leaves the
 * message stored and the medium marked with why. Providers are mocked at the fetch boundary.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, addProvider, call, captureEvents, createTenant, hangs, mockProviders, runDelivery, runMediaJobs, spyOnD1, TWILIO, type RecordedRequest } from "../helpers";
import { twilioHeaders } from "../signing";
import { hubSignature } from "../../src/channels/whatsapp/meta-graph";
import { MAX_MEDIA_BYTES } from "../../src/conversations/media-fetch";
import { base64Encode } from "../../src/lib/base64";
import { receiveInbound, type InboundMessage } from "../../src/conversations/inbound";
import { TWILIO_SID } from "../helpers";

let events: ReturnType<typeof captureEvents>;
beforeEach(() => {
  vi.restoreAllMocks();
  events = captureEvents();
});

const deliveriesOf = async (tenantId: string) =>
  (await env.DB.prepare("SELECT id, payload FROM webhook_delivery WHERE tenant_id = ?1 AND event_type = 'message.received'").bind(tenantId).all<{ id: string; payload: string }>()).results;

const TWILIO_API = "https://twilio.mock";
const CDN = "https://media-cdn.mock";
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6]);

/** A body of `size` bytes in 1 MiB chunks, with no Content-Length: only counting can stop it. */
const endless = (size: number) => {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(1024 * 1024, size - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n));
    },
  });
};

async function postInbound(url: string, body: string, headers: Record<string, string>) {
  const res = await exports.default.fetch(url, { method: "POST", body, headers });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function messagesOf(key: string) {
  const [thread] = (await call("GET", "/api/conversations", { key })).json.results;
  return { thread, messages: (await call("GET", `/api/conversations/${thread.id}/messages`, { key })).json.results };
}

describe("inbound media", () => {
  it("Twilio MMS: the webhook stores the message with its media pending; the media job fetches with the account's credentials (not past Twilio's redirect), stores, marks what failed, then sends message.received once", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, TWILIO());
    const endpoint = (await call("POST", "/api/webhooks", { key, body: { url: "https://hooks.acme.test/in", eventTypes: ["message.received"] } })).json;
    const media = `${TWILIO_API}/2010-04-01/Accounts/${TWILIO_SID}/Messages/MM1/Media`;
    const hook: RecordedRequest[] = [];
    const { requests } = mockProviders({
      // Twilio answers an authenticated media GET with a redirect to a short-lived CDN URL.
      [TWILIO_API]: (req) =>
        req.url.endsWith("/ME1") ? new Response(null, { status: 307, headers: { location: `${CDN}/signed/ME1?Expires=1` } })
        : req.url.endsWith("/ME2") ? new Response(endless(MAX_MEDIA_BYTES + 1), { headers: { "content-type": "video/mp4" } })
        : new Response("upstream trouble", { status: 500 }),
      [CDN]: () => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }),
      "https://hooks.acme.test": (req) => (hook.push(req), new Response("ok")),
    });
    const url = `https://herald.test/webhooks/inbound/twilio/${p.id}`;
    const form = new URLSearchParams({
      MessageSid: "MMmedia1", From: "+14155550199", To: "+14155550100", Body: "receipt attached", NumMedia: "3",
      MediaUrl0: `${media}/ME1`, MediaContentType0: "image/jpeg",
      MediaUrl1: `${media}/ME2`, MediaContentType1: "video/mp4",
      MediaUrl2: `${media}/ME3`, MediaContentType2: "image/png",
    });
    await postInbound(url, form.toString(), await twilioHeaders("twilio-auth-token", url, form));

    // Answered without a single media request; the message is there, its media pending, no event yet.
    expect(requests).toEqual([]);
    const { thread, messages } = await messagesOf(key);
    const [m] = messages;
    expect(m.text).toBe("receipt attached");
    expect(m.media).toEqual([
      { url: `${media}/ME1`, contentType: "image/jpeg", size: 0, stored: false, pending: true },
      { url: `${media}/ME2`, contentType: "video/mp4", size: 0, stored: false, pending: true },
      { url: `${media}/ME3`, contentType: "image/png", size: 0, stored: false, pending: true },
    ]);
    expect(await deliveriesOf(tenantId)).toEqual([]);
    expect(events.sent).toEqual([{ kind: "media", tenantId, messages: [{ id: m.id, to: "+14155550100" }] }]);

    // First try: ME1 stored, ME2 too large for good; ME3's 500 may pass, so it stays pending and the job is retried.
    const first = await runMediaJobs(events);
    expect(first.retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 30 });
    const auth = `Basic ${base64Encode(`${TWILIO_SID}:twilio-auth-token`)}`;
    expect(requests.filter((r) => r.url.startsWith(TWILIO_API)).map((r) => r.headers.get("authorization"))).toEqual([auth, auth, auth]);
    expect(requests.filter((r) => r.url.startsWith(CDN)).map((r) => r.headers.get("authorization"))).toEqual([null]);
    const download = `/api/conversations/${thread.id}/messages/${m.id}/media/0`;
    const stored = { url: `${media}/ME1`, contentType: "image/jpeg", size: JPEG.byteLength, stored: true, downloadUrl: download };
    const tooLarge = { url: `${media}/ME2`, contentType: "video/mp4", size: 0, stored: false, error: `larger than ${MAX_MEDIA_BYTES} bytes, left at the provider` };
    expect((await messagesOf(key)).messages[0].media).toEqual([stored, tooLarge, { url: `${media}/ME3`, contentType: "image/png", size: 0, stored: false, pending: true }]);
    expect(await deliveriesOf(tenantId)).toEqual([]);
    expect(events.sent).toEqual([]);

    // The queue's last try: only ME3 is fetched again; its error is kept and the event goes out.
    requests.length = 0;
    const last = await runDelivery(first.jobs, { queue: "herald-events", attempts: 3 });
    expect(last.result.explicitAcks).toEqual([last.batch.messages[0]!.id]);
    expect(requests.map((r) => r.url)).toEqual([`${media}/ME3`]);
    const settled = [stored, tooLarge, { url: `${media}/ME3`, contentType: "image/png", size: 0, stored: false, error: "the provider answered 500" }];
    expect((await messagesOf(key)).messages[0].media).toEqual(settled);
    const [delivery] = await deliveriesOf(tenantId);
    expect(await deliveriesOf(tenantId)).toHaveLength(1);
    expect(JSON.parse(delivery!.payload).data).toMatchObject({ id: m.id, conversationId: thread.id, channel: "sms", from: "+14155550199", to: "+14155550100", text: "receipt attached", media: settled });
    const attempts = events.drain();
    expect(attempts).toEqual([{ kind: "delivery", tenantId, deliveryId: `evt_msg_${m.id}_${endpoint.id}` }]);
    await runDelivery(attempts, { queue: "herald-events" });
    expect(hook).toHaveLength(1);
    expect(JSON.parse(hook[0]!.body).data.media).toEqual(settled);
    expect(hook[0]!.headers.get("webhook-id")).toBe(`evt_msg_${m.id}`);

    // Redelivered once more: nothing fetched, nothing logged or sent again.
    requests.length = 0;
    const again = await runDelivery(first.jobs, { queue: "herald-events", attempts: 4 });
    expect(again.result.explicitAcks).toHaveLength(1);
    expect(requests).toEqual([]);
    expect(await deliveriesOf(tenantId)).toHaveLength(1);
    expect(events.sent).toEqual([]);

    const object = await env.ATTACHMENTS.get(`${tenantId}/inbound/${m.id}/0`);
    expect(object!.httpMetadata?.contentType).toBe("image/jpeg");
    const res = await exports.default.fetch(`https://herald.test${download}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("content-disposition")).toBe("attachment");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(JPEG);

    const failed = await call("GET", `/api/conversations/${thread.id}/messages/${m.id}/media/2`, { key });
    expect(failed.status).toBe(404);
    expect(failed.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(failed.json.detail ?? failed.json.title).toMatch(/the provider answered 500/);
    expect((await call("GET", `/api/conversations/${thread.id}/messages/${m.id}/media/9`, { key })).status).toBe(404);
    const bad = await call("GET", `/api/conversations/${thread.id}/messages/${m.id}/media/x`, { key });
    expect(bad.status).toBe(422);
    expect(bad.json.errors).toEqual([{ field: "n", message: expect.any(String) }]);
  });

  it("a media host that never answers does not hold up the webhook's answer, nor STOP; the event waits for the medium", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, TWILIO());
    await call("POST", "/api/webhooks", { key, body: { url: "https://hooks.acme.test/in", eventTypes: ["message.received"] } });
    const { requests } = mockProviders({ [TWILIO_API]: hangs });
    const url = `https://herald.test/webhooks/inbound/twilio/${p.id}`;
    const medium = `${TWILIO_API}/2010-04-01/Accounts/${TWILIO_SID}/Messages/MM2/Media/ME9`;
    const form = new URLSearchParams({ MessageSid: "MMhang", From: "+14155550199", To: "+14155550100", Body: "STOP", NumMedia: "1", MediaUrl0: medium, MediaContentType0: "image/jpeg" });
    await postInbound(url, form.toString(), await twilioHeaders("twilio-auth-token", url, form));
    expect(requests).toEqual([]);
    // The keyword took effect in the webhook's request.
    const listed = await call("GET", `/api/suppressions?channel=sms&contact=${encodeURIComponent("+14155550199")}`, { key });
    expect(listed.json.results[0]).toMatchObject({ reason: "opt_out", source: "inbound" });
    const pending = (await messagesOf(key)).messages[0];
    expect(pending.media).toEqual([{ url: medium, contentType: "image/jpeg", size: 0, stored: false, pending: true }]);
    const early = await call("GET", `/api/conversations/${pending.conversationId}/messages/${pending.id}/media/0`, { key });
    expect(early.status).toBe(404);
    expect(early.json.detail ?? early.json.title).toMatch(/still being fetched/);

    // Twilio retrying the webhook meanwhile stores nothing twice but brings the job back (the first may have been lost).
    await postInbound(url, form.toString(), await twilioHeaders("twilio-auth-token", url, form));
    expect((await messagesOf(key)).messages).toHaveLength(1);
    expect(events.sent.map((e) => e.kind)).toEqual(["media", "media"]);

    // Once the host answers, the job stores the medium (once for both jobs) and only then announces the message.
    expect(await deliveriesOf(tenantId)).toEqual([]);
    const answered = mockProviders({ [TWILIO_API]: () => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }) });
    const { result } = await runMediaJobs(events);
    expect(result.explicitAcks).toHaveLength(2);
    expect(answered.requests).toHaveLength(1);
    const [m] = (await messagesOf(key)).messages;
    expect(m.media).toEqual([{ url: medium, contentType: "image/jpeg", size: JPEG.byteLength, stored: true, downloadUrl: `/api/conversations/${m.conversationId}/messages/${m.id}/media/0` }]);
    const [delivery] = await deliveriesOf(tenantId);
    expect(JSON.parse(delivery!.payload).data).toMatchObject({ keyword: "stop", media: m.media });
    expect(events.sent).toEqual([expect.objectContaining({ kind: "delivery", tenantId })]);
  });

  it("a batch takes on at most 60 pending media; the jobs past them go back on the queue as fresh messages, none of their tries spent", async () => {
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, TWILIO());
    const { requests } = mockProviders({ [TWILIO_API]: () => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }) });
    const mms = (i: number): InboundMessage => ({
      channel: "sms", providerConfigId: p.id, providerMessageId: `MMmany${i}`, from: "+14155550199", to: "+14155550100", receivedAt: new Date().toISOString(),
      media: Array.from({ length: 10 }, (_, n) => ({ contentType: "image/jpeg", size: 0, url: `${TWILIO_API}/2010-04-01/Accounts/${TWILIO_SID}/Messages/MMmany${i}/Media/ME${n}` })),
    });
    const results = [];
    for (let i = 0; i < 7; i++) results.push(...(await receiveInbound(env, tenantId, [mms(i)])));
    const { jobs, result } = await runMediaJobs(events);
    expect(jobs).toHaveLength(7);
    expect(result.explicitAcks).toHaveLength(7);
    expect(requests).toHaveLength(60);
    const last = results[6]!.messageId;
    // The seventh job was acked and sent again, not retried.
    expect(result.retryMessages).toEqual([]);
    expect(events.sent).toEqual([{ kind: "media", tenantId, messages: [{ id: last, to: "+14155550100" }] }]);
    await runMediaJobs(events);
    expect(requests).toHaveLength(70);
    const { messages } = await messagesOf(key);
    expect(messages.flatMap((m: { media: { stored: boolean }[] }) => m.media.map((x) => x.stored))).toEqual(Array(70).fill(true));
  });

  it("a media URL off Twilio's host is not fetched with the credentials", async () => {
    const { key } = await createTenant();
    const p = await addProvider(key, TWILIO());
    const { requests } = mockProviders({ "https://elsewhere.mock": () => new Response(JPEG) });
    const url = `https://herald.test/webhooks/inbound/twilio/${p.id}`;
    const form = new URLSearchParams({ MessageSid: "MMoff", From: "+14155550199", To: "+14155550100", NumMedia: "1", MediaUrl0: "https://elsewhere.mock/x.jpg", MediaContentType0: "image/jpeg" });
    await postInbound(url, form.toString(), await twilioHeaders("twilio-auth-token", url, form));
    await runMediaJobs(events);
    expect(requests).toEqual([]);
    const { messages } = await messagesOf(key);
    expect(messages[0].media).toEqual([{ url: "https://elsewhere.mock/x.jpg", contentType: "image/jpeg", size: 0, stored: false, error: "the media URL is not on Twilio's API host" }]);
  });

  it("Meta WhatsApp: the media id is looked up on Graph and downloaded with the bearer token; only the tenant's keys with conversations:read download it", async () => {
    const APP_SECRET = "0123456789abcdef0123456789abcdef";
    const { key, tenantId } = await createTenant();
    const p = await addProvider(key, { channel: "whatsapp", provider: "meta_whatsapp", priority: 1, credentials: { accessToken: "EAAG-test", appSecret: APP_SECRET }, settings: { phoneNumberId: "106540352242922", baseUrl: "https://graph.mock" } });
    const pdf = new TextEncoder().encode("%PDF-1.7\n");
    const seen: RecordedRequest[] = [];
    mockProviders({
      "https://graph.mock": (req) => {
        seen.push(req);
        if (req.url === "https://graph.mock/v23.0/doc-id") return Response.json({ url: "https://graph.mock/whatsapp_business/attachments/?mid=doc-id&ext=1&hash=x", mime_type: "application/pdf", file_size: pdf.byteLength, id: "doc-id" });
        if (req.url === "https://graph.mock/v23.0/big-id") return Response.json({ url: "https://graph.mock/whatsapp_business/attachments/?mid=big-id", mime_type: "video/mp4", file_size: MAX_MEDIA_BYTES + 1, id: "big-id" });
        if (req.url.includes("mid=doc-id")) return new Response(pdf, { headers: { "content-type": "application/pdf" } });
        return Response.json({ error: { message: "Unsupported get request", code: 100 } }, { status: 400 });
      },
    });
    const message = (id: string, type: string, medium: object) => ({ from: "16315551181", id, timestamp: "1796000000", type, [type]: medium });
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ id: "1", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550001234", phone_number_id: "106540352242922" }, messages: [
        message("wamid.doc", "document", { filename: "invoice.pdf", mime_type: "application/pdf", sha256: "x", id: "doc-id" }),
        message("wamid.big", "video", { mime_type: "video/mp4", sha256: "y", id: "big-id" }),
      ] } }] }],
    });
    await postInbound(`https://herald.test/webhooks/inbound/meta_whatsapp/${p.id}`, body, { "content-type": "application/json", "x-hub-signature-256": await hubSignature(APP_SECRET, body) });
    // One job for the webhook's batch, naming both messages.
    expect(seen).toEqual([]);
    expect(events.sent).toEqual([{ kind: "media", tenantId, messages: [{ id: expect.any(String), to: "+15550001234" }, { id: expect.any(String), to: "+15550001234" }] }]);
    // The job is one unit: one D1 round trip reads both messages, one writes both.
    const batches = spyOnD1("batch");
    await runMediaJobs(events);
    expect(batches).toHaveBeenCalledTimes(2);

    expect(seen.map((r) => r.headers.get("authorization"))).toEqual(["Bearer EAAG-test", "Bearer EAAG-test", "Bearer EAAG-test"]);
    const { thread, messages } = await messagesOf(key);
    const doc = messages.find((m: any) => m.providerMessageId === "wamid.doc");
    const big = messages.find((m: any) => m.providerMessageId === "wamid.big");
    expect(doc.media).toEqual([{ url: "meta-media:doc-id", contentType: "application/pdf", size: pdf.byteLength, filename: "invoice.pdf", stored: true, downloadUrl: `/api/conversations/${thread.id}/messages/${doc.id}/media/0` }]);
    expect(big.media).toEqual([{ url: "meta-media:big-id", contentType: "video/mp4", size: 0, stored: false, error: `larger than ${MAX_MEDIA_BYTES} bytes, left at the provider` }]);

    const path = `https://herald.test${doc.media[0].downloadUrl}`;
    const res = await exports.default.fetch(path, { headers: { authorization: `Bearer ${key}` } });
    expect(res.headers.get("content-disposition")).toBe("attachment; filename*=UTF-8''invoice.pdf");
    expect(await res.text()).toBe("%PDF-1.7\n");

    const other = await createTenant("Other");
    expect((await exports.default.fetch(path, { headers: { authorization: `Bearer ${other.key}` } })).status).toBe(404);
    const scoped = async (scopes: string[]) => (await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: scopes.join(","), scopes } })).json.apiKey as string;
    expect((await exports.default.fetch(path, { headers: { authorization: `Bearer ${await scoped(["conversations:read"])}` } })).status).toBe(200);
    expect((await exports.default.fetch(path, { headers: { authorization: `Bearer ${await scoped(["communications:read"])}` } })).status).toBe(403);
  });
});
