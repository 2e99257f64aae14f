import { base64url, decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders } from "../helpers";
import { MAX_PUSH_PAYLOAD_BYTES } from "../../src/channels/push/message";
import { browserSubscription, PUSH_SERVICE, pushAndDeliver, register, timeline, webpushConfig } from "./support";

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
});

const created = (location = `${PUSH_SERVICE}/m/abc123`) => () => new Response(null, { status: 201, headers: { location } });
/** Like mockProviders, but keeps the body's bytes: an aes128gcm body is not text. */
function pushService(answer: () => Response) {
  const requests: { url: string; headers: Headers; body: Uint8Array }[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push({ url: request.url, headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) });
    return answer();
  });
  return requests;
}
const devices = async () => (await call("GET", "/api/recipients/customer/42/devices", { key })).json.results;
const publicJwk = (point: string) => {
  const raw = base64url.decode(point);
  return importJWK({ kty: "EC", crv: "P-256", x: base64url.encode(raw.slice(1, 33)), y: base64url.encode(raw.slice(33)) }, "ES256");
};

describe("the tenant's VAPID keys", () => {
  it("are generated when a webpush config is created without them; only the public key is shown", async () => {
    const res = await call("POST", "/api/providers", { key, body: webpushConfig() });
    expect(res.status, res.text).toBe(201);
    const publicKey = res.json.settings.vapidPublicKey as string;
    expect(base64url.decode(publicKey)).toHaveLength(65);
    expect(base64url.decode(publicKey)[0]).toBe(4);
    expect(res.json.credentials).toBe("[encrypted]");
    expect(res.text).not.toContain("vapidPrivateKey");
    expect((await call("GET", `/api/providers/${res.json.id}`, { key })).json.settings.vapidPublicKey).toBe(publicKey);
    // A second config gets its own pair.
    const other = await call("POST", "/api/providers", { key, body: webpushConfig({ priority: 2 }) });
    expect(other.json.settings.vapidPublicKey).not.toBe(publicKey);
  });

  it("are taken as given when both halves match, and refused naming the field when they do not", async () => {
    const a = await call("POST", "/api/providers", { key, body: webpushConfig() });
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
    const point = new Uint8Array([4, ...base64url.decode(jwk.x!), ...base64url.decode(jwk.y!)]);
    const given = await call("POST", "/api/providers", { key, body: webpushConfig({ credentials: { vapidPrivateKey: jwk.d }, settings: { subject: "mailto:ops@acme.test", vapidPublicKey: base64url.encode(point) } }) });
    expect(given.status, given.text).toBe(201);
    expect(given.json.settings.vapidPublicKey).toBe(base64url.encode(point));

    const mismatch = await call("POST", "/api/providers", { key, body: webpushConfig({ credentials: { vapidPrivateKey: jwk.d }, settings: { subject: "mailto:ops@acme.test", vapidPublicKey: a.json.settings.vapidPublicKey } }) });
    expect(mismatch.status).toBe(422);
    expect(mismatch.json.errors).toEqual([{ field: "settings.vapidPublicKey", message: "is not the public key of credentials.vapidPrivateKey" }]);
    const half = await call("POST", "/api/providers", { key, body: webpushConfig({ credentials: { vapidPrivateKey: jwk.d } }) });
    expect(half.status).toBe(422);
    expect(half.json.errors[0].field).toBe("settings.vapidPublicKey");
    const noSubject = await call("POST", "/api/providers", { key, body: webpushConfig({ settings: {} }) });
    expect(noSubject.status).toBe(422);
    expect(noSubject.json.errors[0].field).toBe("settings.subject");
  });

  it("keeps the pair on a settings update that repeats the public key, and refuses one that drops it", async () => {
    const cfg = await call("POST", "/api/providers", { key, body: webpushConfig() });
    const publicKey = cfg.json.settings.vapidPublicKey;
    const ok = await call("PATCH", `/api/providers/${cfg.json.id}`, { key, body: { settings: { subject: "https://acme.test/contact", vapidPublicKey: publicKey } } });
    expect(ok.status, ok.text).toBe(200);
    const dropped = await call("PATCH", `/api/providers/${cfg.json.id}`, { key, body: { settings: { subject: "https://acme.test/contact" } } });
    expect(dropped.status).toBe(422);
    expect(dropped.json.errors[0].field).toBe("settings.vapidPublicKey");
  });
});

