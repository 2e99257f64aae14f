import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery } from "../helpers";
import { vonage } from "../../src/channels/sms/vonage";
import { vonageSignature, type SignatureMethod } from "../../src/channels/sms/vonage-webhook";
import type { FailureKind, OutboundMessage } from "../../src/channels/types";
import { vonageInbound, vonageReceipt } from "./meta-vonage-payloads";

const VONAGE_API = "https://vonage.mock";
const SIG_SECRET = "vonage-signature-secret-0123456789";
const VONAGE = (credentials: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) => ({
  channel: "sms",
  provider: "vonage",
  priority: 1,
  credentials: { apiKey: "abcd1234", apiSecret: "vonage-api-secret", signatureSecret: SIG_SECRET, ...credentials },
  settings: { from: "+14155550100", baseUrl: VONAGE_API, signatureMethod: "sha256", ...settings },
});
const accepts = (...ids: string[]) => () =>
  Response.json({
    "message-count": String(ids.length),
    messages: ids.map((id) => ({ to: "14155550123", "message-id": id, status: "0", "remaining-balance": "3.14159265", "message-price": "0.00790000", network: "310090" })),
  });
const refuses = (status: string, text: string) => () => Response.json({ "message-count": "1", messages: [{ status, "error-text": text }] });

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
});

const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
async function sendAndDeliver(body: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: "+14155550123", content: "Your code is 123456", ...body } });
  expect(res.status, res.text).toBe(201);
  const run = await runDelivery(queue.drain().map((m) => m.body));
  return { id: res.json.id as string, ...run };
}

/** Signs webhook fields as Vonage does, adding its `timestamp` and `nonce`. */
async function sign(fields: Record<string, string>, opts: { secret?: string; method?: SignatureMethod; at?: number } = {}) {
  const params: Record<string, string> = { ...fields, timestamp: String(Math.floor((opts.at ?? Date.now()) / 1000)), nonce: crypto.randomUUID() };
  params.sig = await vonageSignature(params, opts.secret ?? SIG_SECRET, opts.method ?? "sha256");
  return params;
}
async function postForm(url: string, params: Record<string, string>) {
  const res = await exports.default.fetch(url, { method: "POST", body: new URLSearchParams(params).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  return { status: res.status, text: await res.text() };
}

const adapter = () =>
  vonage.create(vonage.credentials.parse({ apiKey: "abcd1234", apiSecret: "vonage-api-secret" }), vonage.settings.parse({ from: "Acme", baseUrl: VONAGE_API }));
const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  communicationId: "0194f7a2-5b1c-7d3e-8f90-123456789abc",
  tenantId: "0194f7a2-0000-7000-8000-000000000001",
  channel: "sms",
  to: "+447700900123",
  recipientName: null,
  subject: null,
  content: "Your code is 123456",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/vonage/cfg?c=0194f7a2-5b1c-7d3e-8f90-123456789abc",
  ...over,
});

