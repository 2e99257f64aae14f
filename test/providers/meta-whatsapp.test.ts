import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, captureQueue, json, mockProviders, TWILIO } from "../helpers";
import type { FailureKind, OutboundMessage } from "../../src/channels/types";
import { hubSignature } from "../../src/channels/whatsapp/meta-graph";
import { metaWhatsapp } from "../../src/channels/whatsapp/meta-whatsapp";
import { whatsappTemplate } from "../../src/channels/whatsapp/template";
import { PHONE_NUMBER_ID, waStatuses, waText } from "./meta-vonage-payloads";
import { detail as detailOf, freshTenant, outbound, sendAndRun } from "./support";

const TOKEN = "EAAGm0PX4ZCpsBA-test-token";
const APP_SECRET = "0123456789abcdef0123456789abcdef";
const VERIFY_TOKEN = "herald-verify-token-42";
const GRAPH = "https://graph.mock";
const MESSAGES_URL = `${GRAPH}/v23.0/${PHONE_NUMBER_ID}/messages`;

const WHATSAPP = (settings: Record<string, unknown> = {}, credentials: Record<string, unknown> = {}) => ({
  channel: "whatsapp",
  provider: "meta_whatsapp",
  priority: 1,
  credentials: { accessToken: TOKEN, appSecret: APP_SECRET, ...credentials },
  settings: { phoneNumberId: PHONE_NUMBER_ID, baseUrl: GRAPH, webhookVerifyToken: VERIFY_TOKEN, ...settings },
});
const accepts = (...ids: string[]) => {
  let n = 0;
  return () => Response.json({ messaging_product: "whatsapp", contacts: [{ input: "+14155550123", wa_id: "14155550123" }], messages: [{ id: ids[n++] ?? `wamid.extra-${n}` }] });
};
const graphError = (status: number, code: number, message: string, extra: Record<string, unknown> = {}) =>
  json(status, { error: { message, type: "OAuthException", code, fbtrace_id: "AQm3HZ1mYm2", ...extra } });

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  ({ key, queue } = await freshTenant());
});

const detail = (id: string) => detailOf(key, id);
const sendAndDeliver = (body: Record<string, unknown>) => sendAndRun(key, queue, { channel: "whatsapp", recipientContact: "+14155550123", ...body });
const signed = async (body: string, secret = APP_SECRET) => ({ "content-type": "application/json", "x-hub-signature-256": await hubSignature(secret, body) });
async function postWebhook(url: string, payload: unknown, headers?: Record<string, string>) {
  const body = JSON.stringify(payload);
  const res = await exports.default.fetch(url, { method: "POST", body, headers: headers ?? (await signed(body)) });
  return { status: res.status, json: (await res.json()) as any };
}

// The adapter alone, for what the send API cannot express yet (templates) and for error tables.
const adapter = (settings: Record<string, unknown> = {}) =>
  metaWhatsapp.create(metaWhatsapp.credentials.parse({ accessToken: TOKEN }), metaWhatsapp.settings.parse({ phoneNumberId: PHONE_NUMBER_ID, baseUrl: GRAPH, ...settings }));
const COMMUNICATION = "0194f7a2-5b1c-7d3e-8f90-123456789abc";
const message = (over: Partial<OutboundMessage> = {}) =>
  outbound({
    communicationId: COMMUNICATION,
    tenantId: "0194f7a2-0000-7000-8000-000000000001",
    channel: "whatsapp",
    to: "+14155550123",
    subject: null,
    content: "Your order A-42 has shipped",
    statusCallbackUrl: `https://herald.test/webhooks/meta_whatsapp/cfg?c=${COMMUNICATION}`,
    ...over,
  });
const base = { messaging_product: "whatsapp", recipient_type: "individual", to: "+14155550123", biz_opaque_callback_data: COMMUNICATION };

