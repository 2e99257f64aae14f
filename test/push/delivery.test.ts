import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, json, mockProviders, runDelivery } from "../helpers";
import {
  APNS_RELAY,
  APNS_TOKEN,
  FCM_API,
  FCM_TOKEN,
  OAUTH,
  PUSH_SERVICE,
  apnsConfig,
  browserSubscription,
  fcmAccepts,
  fcmConfig,
  oauthAccepts,
  p8Key,
  pushAndDeliver,
  register,
  serviceAccount,
  timeline,
  webpushConfig,
} from "./support";

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
});

const created = () => new Response(null, { status: 201, headers: { location: `${PUSH_SERVICE}/m/${crypto.randomUUID()}` } });
const apnsAccepts = () => new Response(null, { status: 200, headers: { "apns-id": crypto.randomUUID() } });
const attempts = (d: { events: any[] }) => d.events.filter((e) => e.kind === "attempt");
const sentDetail = (d: { events: any[] }) => d.events.find((e) => e.kind === "status" && e.status === "sent")?.detail;
const devices = async () => (await call("GET", "/api/recipients/customer/42/devices", { key })).json.results as { id: string }[];

describe("push delivery", () => {
  it("fails with a clear reason when the recipient has no registered devices, calling nobody", async () => {
    await addProvider(key, fcmConfig(await serviceAccount()));
    const net = mockProviders({});
    const { id, retrySpies } = await pushAndDeliver(key, queue);
    expect(net.requests).toEqual([]);
    expect(retrySpies[0]).not.toHaveBeenCalled();
    expect(await timeline(key, id)).toMatchObject({ status: "failed", errorMessage: "recipient has no registered push devices" });
  });

  it("fans out to every device through the provider that serves it, one attempt entry per device", async () => {
    await addProvider(key, fcmConfig(await serviceAccount()));
    await addProvider(key, apnsConfig((await p8Key()).pem, { priority: 2 }));
    await addProvider(key, webpushConfig({ priority: 3 }));
    const android = await register(key, { platform: "android", token: FCM_TOKEN() });
    const iphone = await register(key, { platform: "ios", transport: "apns", token: APNS_TOKEN() });
    const browser = await register(key, { platform: "web", subscription: (await browserSubscription("laptop")).subscription });
    const net = mockProviders({ [OAUTH]: oauthAccepts(), [FCM_API]: fcmAccepts(), [APNS_RELAY]: apnsAccepts, [PUSH_SERVICE]: created });
    const { id } = await pushAndDeliver(key, queue);

    const calls = net.requests.map((r) => r.url).filter((u) => !u.startsWith(OAUTH)).sort();
    expect(calls).toEqual([`${APNS_RELAY}/3/device/${APNS_TOKEN()}`, `${FCM_API}/v1/projects/acme-app/messages:send`, `${PUSH_SERVICE}/send/laptop`].sort());
    const d = await timeline(key, id);
    expect(d.status).toBe("sent");
    expect(sentDetail(d)).toEqual({ devices: 3, of: 3 });
    const byDevice = Object.fromEntries(attempts(d).map((a) => [a.detail.deviceId, a.provider]));
    expect(byDevice).toEqual({ [android.id]: "fcm", [iphone.id]: "apns", [browser.id]: "webpush" });
    expect(d.events.filter((e) => e.kind === "status" && e.status === "sent")).toHaveLength(1);
  });

  it("sends to the devices that are alive and removes the dead one", async () => {
    await addProvider(key, fcmConfig(await serviceAccount()));
    const alive = await register(key, { platform: "android", token: FCM_TOKEN(1) });
    const dead = await register(key, { platform: "android", token: FCM_TOKEN(2) });
    mockProviders({
      [OAUTH]: oauthAccepts(),
      [FCM_API]: (req) =>
        JSON.parse(req.body).message.token === FCM_TOKEN(2)
          ? json(404, { error: { code: 404, status: "NOT_FOUND", message: "Requested entity was not found.", details: [{ errorCode: "UNREGISTERED" }] } })()
          : fcmAccepts()(),
    });
    const { id } = await pushAndDeliver(key, queue);
    const d = await timeline(key, id);
    expect(d.status).toBe("sent");
    expect(d.events).toContainEqual(expect.objectContaining({ kind: "note", error: expect.stringMatching(/^device removed: FCM answered 404 UNREGISTERED/), detail: expect.objectContaining({ deviceId: dead.id, removed: true }) }));
    expect((await devices()).map((x) => x.id)).toEqual([alive.id]);
  });

  it("notes a device no configured provider reaches and still sends to the others", async () => {
    await addProvider(key, webpushConfig());
    const phone = await register(key, { platform: "android", token: FCM_TOKEN() });
    await register(key, { platform: "web", subscription: (await browserSubscription()).subscription });
    mockProviders({ [PUSH_SERVICE]: created });
    const { id } = await pushAndDeliver(key, queue);
    const d = await timeline(key, id);
    expect(d.status).toBe("sent");
    expect(d.events).toContainEqual(expect.objectContaining({ kind: "note", error: "no enabled push provider reaches fcm devices", detail: { deviceId: phone.id, platform: "android" } }));
  });

  it("retries when only retryable failures remain, then sends", async () => {
    await addProvider(key, fcmConfig(await serviceAccount()));
    await addProvider(key, webpushConfig({ priority: 2 }));
    await register(key, { platform: "android", token: FCM_TOKEN() });
    await register(key, { platform: "web", subscription: (await browserSubscription()).subscription });
    let up = false;
    const net = mockProviders({
      [OAUTH]: oauthAccepts(),
      [FCM_API]: () => (up ? fcmAccepts()() : json(503, { error: { code: 503, status: "UNAVAILABLE" } })()),
      [PUSH_SERVICE]: () => (up ? created() : new Response("", { status: 502 })),
    });
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "push", recipientType: "customer", recipientId: "42", content: "hello" } });
    const [message] = queue.drain();
    const first = await runDelivery([message!.body]);
    expect(first.retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: 60 });
    expect(await timeline(key, res.json.id)).toMatchObject({ status: "queued", retryCount: 1 });
    expect(await devices()).toHaveLength(2);

    await env.DB.prepare("UPDATE communication SET next_retry_at = ? WHERE id = ?").bind(Date.now() - 1, res.json.id).run();
    up = true;
    await runDelivery([message!.body]);
    const d = await timeline(key, res.json.id);
    expect(d).toMatchObject({ status: "sent", retryCount: 1 });
    expect(sentDetail(d)).toEqual({ devices: 2, of: 2 });
    expect(net.requests.filter((r) => !r.url.startsWith(OAUTH))).toHaveLength(4);
  });

  it("does not send again to devices that accepted before the message came back", async () => {
    // One send a second, one at a time: the second device has to wait for the throttle.
    await addProvider(key, fcmConfig(await serviceAccount(), { settings: { baseUrl: FCM_API, rateLimit: { perSecond: 1, burst: 1 } } }));
    const first = await register(key, { platform: "android", token: FCM_TOKEN(1) });
    const second = await register(key, { platform: "android", token: FCM_TOKEN(2) });
    const net = mockProviders({ [OAUTH]: oauthAccepts(), [FCM_API]: fcmAccepts() });
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "push", recipientType: "customer", recipientId: "42", content: "hello" } });
    const [message] = queue.drain();
    const held = await runDelivery([message!.body]);
    expect(held.retrySpies[0]).toHaveBeenCalledWith({ delaySeconds: expect.any(Number) });
    const tokens = () => net.requests.filter((r) => r.url.startsWith(FCM_API)).map((r) => JSON.parse(r.body).message.token);
    expect(await timeline(key, res.json.id)).toMatchObject({ status: "queued", retryCount: 0 });

    await new Promise((r) => setTimeout(r, 1200));
    await env.DB.prepare("UPDATE communication SET next_retry_at = ? WHERE id = ?").bind(Date.now() - 1, res.json.id).run();
    await runDelivery([message!.body]);
    const d = await timeline(key, res.json.id);
    expect(d.status).toBe("sent");
    expect(tokens().sort()).toEqual([FCM_TOKEN(1), FCM_TOKEN(2)]);
    expect(attempts(d).map((a) => a.detail.deviceId).sort()).toEqual([first.id, second.id].sort());
    expect(sentDetail(d)).toEqual({ devices: 2, of: 2 });
  });

  it("delivers through the sandbox for any device, for demos without push accounts", async () => {
    await addProvider(key, { channel: "push", provider: "sandbox", priority: 1 });
    const device = await register(key, { platform: "ios", token: FCM_TOKEN() });
    const net = mockProviders({});
    const { id } = await pushAndDeliver(key, queue);
    expect(net.requests).toEqual([]);
    const d = await timeline(key, id);
    expect(d).toMatchObject({ status: "sent", provider: "sandbox" });
    expect(attempts(d)[0].detail.deviceId).toBe(device.id);
  });

  it("honours a recipient who switched push off", async () => {
    await addProvider(key, { channel: "push", provider: "sandbox", priority: 1 });
    await register(key, { platform: "ios", token: FCM_TOKEN() });
    const pref = await call("PATCH", "/api/communication-preferences/customer/42", { key, body: { pushEnabled: false } });
    expect(pref.status, pref.text).toBeLessThan(300);
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "push", recipientType: "customer", recipientId: "42", content: "hello" } });
    expect(res.status, res.text).toBe(201);
    expect((await timeline(key, res.json.id)).status).toBe("suppressed");
  });
});