describe("the Vonage SMS adapter", () => {
  it("posts the form with key and secret, digits-only numbers, our client-ref and the receipt URL", async () => {
    const p = await addProvider(key, VONAGE());
    const net = mockProviders({ [VONAGE_API]: accepts("0A0000001234567B") });
    const { id } = await sendAndDeliver();

    const req = net.requests[0]!;
    expect(req.url).toBe(`${VONAGE_API}/sms/json`);
    expect(req.method).toBe("POST");
    expect(req.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(req.headers.get("authorization")).toBeNull();
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      api_key: "abcd1234",
      api_secret: "vonage-api-secret",
      from: "14155550100",
      to: "14155550123",
      text: "Your code is 123456",
      type: "text",
      callback: `${p.webhookUrl}?c=${id}`,
      "client-ref": id,
    });
    expect(await detail(id)).toMatchObject({ status: "sent", provider: "vonage", providerMessageId: "0A0000001234567B" });
  });

  it("sends non-GSM text as unicode and keeps an alphanumeric sender as it is", async () => {
    const net = mockProviders({ [VONAGE_API]: accepts("m1") });
    await adapter().send(message({ content: "Café ☕ à 10h" }));
    await adapter().send(message({ content: "Prix: 10€ [promo]" }));
    const forms = net.requests.map((r) => new URLSearchParams(r.body));
    expect(forms.map((f) => f.get("type"))).toEqual(["unicode", "text"]);
    expect(forms[0]!.get("text")).toBe("Café ☕ à 10h");
    expect(forms[0]!.get("from")).toBe("Acme");
    expect(forms[0]!.get("to")).toBe("447700900123");
  });

  it("takes the first segment's id when a long message is split", async () => {
    mockProviders({ [VONAGE_API]: accepts("part-1", "part-2", "part-3") });
    expect(await adapter().send(message({ content: "x".repeat(400) }))).toMatchObject({ ok: true, providerMessageId: "part-1" });
  });

  const cases: [string, string, FailureKind][] = [
    ["1", "Throttled", "retryable"],
    ["5", "Internal Error", "retryable"],
    ["13", "Communication Failed", "retryable"],
    ["4", "Bad Credentials", "provider"],
    ["8", "Partner account barred", "provider"],
    ["9", "Partner quota exceeded", "provider"],
    ["15", "Illegal Sender Address - rejected", "provider"],
    ["29", "Non White-listed Destination - rejected", "provider"],
    ["2", "Missing to param", "permanent"],
    ["3", "Invalid to param", "permanent"],
    ["6", "Invalid Message", "permanent"],
    ["7", "Number barred", "permanent"],
    ["12", "Message too long", "permanent"],
    ["33", "Number De-activated", "permanent"],
  ];
  it.each(cases)("status %s (%s), answered with HTTP 200, is %s", async (status, text, failure) => {
    mockProviders({ [VONAGE_API]: refuses(status, text) });
    expect(await adapter().send(message())).toMatchObject({ ok: false, failure, httpStatus: 200, reason: `Vonage refused the message (status ${status}: ${text})` });
  });

  it("treats a partly accepted long message as permanent: the accepted parts are out", async () => {
    mockProviders({ [VONAGE_API]: () => Response.json({ "message-count": "2", messages: [{ status: "0", "message-id": "p1" }, { status: "1", "error-text": "Throttled" }] }) });
    expect(await adapter().send(message({ content: "y".repeat(300) }))).toMatchObject({
      ok: false,
      failure: "permanent",
      reason: "Vonage refused part 2 of 2 after accepting the others (status 1: Throttled)",
    });
  });

  it("classifies HTTP errors and empty answers by status", async () => {
    mockProviders({ [VONAGE_API]: () => new Response("oops", { status: 503, headers: { "retry-after": "7" } }) });
    expect(await adapter().send(message())).toMatchObject({ ok: false, failure: "retryable", httpStatus: 503, retryAfterSeconds: 7 });
    mockProviders({ [VONAGE_API]: () => new Response("denied", { status: 401 }) });
    expect(await adapter().send(message())).toMatchObject({ ok: false, failure: "provider", httpStatus: 401 });
    mockProviders({ [VONAGE_API]: () => Response.json({ "message-count": "0", messages: [] }) });
    expect(await adapter().send(message())).toMatchObject({ ok: false, failure: "retryable" });
  });

  it("fails over on bad credentials and stops on a refused number", async () => {
    await addProvider(key, VONAGE());
    await addProvider(key, { channel: "sms", provider: "sandbox", priority: 2 });
    mockProviders({ [VONAGE_API]: refuses("4", "Bad Credentials") });
    const first = await sendAndDeliver();
    expect(await detail(first.id)).toMatchObject({ status: "delivered", provider: "sandbox" });

    mockProviders({ [VONAGE_API]: refuses("33", "Number De-activated") });
    const second = await sendAndDeliver();
    expect(second.retrySpies[0]).not.toHaveBeenCalled();
    expect(await detail(second.id)).toMatchObject({ status: "failed", provider: "vonage", errorMessage: "Vonage refused the message (status 33: Number De-activated)" });
  });
});

describe("Vonage signatures", () => {
  // From the Vonage Python SDK's tests: md5(query + secret).
  it("matches the published md5hash vector", async () => {
    expect(await vonageSignature({ a: "1", b: "2", timestamp: "1461605396", sig: "ignored" }, "secret", "md5hash")).toBe("6af838ef94998832dbfc29020b564830");
  });

  // Computed with Python's hmac module over "&a=1&b=2&timestamp=1461605396".
  it.each([
    ["md5", "c15c21ced558c93a226c305f58f902f2"],
    ["sha1", "3e19a4e6880fdc2c1426bfd0587c98b9532f0210"],
    ["sha256", "a321e824b9b816be7c3f28859a31749a098713d39f613c80d455bbaffae1cd24"],
    ["sha512", "812a18f76680fa0fe1b8bd9ee1625466ceb1bd96242e4d050d2cfd9a7b40166c63ed26ec9702168781b6edcf1633db8ff95af9341701004eec3fcf9550572ee8"],
  ] as const)("matches an independent HMAC-%s", async (method, expected) => {
    expect(await vonageSignature({ timestamp: "1461605396", b: "2", a: "1" }, "secret", method)).toBe(expected);
  });

  it("replaces & and = inside values, as Vonage does", async () => {
    expect(await vonageSignature({ text: "a&b=c" }, "s", "md5hash")).toBe(await vonageSignature({ text: "a_b_c" }, "s", "md5hash"));
  });
});