describe("the Meta WhatsApp adapter", () => {
  it("posts a text message as JSON with the Bearer token and records the wamid", async () => {
    await addProvider(key, WHATSAPP());
    const net = mockProviders({ [GRAPH]: accepts("wamid.HBgLMTQxNTU1NTAxMjMVAgARGBI") });
    const { id } = await sendAndDeliver({ content: "Your order A-42 has shipped" });

    expect(net.requests).toHaveLength(1);
    const req = net.requests[0]!;
    expect(req.url).toBe(MESSAGES_URL);
    expect(req.method).toBe("POST");
    expect(req.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({ ...base, biz_opaque_callback_data: id, type: "text", text: { body: "Your order A-42 has shipped" } });
    expect(await detail(id)).toMatchObject({ status: "sent", provider: "meta_whatsapp", providerMessageId: "wamid.HBgLMTQxNTU1NTAxMjMVAgARGBI" });
  });

  it("uses the default Graph host and the pinned version unless told otherwise", async () => {
    const net = mockProviders({ "https://graph.facebook.com": accepts("wamid.1") });
    const a = metaWhatsapp.create(metaWhatsapp.credentials.parse({ accessToken: TOKEN }), metaWhatsapp.settings.parse({ phoneNumberId: PHONE_NUMBER_ID, graphVersion: "v24.0" }));
    expect(await a.send(message())).toMatchObject({ ok: true, providerMessageId: "wamid.1" });
    expect(net.requests[0]!.url).toBe(`https://graph.facebook.com/v24.0/${PHONE_NUMBER_ID}/messages`);
  });

  it("sends an approved template with its language and components, ignoring the free text", async () => {
    const net = mockProviders({ [GRAPH]: accepts("wamid.tpl") });
    const components = [
      { type: "header", parameters: [{ type: "image", image: { link: "https://cdn.acme.test/a42.png" } }] },
      { type: "body", parameters: [{ type: "text", text: "A-42" }] },
    ];
    const outcome = await adapter().send(message({ providerTemplate: { name: "order_shipped", language: "en_US", components } }));
    expect(outcome).toMatchObject({ ok: true, providerMessageId: "wamid.tpl" });
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ ...base, type: "template", template: { name: "order_shipped", language: { code: "en_US" }, components } });
    await adapter().send(message({ providerTemplate: { name: "hello_world", language: "en" } }));
    expect(JSON.parse(net.requests[1]!.body).template).toEqual({ name: "hello_world", language: { code: "en" } });
  });

  it("reads the template from a communication's metadata, and nothing malformed", () => {
    const components = [{ type: "body", parameters: [{ type: "text", text: "A-42" }] }];
    expect(whatsappTemplate({ whatsappTemplate: { name: "order_shipped", language: "en_US", components } })).toEqual({ name: "order_shipped", language: "en_US", components });
    expect(whatsappTemplate({ whatsappTemplate: { name: "hello_world", language: "en" } })).toEqual({ name: "hello_world", language: "en" });
    for (const metadata of [null, {}, { whatsappTemplate: "hello_world" }, { whatsappTemplate: { name: "Hello World", language: "en" } }, { whatsappTemplate: { name: "x", language: "english" } }, { whatsappTemplate: { name: "x", language: "en", extra: 1 } }]) {
      expect(whatsappTemplate(metadata), JSON.stringify(metadata)).toBeUndefined();
    }
  });

  it("sends attachment URLs as media, the text as the first one's caption", async () => {
    const net = mockProviders({ [GRAPH]: accepts("wamid.img", "wamid.pdf") });
    const outcome = await adapter().send(
      message({
        attachments: [
          { filename: "parcel.jpg", fileUrl: "https://files.acme.test/parcel.jpg", mimeType: "image/jpeg" },
          { filename: "invoice-A-42.pdf", fileUrl: "https://files.acme.test/invoice.pdf", mimeType: "application/pdf" },
        ],
      }),
    );
    expect(outcome).toMatchObject({ ok: true, providerMessageId: "wamid.img" });
    expect(net.requests.map((r) => JSON.parse(r.body))).toEqual([
      { ...base, type: "image", image: { link: "https://files.acme.test/parcel.jpg", caption: "Your order A-42 has shipped" } },
      { ...base, type: "document", document: { link: "https://files.acme.test/invoice.pdf", filename: "invoice-A-42.pdf" } },
    ]);
  });

  it("picks the media type from the MIME type or, without one, the file name", async () => {
    const net = mockProviders({ [GRAPH]: accepts() });
    const files = [
      { filename: "clip.mp4", fileUrl: "https://f.test/clip.mp4" },
      { filename: "photo.PNG", fileUrl: "https://f.test/p" },
      { filename: "x", fileUrl: "https://f.test/x", mimeType: "image/webp" },
      { filename: "memo.ogg", fileUrl: "https://f.test/memo.ogg", mimeType: "audio/ogg" },
    ];
    await adapter().send(message({ content: "", attachments: files }));
    expect(net.requests.map((r) => JSON.parse(r.body).type)).toEqual(["video", "image", "document", "document"]);
  });

  it("sends text longer than a caption as its own message before the media", async () => {
    const net = mockProviders({ [GRAPH]: accepts("wamid.text", "wamid.img") });
    const long = "x".repeat(1025);
    await adapter().send(message({ content: long, attachments: [{ filename: "a.png", fileUrl: "https://f.test/a.png", mimeType: "image/png" }] }));
    expect(net.requests.map((r) => JSON.parse(r.body))).toEqual([
      { ...base, type: "text", text: { body: long } },
      { ...base, type: "image", image: { link: "https://f.test/a.png" } },
    ]);
  });

  it("refuses inline attachment content without calling Meta", async () => {
    const net = mockProviders({});
    const outcome = await adapter().send(message({ attachments: [{ filename: "a.pdf", content: btoa("%PDF-1.4") }] }));
    expect(outcome).toEqual({ ok: false, failure: "permanent", reason: expect.stringMatching(/must be given as a fileUrl/) });
    expect(net.requests).toHaveLength(0);
  });

  it("reports a later part's failure as permanent, naming what was already sent", async () => {
    let n = 0;
    mockProviders({ [GRAPH]: () => (n++ === 0 ? accepts("wamid.first")() : new Response("upstream error", { status: 502 })) });
    const outcome = await adapter().send(message({ attachments: [1, 2].map((i) => ({ filename: `${i}.pdf`, fileUrl: `https://f.test/${i}.pdf` })) }));
    expect(outcome).toMatchObject({ ok: false, failure: "permanent", httpStatus: 502, reason: "part 2 of 2 failed after wamid.first was sent: WhatsApp answered 502" });
  });
});