describe("Web Push delivery", () => {
  it("posts the aes128gcm body to the subscription's endpoint with a VAPID JWT for its origin", async () => {
    const cfg = await addProvider(key, webpushConfig());
    const { settings } = (await call("GET", `/api/providers/${cfg.id}`, { key })).json;
    const { subscription } = await browserSubscription("sub-1");
    const device = await register(key, { platform: "web", subscription });
    const requests = pushService(created());
    const before = Math.floor(Date.now() / 1000);
    const { id } = await pushAndDeliver(key, queue, { priority: "high", metadata: { push: { ttlSeconds: 3600, clickUrl: "https://acme.test/o/1" } } });

    const req = requests[0]!;
    expect(requests).toHaveLength(1);
    expect(req.url).toBe(`${PUSH_SERVICE}/send/sub-1`);
    expect(req.headers.get("content-encoding")).toBe("aes128gcm");
    expect(req.headers.get("content-type")).toBe("application/octet-stream");
    expect(req.headers.get("ttl")).toBe("3600");
    expect(req.headers.get("urgency")).toBe("high");
    const [, jwt, k] = /^vapid t=([^,]+), k=(.+)$/.exec(req.headers.get("authorization")!)!;
    expect(k).toBe(settings.vapidPublicKey);
    expect(decodeProtectedHeader(jwt!)).toEqual({ typ: "JWT", alg: "ES256" });
    const { payload } = await jwtVerify(jwt!, await publicJwk(k!), { audience: PUSH_SERVICE, subject: "mailto:ops@acme.test" });
    expect(payload.exp! - before).toBeGreaterThan(0);
    expect(payload.exp! - before).toBeLessThanOrEqual(24 * 3600);

    // RFC 8188 header: salt, record size 4096, our 65-byte public key; then one record.
    const body = req.body;
    expect(new DataView(body.buffer).getUint32(16)).toBe(4096);
    expect(body[20]).toBe(65);
    expect(body[21]).toBe(4);
    const plaintext = JSON.stringify({ id, title: "Your order shipped", body: "Order 1001 is on its way", clickUrl: "https://acme.test/o/1" });
    expect(body.length).toBe(86 + new TextEncoder().encode(plaintext).length + 1 + 16);

    const d = await timeline(key, id);
    expect(d).toMatchObject({ status: "sent", provider: "webpush", providerMessageId: `${PUSH_SERVICE}/m/abc123` });
    expect(d.events.find((e) => e.kind === "attempt").detail).toEqual({ deviceId: device.id, platform: "web", providerMessageId: `${PUSH_SERVICE}/m/abc123` });
  });

  it.each([404, 410])("removes a subscription the push service answers %i for", async (status) => {
    await addProvider(key, webpushConfig());
    await register(key, { platform: "web", subscription: (await browserSubscription()).subscription });
    mockProviders({ [PUSH_SERVICE]: () => new Response("push subscription has unsubscribed or expired.", { status }) });
    const { id, retrySpies } = await pushAndDeliver(key, queue);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    expect(await timeline(key, id)).toMatchObject({ status: "failed", errorMessage: expect.stringContaining(`the push service answered ${status}`) });
    expect(await devices()).toEqual([]);
  });

  it("fails a 413 for good and retries a 429, keeping the subscription either way", async () => {
    await addProvider(key, webpushConfig());
    await register(key, { platform: "web", subscription: (await browserSubscription()).subscription });
    let status = 413;
    mockProviders({ [PUSH_SERVICE]: () => new Response("", { status, headers: status === 429 ? { "retry-after": "90" } : {} }) });
    const tooBig = await pushAndDeliver(key, queue);
    expect(tooBig.retrySpies[0]).not.toHaveBeenCalled();
    expect((await timeline(key, tooBig.id)).status).toBe("failed");
    status = 429;
    const busy = await pushAndDeliver(key, queue);
    expect(busy.retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 90 });
    expect(await devices()).toHaveLength(1);
  });
});

describe("push payload limits at accept time", () => {
  it("refuses a push whose payload would exceed what push services take, naming content", async () => {
    await addProvider(key, webpushConfig());
    const content = "é".repeat(Math.ceil(MAX_PUSH_PAYLOAD_BYTES / 2));
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "push", recipientType: "customer", recipientId: "42", content } });
    expect(res.status, res.text).toBe(422);
    expect(res.json.errors[0]).toEqual({ field: "content", message: expect.stringMatching(/push payload .* bytes; push services take at most 3993/) });
  });

  it("validates metadata.push, naming the field", async () => {
    await addProvider(key, webpushConfig());
    const res = await call("POST", "/api/communications/send", {
      key,
      body: { channel: "push", recipientType: "customer", recipientId: "42", content: "hi", metadata: { push: { clickUrl: "javascript:alert(1)", data: { from: "x" }, badge: -1 } } },
    });
    expect(res.status).toBe(422);
    expect(res.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(["metadata.push.badge", "metadata.push.clickUrl", "metadata.push.data.from"]);
  });

  it("refuses a push with a recipientContact that is not the recipient", async () => {
    await addProvider(key, webpushConfig());
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "push", recipientContact: "someone@acme.test", content: "hi" } });
    expect(res.status).toBe(422);
    expect(res.json.errors[0]).toEqual({ field: "recipientContact", message: "push sends address the recipient by recipientType and recipientId" });
  });
});