describe("Vonage delivery receipts", () => {
  async function sent(settings: Record<string, unknown> = {}) {
    const p = await addProvider(key, VONAGE({}, settings));
    mockProviders({ [VONAGE_API]: accepts("0A0000001234567B") });
    const { id } = await sendAndDeliver();
    return { url: `${p.webhookUrl}?c=${id}`, id };
  }

  it("moves a message to delivered from a signed form receipt, matched by client-ref", async () => {
    const { url, id } = await sent();
    const res = await postForm(url, await sign(vonageReceipt("0A0000001234567B", "delivered", { "client-ref": id })));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ received: 1, applied: 1, ignored: 0, moved: 1 });
    const d = await detail(id);
    expect(d.status).toBe("delivered");
    expect(JSON.stringify(d.events)).not.toContain("14155550123");
  });

  it("reads JSON receipts, and matches a later part's receipt by client-ref", async () => {
    const { url, id } = await sent();
    const params = await sign(vonageReceipt("0A0000001234567C", "delivered", { "client-ref": id }));
    const res = await exports.default.fetch(url.split("?")[0]!, { method: "POST", body: JSON.stringify(params), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect((await detail(id)).status).toBe("delivered");
  });

  it("works with the MD5 hash method too (Workers' MD5 digest)", async () => {
    const { url, id } = await sent({ signatureMethod: "md5hash" });
    const res = await postForm(url, await sign(vonageReceipt("0A0000001234567B", "delivered"), { method: "md5hash" }));
    expect(res.status).toBe(200);
    expect((await detail(id)).status).toBe("delivered");
  });

  it("fails the message and suppresses a number Vonage reports as no longer active", async () => {
    const { url, id } = await sent();
    await postForm(url, await sign(vonageReceipt("0A0000001234567B", "failed", { "err-code": "3", "client-ref": id })));
    expect(await detail(id)).toMatchObject({ status: "failed", errorMessage: "Vonage reported failed (err-code 3)" });
    const s = await call("GET", `/api/suppressions?channel=sms&contact=${encodeURIComponent("+14155550123")}`, { key });
    expect(s.json.results[0]).toMatchObject({ reason: "invalid", detail: "number no longer active", source: "vonage" });
  });

  it("does not suppress on a temporary failure", async () => {
    const { url, id } = await sent();
    await postForm(url, await sign(vonageReceipt("0A0000001234567B", "expired", { "err-code": "2" })));
    expect((await detail(id)).status).toBe("failed");
    expect((await call("GET", "/api/suppressions?channel=sms", { key })).json.results).toEqual([]);
  });

  it("rejects unsigned, forged, tampered and stale receipts", async () => {
    const { url, id } = await sent();
    const fields = vonageReceipt("0A0000001234567B", "delivered");
    expect((await postForm(url, fields)).status).toBe(401);
    expect((await postForm(url, await sign(fields, { secret: "someone-else" }))).status).toBe(403);
    const tampered = { ...(await sign(vonageReceipt("0A0000001234567B", "failed"))), status: "delivered" };
    expect((await postForm(url, tampered)).status).toBe(403);
    const stale = await postForm(url, await sign(fields, { at: Date.now() - 10 * 60_000 }));
    expect(stale.status).toBe(403);
    expect(stale.text).toMatch(/replay window/);
    expect((await postForm(url, await sign(fields, { method: "sha512" }))).status).toBe(403);
    expect((await detail(id)).status).toBe("sent");
  });

  it("refuses receipts for a config without a signature secret", async () => {
    const p = await addProvider(key, VONAGE({ signatureSecret: undefined }));
    const res = await postForm(p.webhookUrl, await sign(vonageReceipt("x", "delivered")));
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/signatureSecret/);
  });
});

describe("Vonage inbound SMS", () => {
  it("applies a signed STOP and START at /inbound", async () => {
    const p = await addProvider(key, VONAGE());
    const inbound = `${p.webhookUrl}/inbound`;
    expect((await postForm(inbound, await sign(vonageInbound("14155550199", "STOP")))).status).toBe(200);
    const s = await call("GET", `/api/suppressions?channel=sms&contact=${encodeURIComponent("+14155550199")}`, { key });
    expect(s.json.results[0]).toMatchObject({ reason: "opt_out", detail: "replied STOP", source: "inbound" });

    mockProviders({});
    const { id } = await sendAndDeliver({ recipientContact: "+14155550199" });
    expect((await detail(id)).status).toBe("suppressed");

    await postForm(inbound, await sign(vonageInbound("14155550199", "start")));
    expect((await call("GET", "/api/suppressions?channel=sms", { key })).json.results).toEqual([]);
  });

  it("rejects an unsigned or forged STOP", async () => {
    const p = await addProvider(key, VONAGE());
    const inbound = `${p.webhookUrl}/inbound`;
    expect((await postForm(inbound, vonageInbound("14155550199", "STOP"))).status).toBe(401);
    expect((await postForm(inbound, await sign(vonageInbound("14155550199", "STOP"), { secret: "forged" }))).status).toBe(403);
    expect((await call("GET", "/api/suppressions?channel=sms", { key })).json.results).toEqual([]);
  });
});