describe("WhatsApp error classification", () => {
  const cases: [string, number, number | undefined, FailureKind, RegExp][] = [
    ["outside the 24-hour window", 400, 131047, "permanent", /^outside WhatsApp's 24-hour window: send an approved template .*\(error 131047\)$/],
    ["the On-Premises window code", 400, 470, "permanent", /^outside WhatsApp's 24-hour window/],
    ["throughput limit", 429, 130429, "retryable", /WhatsApp answered 429 \(error 130429\): Rate limit hit/],
    ["pair rate limit", 400, 131056, "retryable", /131056/],
    ["WABA rate limit", 400, 80007, "retryable", /80007/],
    ["transient service error", 503, 131000, "retryable", /131000/],
    ["expired token", 401, 190, "provider", /190/],
    ["payment problem", 400, 131042, "provider", /131042/],
    ["permission", 403, 200, "provider", /\(error 200\)/],
    ["undeliverable recipient", 400, 131026, "permanent", /131026/],
    ["template does not exist", 404, 132001, "permanent", /132001/],
    ["template parameter count", 400, 132000, "permanent", /132000/],
    ["invalid parameter", 400, 100, "permanent", /\(error 100\)/],
    ["marketing opt-out", 400, 131050, "permanent", /131050/],
    ["an unknown code on a 5xx", 500, 999999, "retryable", /999999/],
    ["an unknown code on a 400", 400, 999999, "permanent", /999999/],
    ["no error body at all", 502, undefined, "retryable", /^WhatsApp answered 502$/],
  ];
  it.each(cases)("%s (HTTP %i, code %s) is %s", async (_name, status, code, failure, reason) => {
    mockProviders({ [GRAPH]: code === undefined ? () => new Response("<html>Bad Gateway</html>", { status }) : graphError(status, code, code === 130429 ? "Rate limit hit" : "(#code) Meta says no") });
    const outcome = await adapter().send(message());
    expect(outcome).toMatchObject({ ok: false, failure, httpStatus: status });
    expect(outcome.ok ? "" : outcome.reason).toMatch(reason);
  });

  it("prefers Meta's error_data.details, honours Retry-After, and hints six seconds for the pair limit", async () => {
    mockProviders({ [GRAPH]: json(400, { error: { message: "(#131056) Pair rate limit hit", code: 131056, error_data: { details: "Too many messages to this user" } } }) });
    expect(await adapter().send(message())).toMatchObject({ retryAfterSeconds: 6, reason: "WhatsApp answered 400 (error 131056): Too many messages to this user" });
    mockProviders({ [GRAPH]: json(429, { error: { message: "Rate limit", code: 130429 } }, { "retry-after": "30" }) });
    expect(await adapter().send(message())).toMatchObject({ failure: "retryable", retryAfterSeconds: 30 });
    mockProviders({ [GRAPH]: json(400, { error: { message: "Temporary", code: 33333, is_transient: true } }) });
    expect(await adapter().send(message())).toMatchObject({ failure: "retryable" });
  });

  it("fails a free-text send outside the window with the actionable reason, without failover or retry", async () => {
    await addProvider(key, WHATSAPP());
    await addProvider(key, { channel: "whatsapp", provider: "sandbox", priority: 2 });
    const net = mockProviders({
      [GRAPH]: graphError(400, 131047, "Re-engagement message", { error_data: { messaging_product: "whatsapp", details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number." } }),
    });
    const { id, retrySpies } = await sendAndDeliver({ content: "Are you still there?" });
    expect(net.requests).toHaveLength(1);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    const d = await detail(id);
    expect(d).toMatchObject({ status: "failed", provider: "meta_whatsapp" });
    expect(d.errorMessage).toMatch(/^outside WhatsApp's 24-hour window: send an approved template/);
    expect(d.errorMessage).toContain("metadata.whatsappTemplate");
    expect(d.events.map((e: { kind: string }) => e.kind)).not.toContain("failover");
  });

  it("fails over to the next provider when Meta rejects the token", async () => {
    await addProvider(key, WHATSAPP());
    await addProvider(key, TWILIO({ channel: "whatsapp", priority: 2 }));
    mockProviders({ [GRAPH]: graphError(401, 190, "Error validating access token: Session has expired"), "https://twilio.mock": () => Response.json({ sid: "SMabc" }, { status: 201 }) });
    const { id } = await sendAndDeliver({ content: "hi" });
    expect(await detail(id)).toMatchObject({ status: "sent", provider: "twilio" });
  });
});

describe("WhatsApp webhooks", () => {
  async function sent(content = "Your order has shipped") {
    const provider = await addProvider(key, WHATSAPP());
    mockProviders({ [GRAPH]: accepts("wamid.A42") });
    const { id } = await sendAndDeliver({ content });
    return { url: provider.webhookUrl, id };
  }

  it("moves a message through delivered and read (opened) from a signed batch", async () => {
    const { url, id } = await sent();
    const res = await postWebhook(url, waStatuses([
      { id: "wamid.A42", status: "sent", callback: id },
      { id: "wamid.A42", status: "delivered", callback: id },
      { id: "wamid.A42", status: "read", callback: id },
    ]));
    expect(res).toEqual({ status: 200, json: { received: 3, applied: 3, ignored: 0, moved: 2 } });
    const d = await detail(id);
    expect(d.status).toBe("opened");
    expect(d.deliveredAt).toBeTruthy();
    const events = d.events.filter((e: { kind: string }) => e.kind === "provider_event");
    expect(events.map((e: { detail: { event: string } }) => e.detail.event)).toEqual(["sent", "delivered", "read"]);
    expect(events[0].detail).toMatchObject({ pricingCategory: "utility" });
    expect(JSON.stringify(d.events)).not.toContain("14155550123");
  });

  it("ignores a replayed status and a late delivered after read", async () => {
    const { url, id } = await sent();
    await postWebhook(url, waStatuses([{ id: "wamid.A42", status: "read", callback: id }]));
    const again = await postWebhook(url, waStatuses([{ id: "wamid.A42", status: "read", callback: id }, { id: "wamid.A42", status: "delivered", callback: id }]));
    expect(again.json.moved).toBe(0);
    expect((await detail(id)).status).toBe("opened");
  });

  it("explains a failed status for the 24-hour window as such", async () => {
    const { url, id } = await sent();
    await postWebhook(url, waStatuses([{ id: "wamid.A42", status: "failed", callback: id, errors: [{ code: 131047, title: "Re-engagement message" }] }]));
    const d = await detail(id);
    expect(d.status).toBe("failed");
    expect(d.errorMessage).toMatch(/^outside WhatsApp's 24-hour window: send an approved template .*\(error 131047\)$/);
  });

  it("reports other failures with Meta's code and title", async () => {
    const { url, id } = await sent();
    await postWebhook(url, waStatuses([{ id: "wamid.A42", status: "failed", callback: id, errors: [{ code: 131026, title: "Message undeliverable" }] }]));
    expect(await detail(id)).toMatchObject({ status: "failed", errorMessage: "WhatsApp reported failed (error 131026: Message undeliverable)" });
  });

  it("matches by wamid when the callback data is missing or not ours", async () => {
    const { url, id } = await sent();
    await postWebhook(url, waStatuses([{ id: "wamid.A42", status: "delivered", callback: "order-42" }]));
    expect((await detail(id)).status).toBe("delivered");
    await postWebhook(url, waStatuses([{ id: "wamid.A42", status: "read" }]));
    expect((await detail(id)).status).toBe("opened");
  });

  it("rejects unsigned, forged and tampered requests", async () => {
    const { url, id } = await sent();
    const payload = waStatuses([{ id: "wamid.A42", status: "delivered", callback: id }]);
    const body = JSON.stringify(payload);
    expect((await postWebhook(url, payload, { "content-type": "application/json" })).status).toBe(401);
    expect((await postWebhook(url, payload, await signed(body, "another-apps-secret"))).status).toBe(403);
    const reserialised = JSON.stringify(payload, null, 1);
    expect((await postWebhook(url, JSON.parse(reserialised), await signed(reserialised.replace("delivered", "read")))).status).toBe(403);
    expect((await detail(id)).status).toBe("sent");
  });

  it("refuses webhooks when the config has no app secret", async () => {
    const provider = await addProvider(key, WHATSAPP({}, { appSecret: undefined }));
    const res = await postWebhook(provider.webhookUrl, waStatuses([]), { "x-hub-signature-256": "sha256=00" });
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/appSecret/);
  });

  it("answers 400 for a body that is not a WhatsApp payload", async () => {
    const { url } = await sent();
    expect((await postWebhook(url, { object: "page", entry: [] })).status).toBe(400);
  });

  it("applies STOP and START sent to the same callback URL, with the statuses", async () => {
    const { url } = await sent();
    const stop = await postWebhook(url, waText("14155550199", " Stop "));
    expect(stop.json).toEqual({ received: 0, applied: 0, ignored: 0, moved: 0 });
    const list = await call("GET", `/api/suppressions?channel=whatsapp&contact=${encodeURIComponent("+14155550199")}`, { key });
    expect(list.json.results[0]).toMatchObject({ reason: "opt_out", detail: "replied STOP", source: "inbound" });

    mockProviders({});
    const { id } = await sendAndDeliver({ recipientContact: "+14155550199", content: "x" });
    expect((await detail(id)).status).toBe("suppressed");

    await postWebhook(url, waText("14155550199", "START"));
    expect((await call("GET", "/api/suppressions?channel=whatsapp", { key })).json.results).toEqual([]);
  });

  it("does not let a forged STOP through", async () => {
    const { url } = await sent();
    const payload = waText("14155550199", "STOP");
    expect((await postWebhook(url, payload, await signed(JSON.stringify(payload), "forged"))).status).toBe(403);
    expect((await call("GET", "/api/suppressions?channel=whatsapp", { key })).json.results).toEqual([]);
  });
});

describe("Meta's webhook verification handshake (GET)", () => {
  const challenge = (webhookUrl: string, params: Record<string, string>) => call("GET", `${new URL(webhookUrl).pathname}?${new URLSearchParams(params)}`);

  it("echoes hub.challenge as text/plain when the verify token matches", async () => {
    const provider = await addProvider(key, WHATSAPP());
    const res = await challenge(provider.webhookUrl, { "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444" });
    expect(res.status).toBe(200);
    expect(res.text).toBe("1158201444");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  });

  it("answers 403 for a wrong token, another mode, a missing challenge or no configured token", async () => {
    const provider = await addProvider(key, WHATSAPP());
    const refused: Record<string, string>[] = [
      { "hub.mode": "subscribe", "hub.verify_token": "wrong-token-value", "hub.challenge": "1" },
      { "hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1" },
      { "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN },
      { "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "<script>alert(1)</script>" },
      {},
    ];
    for (const params of refused) {
      expect((await challenge(provider.webhookUrl, params)).status, JSON.stringify(params)).toBe(403);
    }
    const untokened = await addProvider(key, WHATSAPP({ webhookVerifyToken: undefined }));
    expect((await challenge(untokened.webhookUrl, { "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1" })).status).toBe(403);
  });

  it("404s unknown configs and providers without a handshake", async () => {
    const params = { "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1" };
    expect((await call("GET", `/webhooks/meta_whatsapp/nope?${new URLSearchParams(params)}`)).status).toBe(404);
    const twilio = await addProvider(key, TWILIO());
    expect((await challenge(twilio.webhookUrl, params)).status).toBe(404);
    const wa = await addProvider(key, WHATSAPP());
    expect((await call("GET", `/webhooks/meta_messenger/${wa.id}?${new URLSearchParams(params)}`)).status).toBe(404);
  });

  it("refuses an invalid config: phoneNumberId is required and must be the numeric id", async () => {
    for (const settings of [{ phoneNumberId: undefined }, { phoneNumberId: "+1 555 078 3881" }, { graphVersion: "23" }]) {
      const res = await call("POST", "/api/providers", { key, body: WHATSAPP(settings) });
      expect(res.status, JSON.stringify(settings)).toBe(422);
    }
  });
});
