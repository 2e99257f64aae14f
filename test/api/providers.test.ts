import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts, TWILIO } from "../helpers";

describe("provider configs", () => {
  it("stores credentials encrypted and never returns them", async () => {
    const { key } = await createTenant();
    const created = await call("POST", "/api/providers", { key, body: SENDGRID({ credentials: { apiKey: "SG.super-secret-value" } }) });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ channel: "email", provider: "sendgrid", priority: 1, enabled: true, credentials: "[encrypted]" });
    expect(created.json.webhookUrl).toBe(`https://herald.test/webhooks/sendgrid/${created.json.id}`);
    expect(created.text).not.toContain("super-secret-value");

    const stored = await env.DB.prepare("SELECT credentials FROM provider_config WHERE id = ?").bind(created.json.id).first<{ credentials: string }>();
    expect(stored!.credentials).toMatch(/^v2\./);
    expect(stored!.credentials).not.toContain("super-secret");

    const listed = await call("GET", "/api/providers", { key });
    expect(listed.json.results).toHaveLength(1);
    expect(listed.text).not.toContain("super-secret-value");
  });

  it("lists each kind's credential and settings fields, as the schemas validate them", async () => {
    const { key } = await createTenant();
    const res = await call("GET", "/api/providers/kinds", { key });
    expect(res.status, res.text).toBe(200);
    const kinds = Object.fromEntries(res.json.results.map((k: { kind: string }) => [k.kind, k]));
    expect(kinds.twilio.channels).toContain("sms");
    expect(kinds.twilio.credentials).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "accountSid", type: "string", required: true, pattern: "^AC[0-9a-fA-F]{32}$" }), expect.objectContaining({ name: "apiKeySid", required: false })]),
    );
    expect(kinds.sendgrid.settings).toEqual(expect.arrayContaining([expect.objectContaining({ name: "from", required: true, format: "email" })]));
    expect(kinds.apns.credentials.find((f: { name: string }) => f.name === "privateKey")).toMatchObject({ multiline: true, required: true });
    expect(kinds.sandbox.credentials).toEqual([]);
    // Sending exactly the required fields the list names passes validation.
    const sid = "AC" + "0123456789abcdef".repeat(2);
    const made = await call("POST", "/api/providers", { key, body: { channel: "sms", provider: "twilio", credentials: { accountSid: sid, authToken: "t" }, settings: { from: "+14155550100" } } });
    expect(made.status, made.text).toBe(201);
  });

  it("validates credentials and settings against the provider, naming the field", async () => {
    const { key } = await createTenant();
    const badSid = await call("POST", "/api/providers", { key, body: TWILIO({ credentials: { accountSid: "nope", authToken: "x" } }) });
    expect(badSid.status).toBe(422);
    expect(badSid.json.errors).toEqual([expect.objectContaining({ field: "credentials.accountSid" })]);

    const badFrom = await call("POST", "/api/providers", { key, body: SENDGRID({ settings: { from: "not-an-email" } }) });
    expect(badFrom.status).toBe(422);
    expect(badFrom.json.errors[0].field).toBe("settings.from");

    // The per-call deadline is the config's own (default 10 s), within 100 ms to 60 s.
    for (const timeoutMs of [99, 60_001, 1.5, "10000"]) {
      const badTimeout = await call("POST", "/api/providers", { key, body: SENDGRID({ settings: { from: "billing@acme.test", timeoutMs } }) });
      expect(badTimeout.status, String(timeoutMs)).toBe(422);
      expect(badTimeout.json.errors[0].field).toBe("settings.timeoutMs");
    }

    // Herald calls these hosts with the tenant's credentials: never a private network or this machine.
    for (const baseUrl of ["https://10.0.0.1", "http://127.0.0.1:9000", "https://[::ffff:169.254.169.254]", "https://0x7f.1", "http://api.sendgrid.com"]) {
      const badBase = await call("POST", "/api/providers", { key, body: SENDGRID({ settings: { from: "billing@acme.test", baseUrl } }) });
      expect(badBase.status, baseUrl).toBe(422);
      expect(badBase.json.errors[0].field).toBe("settings.baseUrl");
    }

    const wrongChannel = await call("POST", "/api/providers", { key, body: SENDGRID({ channel: "sms" }) });
    expect(wrongChannel.status).toBe(422);
    expect(wrongChannel.json.errors[0].field).toBe("channel");

    const unknown = await call("POST", "/api/providers", { key, body: { channel: "email", provider: "carrier-pigeon" } });
    expect(unknown.status).toBe(422);
    expect(unknown.json.errors[0].field).toBe("provider");
  });

  it("refuses a baseUrl on a private network when updating, and never calls one stored before", async () => {
    const { key } = await createTenant();
    const p = await addProvider(key, TWILIO({ priority: 1 }));
    const patched = await call("PATCH", `/api/providers/${p.id}`, { key, body: { settings: { from: "+14155550100", baseUrl: "https://192.168.1.1" } } });
    expect(patched.status).toBe(422);
    expect(patched.json.errors[0]).toEqual({ field: "settings.baseUrl", message: "must not point at a private or local address" });

    await env.DB.prepare("UPDATE provider_config SET settings = ? WHERE id = ?").bind(JSON.stringify({ from: "+14155550100", baseUrl: "https://[64:ff9b::a00:1]" }), p.id).run();
    const net = mockProviders({ "https://[64:ff9b::a00:1]": () => new Response("{}") });
    const queue = captureQueue();
    const sent = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: "+14155550123", content: "hi" } });
    await runDelivery(queue.drain().map((m) => m.body));
    expect(net.requests).toHaveLength(0);
    const d = (await call("GET", `/api/communications/${sent.json.id}`, { key })).json;
    expect(d).toMatchObject({ status: "failed", errorMessage: expect.stringContaining("settings.baseUrl must not point at a private or local address") });
    net.spy.mockRestore();
  });

  it("has delivery use a provider as the API last left it, for sends queued before the change", async () => {
    const { key } = await createTenant();
    const primary = await addProvider(key, SENDGRID({ priority: 0, settings: { from: "a@acme.test", baseUrl: "https://primary.mock" } }));
    await addProvider(key, SENDGRID({ priority: 1, settings: { from: "b@acme.test", baseUrl: "https://secondary.mock" } }));
    const net = mockProviders({ "https://primary.mock": sendgridAccepts(), "https://secondary.mock": sendgridAccepts() });
    const queue = captureQueue();
    const send = () => call("POST", "/api/communications/send", { key, body: { channel: "email", recipientContact: "r@example.com", subject: "s", content: "c" } });
    const sent = () => net.requests.map((r) => `${new URL(r.url).host} ${r.headers.get("authorization")}`);

    // Queued (and the tenant's config cached) first, then the credentials rotate.
    await send();
    expect((await call("PATCH", `/api/providers/${primary.id}`, { key, body: { credentials: { apiKey: "SG.rotated" } } })).status).toBe(200);
    await runDelivery(queue.drain().map((m) => m.body));
    expect(sent()).toEqual(["primary.mock Bearer SG.rotated"]);

    await send();
    expect((await call("PATCH", `/api/providers/${primary.id}`, { key, body: { enabled: false } })).status).toBe(200);
    await runDelivery(queue.drain().map((m) => m.body));
    expect(sent()).toEqual(["primary.mock Bearer SG.rotated", "secondary.mock Bearer SG.test-key"]);
    net.spy.mockRestore();
  });

  it("updates priority, settings and credentials, and deletes", async () => {
    const { key } = await createTenant();
    const p = await addProvider(key, TWILIO());
    const patched = await call("PATCH", `/api/providers/${p.id}`, { key, body: { priority: 7, settings: { from: "+14155550199" }, credentials: { accountSid: TWILIO().credentials.accountSid, authToken: "rotated" } } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ priority: 7, settings: { from: "+14155550199" } });
    expect(patched.text).not.toContain("rotated");

    const invalid = await call("PATCH", `/api/providers/${p.id}`, { key, body: { settings: { baseUrl: "ftp://x" } } });
    expect(invalid.status).toBe(422);

    expect((await call("DELETE", `/api/providers/${p.id}`, { key })).status).toBe(204);
    expect((await call("GET", `/api/providers/${p.id}`, { key })).status).toBe(404);
  });

  it("keeps each tenant's configs to itself", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    const p = await addProvider(a.key, SENDGRID());
    for (const [method, body] of [["GET"], ["PATCH", { priority: 3 }], ["DELETE"]] as const) {
      const res = await call(method, `/api/providers/${p.id}`, { key: b.key, body });
      expect(res.status, method).toBe(404);
    }
    expect((await call("GET", "/api/providers", { key: b.key })).json.results).toEqual([]);
    expect((await call("GET", `/api/providers/${p.id}`, { key: a.key })).json.priority).toBe(1);
  });
});
