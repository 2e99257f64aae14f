import { jwtVerify } from "jose";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, json, mockProviders, runDelivery } from "../helpers";
import { fcmFailure } from "../../src/channels/push/fcm";
import { FCM_API, FCM_TOKEN, OAUTH, fcmAccepts, fcmConfig, oauthAccepts, pushAndDeliver, register, serviceAccount, timeline } from "./support";

let key: string;
let queue: ReturnType<typeof captureQueue>;
let account: Awaited<ReturnType<typeof serviceAccount>>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
  account = await serviceAccount();
});

const fcmError = (status: number, code: string, message: string, errorCode?: string) =>
  json(status, {
    error: { code: status, message, status: code, details: errorCode ? [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }] : [] },
  });

describe("FCM HTTP v1", () => {
  it("trades a signed service-account JWT for an access token, then posts the v1 message with it", async () => {
    const config = await addProvider(key, fcmConfig(account));
    const device = await register(key, { platform: "android", token: FCM_TOKEN() });
    const net = mockProviders({ [OAUTH]: oauthAccepts("ya29.first"), [FCM_API]: () => Response.json({ name: "projects/acme-app/messages/0:1500415314455276%31bd1c9631bd1c96" }) });
    const before = Math.floor(Date.now() / 1000);
    const { id, result } = await pushAndDeliver(key, queue, {
      priority: "high",
      metadata: { push: { data: { orderId: "1001" }, clickUrl: "https://acme.test/orders/1001", imageUrl: "https://cdn.acme.test/box.png", badge: 3, sound: "default", ttlSeconds: 600 } },
    });
    expect(result.explicitAcks).toHaveLength(1);

    const [tokenReq, sendReq] = net.requests;
    expect(tokenReq!.url).toBe(`${OAUTH}/token`);
    expect(tokenReq!.method).toBe("POST");
    expect(tokenReq!.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(tokenReq!.body);
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const { payload, protectedHeader } = await jwtVerify(form.get("assertion")!, account.publicKey, { audience: `${OAUTH}/token`, issuer: account.json.client_email });
    expect(protectedHeader).toEqual({ alg: "RS256", typ: "JWT", kid: "k1" });
    expect(payload.scope).toBe("https://www.googleapis.com/auth/firebase.messaging");
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload.iat).toBeGreaterThanOrEqual(before);

    expect(sendReq!.url).toBe(`${FCM_API}/v1/projects/acme-app/messages:send`);
    expect(sendReq!.method).toBe("POST");
    expect(sendReq!.headers.get("authorization")).toBe("Bearer ya29.first");
    expect(sendReq!.headers.get("content-type")).toBe("application/json");
    const body = JSON.parse(sendReq!.body);
    const expiration = Number(body.message.apns.headers["apns-expiration"]);
    expect(expiration - before).toBeGreaterThanOrEqual(600);
    expect(expiration - before).toBeLessThan(660);
    expect(body).toEqual({
      message: {
        token: FCM_TOKEN(),
        notification: { title: "Your order shipped", body: "Order 1001 is on its way", image: "https://cdn.acme.test/box.png" },
        data: { orderId: "1001", heraldId: id, clickUrl: "https://acme.test/orders/1001" },
        android: { priority: "high", ttl: "600s", notification: { sound: "default" } },
        apns: { headers: { "apns-priority": "10", "apns-expiration": String(expiration) }, payload: { aps: { badge: 3, sound: "default" } } },
        webpush: { headers: { TTL: "600", Urgency: "high" }, fcm_options: { link: "https://acme.test/orders/1001" } },
      },
    });

    const d = await timeline(key, id);
    expect(d).toMatchObject({ status: "sent", provider: "fcm", providerConfigId: config.id, providerMessageId: "projects/acme-app/messages/0:1500415314455276%31bd1c9631bd1c96" });
    const attempts = d.events.filter((e) => e.kind === "attempt");
    expect(attempts).toEqual([expect.objectContaining({ provider: "fcm", httpStatus: 200, detail: { deviceId: device.id, platform: "android", providerMessageId: d.providerMessageId } })]);
    // Push gives no receipt: nothing waits for one.
    expect(queue.sent).toEqual([]);
  });

  it("sends a normal-priority push without optional fields", async () => {
    await addProvider(key, fcmConfig(account));
    await register(key, { platform: "web", token: FCM_TOKEN() });
    const net = mockProviders({ [OAUTH]: oauthAccepts(), [FCM_API]: fcmAccepts() });
    const { id } = await pushAndDeliver(key, queue, { subject: undefined });
    const body = JSON.parse(net.requests[1]!.body);
    expect(body.message.notification).toEqual({ body: "Order 1001 is on its way" });
    expect(body.message.data).toEqual({ heraldId: id });
    expect(body.message.android).toEqual({ priority: "normal", ttl: "86400s" });
    expect(body.message.webpush).toEqual({ headers: { TTL: "86400", Urgency: "normal" } });
  });

  it("exchanges one token for several sends and devices, and exchanges again after a 401", async () => {
    await addProvider(key, fcmConfig(account));
    await register(key, { platform: "android", token: FCM_TOKEN(1) });
    await register(key, { platform: "ios", token: FCM_TOKEN(2) });
    let unauthorized = false;
    const net = mockProviders({
      [OAUTH]: oauthAccepts(),
      [FCM_API]: (req) => (unauthorized ? fcmError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")() : fcmAccepts()()),
    });
    await pushAndDeliver(key, queue);
    await pushAndDeliver(key, queue);
    const origins = () => net.requests.map((r) => new URL(r.url).origin);
    expect(origins()).toEqual([OAUTH, FCM_API, FCM_API, FCM_API, FCM_API]);

    unauthorized = true;
    const { id } = await pushAndDeliver(key, queue);
    expect((await timeline(key, id)).status).toBe("failed");
    unauthorized = false;
    await pushAndDeliver(key, queue);
    // Each 401 dropped the cached token, so the next call traded for a new one, and the token
    // minted after the last 401 serves both devices of the next push.
    expect(origins().slice(5)).toEqual([FCM_API, OAUTH, FCM_API, OAUTH, FCM_API, FCM_API]);
  });

  it("fails with Google's reason when the service account is refused, without calling FCM", async () => {
    await addProvider(key, fcmConfig(account));
    await register(key, { platform: "android", token: FCM_TOKEN() });
    const net = mockProviders({ [OAUTH]: json(400, { error: "invalid_grant", error_description: "Invalid JWT Signature." }), [FCM_API]: fcmAccepts() });
    const { id, retrySpies } = await pushAndDeliver(key, queue);
    expect(net.requests.map((r) => new URL(r.url).origin)).toEqual([OAUTH]);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    const d = await timeline(key, id);
    expect(d.status).toBe("failed");
    expect(d.errorMessage).toContain("invalid_grant: Invalid JWT Signature.");
  });

  it("removes a device FCM calls UNREGISTERED and fails the push when it was the only one", async () => {
    await addProvider(key, fcmConfig(account));
    const device = await register(key, { platform: "android", token: FCM_TOKEN() });
    mockProviders({ [OAUTH]: oauthAccepts(), [FCM_API]: fcmError(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED") });
    const { id, retrySpies } = await pushAndDeliver(key, queue);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    const d = await timeline(key, id);
    expect(d.status).toBe("failed");
    expect(d.errorMessage).toMatch(/^every registered push device was gone \(1 removed\): FCM answered 404 UNREGISTERED/);
    expect(d.events).toContainEqual(expect.objectContaining({ kind: "note", detail: { deviceId: device.id, platform: "android", removed: true } }));
    expect((await call("GET", "/api/recipients/customer/42/devices", { key })).json.results).toEqual([]);
  });

  it("removes a device whose token FCM calls invalid, but keeps it when the message itself is invalid", async () => {
    await addProvider(key, fcmConfig(account));
    await register(key, { platform: "android", token: FCM_TOKEN() });
    let answer = fcmError(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "INVALID_ARGUMENT");
    mockProviders({ [OAUTH]: oauthAccepts(), [FCM_API]: () => answer() });
    const first = await pushAndDeliver(key, queue);
    expect((await timeline(key, first.id)).errorMessage).toBe("FCM answered 400 INVALID_ARGUMENT: Request contains an invalid argument.");
    expect((await call("GET", "/api/recipients/customer/42/devices", { key })).json.results).toHaveLength(1);

    answer = fcmError(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT");
    const second = await pushAndDeliver(key, queue);
    expect((await timeline(key, second.id)).status).toBe("failed");
    expect((await call("GET", "/api/recipients/customer/42/devices", { key })).json.results).toEqual([]);
  });

  it("retries after FCM's 429 with its Retry-After, keeping the device", async () => {
    await addProvider(key, fcmConfig(account));
    await register(key, { platform: "android", token: FCM_TOKEN() });
    mockProviders({ [OAUTH]: oauthAccepts(), [FCM_API]: json(429, { error: { code: 429, status: "RESOURCE_EXHAUSTED", details: [{ errorCode: "QUOTA_EXCEEDED" }] } }, { "retry-after": "120" }) });
    const { id, retrySpies } = await pushAndDeliver(key, queue);
    expect(retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 120 });
    expect(await timeline(key, id)).toMatchObject({ status: "queued", retryCount: 1, errorMessage: "FCM answered 429 QUOTA_EXCEEDED" });
    expect((await call("GET", "/api/recipients/customer/42/devices", { key })).json.results).toHaveLength(1);
  });

  it("fails over to another FCM project when the token belongs to it (SENDER_ID_MISMATCH)", async () => {
    const other = await serviceAccount();
    await addProvider(key, fcmConfig(account, { priority: 1 }));
    const second = await addProvider(key, fcmConfig({ ...other, json: { ...other.json, project_id: "acme-other" } }, { priority: 2 }));
    await register(key, { platform: "android", token: FCM_TOKEN() });
    const net = mockProviders({
      [OAUTH]: oauthAccepts(),
      [FCM_API]: (req) => (req.url.includes("acme-app") ? fcmError(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")() : fcmAccepts()()),
    });
    const { id } = await pushAndDeliver(key, queue);
    const d = await timeline(key, id);
    expect(d).toMatchObject({ status: "sent", providerConfigId: second.id });
    expect(d.events.map((e) => e.kind)).toEqual(["status", "attempt", "failover", "attempt", "status"]);
    expect(net.requests.filter((r) => r.url.startsWith(FCM_API))).toHaveLength(2);
  });
});

describe("FCM error mapping", () => {
  const cases: [number, string, string, string | undefined, { failure: string; deadDevice?: true }][] = [
    [404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED", { failure: "permanent", deadDevice: true }],
    [400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT", { failure: "permanent", deadDevice: true }],
    [400, "INVALID_ARGUMENT", "Invalid value at 'message.android.ttl'", "INVALID_ARGUMENT", { failure: "permanent" }],
    [403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH", { failure: "provider" }],
    [401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", "THIRD_PARTY_AUTH_ERROR", { failure: "provider" }],
    [401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", undefined, { failure: "provider" }],
    [429, "RESOURCE_EXHAUSTED", "Quota exceeded", "QUOTA_EXCEEDED", { failure: "retryable" }],
    [503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE", { failure: "retryable" }],
    [500, "INTERNAL", "Internal error encountered.", "INTERNAL", { failure: "retryable" }],
  ];
  it.each(cases)("%i %s (%s) → %o", (status, code, message, errorCode, expected) => {
    const outcome = fcmFailure(status, { error: { code: status, message, status: code, details: errorCode ? [{ errorCode }] : [] } }, null);
    expect(outcome.failure).toBe(expected.failure);
    expect(outcome.deadDevice).toBe(expected.deadDevice);
  });
});
