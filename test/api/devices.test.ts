import { beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, call, createTenant } from "../helpers";
import { requiredScope } from "../../src/api/scopes";
import { APNS_TOKEN, browserSubscription, FCM_TOKEN } from "../push/support";

let key: string;
let tenantId: string;
beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key, tenantId } = await createTenant());
});

const DEVICES = "/api/recipients/customer/42/devices";

describe("registering push devices", () => {
  it("registers an FCM token (201), refreshes it on re-registration (200, same id) and lists it once", async () => {
    const first = await call("POST", DEVICES, { key, body: { platform: "android", token: FCM_TOKEN() } });
    expect(first.status, first.text).toBe(201);
    expect(first.json).toMatchObject({ recipientType: "customer", recipientId: "42", platform: "android", transport: "fcm", token: FCM_TOKEN() });
    const again = await call("POST", DEVICES, { key, body: { platform: "android", token: FCM_TOKEN() } });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(first.json.id);
    expect(again.json.createdAt).toBe(first.json.createdAt);
    expect(Date.parse(again.json.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(first.json.lastSeenAt));
    const list = await call("GET", DEVICES, { key });
    expect(list.status).toBe(200);
    expect(list.json.results.map((d: { id: string }) => d.id)).toEqual([first.json.id]);
  });

  it("registers an APNs token and a Web Push subscription as PushSubscription.toJSON() gives it", async () => {
    const apns = await call("POST", DEVICES, { key, body: { platform: "ios", transport: "apns", token: APNS_TOKEN() } });
    expect(apns.status, apns.text).toBe(201);
    expect(apns.json.transport).toBe("apns");
    const { subscription } = await browserSubscription();
    const web = await call("POST", DEVICES, { key, body: { platform: "web", subscription } });
    expect(web.status, web.text).toBe(201);
    expect(web.json).toMatchObject({ platform: "web", transport: "webpush", endpoint: subscription.endpoint });
    // The subscription's keys are needed to encrypt, never shown back.
    expect(web.text).not.toContain(subscription.keys.auth);
    expect((await call("GET", DEVICES, { key })).json.results).toHaveLength(2);
  });

  it("moves a token to the recipient who registers it last: same phone, another sign-in", async () => {
    const a = await call("POST", DEVICES, { key, body: { platform: "ios", token: FCM_TOKEN(7) } });
    const b = await call("POST", "/api/recipients/customer/43/devices", { key, body: { platform: "ios", token: FCM_TOKEN(7) } });
    expect(b.status).toBe(200);
    expect(b.json).toMatchObject({ id: a.json.id, recipientId: "43" });
    expect((await call("GET", DEVICES, { key })).json.results).toEqual([]);
  });

  it("deletes a device, and answers 404 for one that is not there", async () => {
    const d = await call("POST", DEVICES, { key, body: { platform: "android", token: FCM_TOKEN() } });
    expect((await call("DELETE", `${DEVICES}/${d.json.id}`, { key })).status).toBe(204);
    expect((await call("GET", DEVICES, { key })).json.results).toEqual([]);
    const again = await call("DELETE", `${DEVICES}/${d.json.id}`, { key });
    expect(again.status).toBe(404);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
  });

  it("keeps the 20 most recently seen devices of a recipient", async () => {
    for (let n = 1; n <= 22; n++) await call("POST", DEVICES, { key, body: { platform: "android", token: FCM_TOKEN(n) } });
    const tokens = (await call("GET", DEVICES, { key })).json.results.map((d: { token: string }) => d.token);
    expect(tokens).toHaveLength(20);
    expect(tokens).toContain(FCM_TOKEN(22));
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["no token or subscription", { platform: "android" }, "token"],
    ["an unknown platform", { platform: "blackberry", token: FCM_TOKEN() }, "platform"],
    ["both a token and a subscription", { platform: "web", token: FCM_TOKEN(), subscription: { endpoint: "https://push.mock/x", keys: { p256dh: "A".repeat(87), auth: "A".repeat(22) } } }, "token"],
    ["a subscription from a phone", { platform: "android", subscription: { endpoint: "https://push.mock/x", keys: { p256dh: "A".repeat(87), auth: "A".repeat(22) } } }, "subscription"],
    ["an APNs token on Android", { platform: "android", transport: "apns", token: APNS_TOKEN() }, "transport"],
    ["an APNs token that is not hex", { platform: "ios", transport: "apns", token: "not-hex" }, "token"],
    ["a short FCM token", { platform: "android", token: "abc" }, "token"],
    ["a plain-http endpoint", { platform: "web", subscription: { endpoint: "http://push.mock/x", keys: { p256dh: "A".repeat(87), auth: "A".repeat(22) } } }, "subscription.endpoint"],
    ["an endpoint on a private network", { platform: "web", subscription: { endpoint: "https://10.0.0.8/x", keys: { p256dh: "A".repeat(87), auth: "A".repeat(22) } } }, "subscription.endpoint"],
    ["a short p256dh key", { platform: "web", subscription: { endpoint: "https://push.mock/x", keys: { p256dh: "AAAA", auth: "A".repeat(22) } } }, "subscription.keys.p256dh"],
    ["a missing auth secret", { platform: "web", subscription: { endpoint: "https://push.mock/x", keys: { p256dh: "A".repeat(87) } } }, "subscription.keys.auth"],
    ["an unknown field", { platform: "android", token: FCM_TOKEN(), colour: "red" }, "(body)"],
  ];
  it.each(invalid)("refuses %s with a 422 naming the field", async (_name, body, field) => {
    const res = await call("POST", DEVICES, { key, body });
    expect(res.status, res.text).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(res.json.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it("refuses a recipient type that is not a slug", async () => {
    const res = await call("POST", "/api/recipients/Customer!/42/devices", { key, body: { platform: "android", token: FCM_TOKEN() } });
    expect(res.status).toBe(422);
    expect(res.json.errors[0].field).toBe("type");
  });
});

describe("devices belong to their tenant", () => {
  it("another tenant neither sees, deletes nor takes over a device", async () => {
    const mine = await call("POST", DEVICES, { key, body: { platform: "android", token: FCM_TOKEN() } });
    const other = await createTenant("Other");
    expect((await call("GET", DEVICES, { key: other.key })).json.results).toEqual([]);
    expect((await call("DELETE", `${DEVICES}/${mine.json.id}`, { key: other.key })).status).toBe(404);
    // The same token under another tenant is that tenant's own device.
    const theirs = await call("POST", DEVICES, { key: other.key, body: { platform: "android", token: FCM_TOKEN() } });
    expect(theirs.status).toBe(201);
    expect(theirs.json.id).not.toBe(mine.json.id);
    expect((await call("GET", DEVICES, { key })).json.results.map((d: { id: string }) => d.id)).toEqual([mine.json.id]);
  });
});

describe("scopes for devices", () => {
  it("maps device paths to recipients:read and devices:write, and leaves the rest of /api/recipients alone", () => {
    expect(requiredScope("GET", "/api/recipients/customer/42/devices")).toBe("recipients:read");
    expect(requiredScope("POST", "/api/recipients/customer/42/devices")).toBe("devices:write");
    expect(requiredScope("DELETE", "/api/recipients/customer/42/devices/abc")).toBe("devices:write");
    expect(requiredScope("DELETE", "/api/recipients/customer/42")).toBe("recipients:erase");
    expect(requiredScope("GET", "/api/recipients/customer/42/export")).toBe("recipients:read");
    expect(requiredScope("POST", "/api/recipients/customer/42/devices/abc/extra")).toBe("recipients:erase");
  });

  it("lets a devices:write key register and delete, but not erase; a recipients:read key only list", async () => {
    const mint = async (scopes: string[]) => (await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: scopes.join(), scopes } })).json.apiKey as string;
    const writer = await mint(["devices:write"]);
    const reader = await mint(["recipients:read"]);
    const d = await call("POST", DEVICES, { key: writer, body: { platform: "android", token: FCM_TOKEN() } });
    expect(d.status).toBe(201);
    expect((await call("POST", DEVICES, { key: reader, body: { platform: "android", token: FCM_TOKEN(2) } })).status).toBe(403);
    expect((await call("GET", DEVICES, { key: reader })).status).toBe(200);
    expect((await call("DELETE", "/api/recipients/customer/42", { key: writer })).status).toBe(403);
    expect((await call("DELETE", `${DEVICES}/${d.json.id}`, { key: writer })).status).toBe(204);
  });
});

describe("devices in data-protection requests", () => {
  it("exports the recipient's devices and erases them", async () => {
    const d = await call("POST", DEVICES, { key, body: { platform: "android", token: FCM_TOKEN() } });
    const exported = await call("GET", "/api/recipients/customer/42/export", { key });
    expect(exported.status, exported.text).toBe(200);
    expect(exported.json.devices).toEqual([expect.objectContaining({ id: d.json.id, token: FCM_TOKEN() })]);
    const erased = await call("DELETE", "/api/recipients/customer/42", { key });
    expect(erased.status, erased.text).toBe(200);
    expect(erased.json.erased.devices).toBe(1);
    expect((await call("GET", DEVICES, { key })).json.results).toEqual([]);
  });
});
