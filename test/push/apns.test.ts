import { jwtVerify, decodeProtectedHeader } from "jose";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, json, mockProviders } from "../helpers";
import { apnsFailure } from "../../src/channels/push/apns";
import { APNS_RELAY, APNS_TOKEN, apnsConfig, p8Key, pushAndDeliver, register, timeline } from "./support";

let key: string;
let queue: ReturnType<typeof captureQueue>;
let p8: Awaited<ReturnType<typeof p8Key>>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
  p8 = await p8Key();
});

const apnsAccepts = (id = "8b7e5a1c-2f4d-4b6a-9c3e-1d2f3a4b5c6d") => () => new Response(null, { status: 200, headers: { "apns-id": id } });
const devices = async () => (await call("GET", "/api/recipients/customer/42/devices", { key })).json.results;

describe("APNs through an HTTP/2 relay", () => {
  it("posts /3/device/{token} to the relay with a provider JWT, the topic and the alert payload", async () => {
    const config = await addProvider(key, apnsConfig(p8.pem));
    const device = await register(key, { platform: "ios", transport: "apns", token: APNS_TOKEN() });
    const net = mockProviders({ [APNS_RELAY]: apnsAccepts() });
    const before = Math.floor(Date.now() / 1000);
    const { id } = await pushAndDeliver(key, queue, { metadata: { push: { badge: 1, sound: "chime.caf", data: { orderId: "1001" }, clickUrl: "https://acme.test/o/1001", ttlSeconds: 0 } } });

    const req = net.requests[0]!;
    expect(net.requests).toHaveLength(1);
    expect(req.url).toBe(`${APNS_RELAY}/3/device/${APNS_TOKEN()}`);
    expect(req.method).toBe("POST");
    const auth = req.headers.get("authorization")!;
    expect(auth).toMatch(/^bearer /);
    const jwt = auth.slice("bearer ".length);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: "ES256", kid: "KEY1234567" });
    const { payload } = await jwtVerify(jwt, p8.publicKey, { issuer: "ABCDE12345" });
    expect(Object.keys(payload).sort()).toEqual(["iat", "iss"]);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(req.headers.get("apns-topic")).toBe("com.acme.app");
    expect(req.headers.get("apns-push-type")).toBe("alert");
    expect(req.headers.get("apns-priority")).toBe("5");
    expect(req.headers.get("apns-expiration")).toBe("0");
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      aps: { alert: { title: "Your order shipped", body: "Order 1001 is on its way" }, badge: 1, sound: "chime.caf" },
      heraldId: id,
      data: { orderId: "1001" },
      clickUrl: "https://acme.test/o/1001",
    });
    const d = await timeline(key, id);
    expect(d).toMatchObject({ status: "sent", provider: "apns", providerConfigId: config.id, providerMessageId: "8b7e5a1c-2f4d-4b6a-9c3e-1d2f3a4b5c6d" });
    expect(d.events.find((e) => e.kind === "attempt").detail).toEqual({ deviceId: device.id, platform: "ios", providerMessageId: d.providerMessageId });
  });

  it("marks urgent pushes priority 10 with an expiry, and reuses one provider JWT across sends", async () => {
    await addProvider(key, apnsConfig(p8.pem));
    await register(key, { platform: "ios", transport: "apns", token: APNS_TOKEN(1) });
    await register(key, { platform: "ios", transport: "apns", token: APNS_TOKEN(2) });
    const net = mockProviders({ [APNS_RELAY]: apnsAccepts() });
    const now = Math.floor(Date.now() / 1000);
    await pushAndDeliver(key, queue, { priority: "urgent" });
    await pushAndDeliver(key, queue);
    expect(net.requests).toHaveLength(4);
    expect(net.requests[0]!.headers.get("apns-priority")).toBe("10");
    expect(Number(net.requests[0]!.headers.get("apns-expiration")) - now).toBeGreaterThanOrEqual(86_400);
    expect(new Set(net.requests.map((r) => r.headers.get("authorization"))).size).toBe(1);
  });

  it.each([
    [410, "Unregistered"],
    [400, "BadDeviceToken"],
  ])("removes the device on %i %s", async (status, reason) => {
    await addProvider(key, apnsConfig(p8.pem));
    await register(key, { platform: "ios", transport: "apns", token: APNS_TOKEN() });
    mockProviders({ [APNS_RELAY]: json(status, { reason }) });
    const { id, retrySpies } = await pushAndDeliver(key, queue);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    expect(await timeline(key, id)).toMatchObject({ status: "failed", errorMessage: expect.stringContaining(`APNs answered ${status} ${reason}`) });
    expect(await devices()).toEqual([]);
  });

  it("mints a new provider JWT after a 403 ExpiredProviderToken", async () => {
    await addProvider(key, apnsConfig(p8.pem));
    await register(key, { platform: "ios", transport: "apns", token: APNS_TOKEN() });
    let refuse = true;
    const net = mockProviders({ [APNS_RELAY]: () => (refuse ? json(403, { reason: "ExpiredProviderToken" })() : apnsAccepts()()) });
    const first = await pushAndDeliver(key, queue);
    expect((await timeline(key, first.id)).status).toBe("failed");
    expect(await devices()).toHaveLength(1);
    refuse = false;
    // iat is in seconds: wait for the next one so the new token differs.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await pushAndDeliver(key, queue);
    expect((await timeline(key, second.id)).status).toBe("sent");
    expect(net.requests[1]!.headers.get("authorization")).not.toBe(net.requests[0]!.headers.get("authorization"));
  });

  it("retries a 429 and a 503, keeping the device", async () => {
    await addProvider(key, apnsConfig(p8.pem));
    await register(key, { platform: "ios", transport: "apns", token: APNS_TOKEN() });
    mockProviders({ [APNS_RELAY]: json(503, { reason: "ServiceUnavailable" }) });
    const { id, retrySpies } = await pushAndDeliver(key, queue);
    expect(retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 60 });
    expect(await timeline(key, id)).toMatchObject({ status: "queued", errorMessage: "APNs answered 503 ServiceUnavailable" });
    expect(await devices()).toHaveLength(1);
  });

  it("refuses a config without the relay, saying why", async () => {
    const res = await call("POST", "/api/providers", { key, body: apnsConfig(p8.pem, { settings: { bundleId: "com.acme.app" } }) });
    expect(res.status).toBe(422);
    expect(res.json.errors.map((e: { field: string }) => e.field)).toEqual(["settings.relayUrl"]);
  });

  it.each([
    [410, "Unregistered", "permanent", true],
    [400, "BadDeviceToken", "permanent", true],
    [400, "DeviceTokenNotForTopic", "permanent", undefined],
    [413, "PayloadTooLarge", "permanent", undefined],
    [403, "InvalidProviderToken", "provider", undefined],
    [429, "TooManyRequests", "retryable", undefined],
    [500, "InternalServerError", "retryable", undefined],
  ] as const)("maps %i %s to %s", (status, reason, failure, dead) => {
    const outcome = apnsFailure(status, reason, null);
    expect(outcome.failure).toBe(failure);
    expect(outcome.deadDevice).toBe(dead);
  });
});
