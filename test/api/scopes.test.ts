import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, addProvider, call, captureQueue, createTenant } from "../helpers";

let key: string;
let tenantId: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  captureQueue();
  ({ key, tenantId } = await createTenant());
  await addProvider(key, { channel: "sms", provider: "sandbox" });
});

async function keyWith(scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: scopes.join(","), scopes, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; apiKey: string; scopes: string[]; expiresAt: string | null };
}

const sms = { channel: "sms", recipientContact: "+14155550123", content: "hi" };

// [method, path, body, the one scope it needs]
const ROUTES: [string, string, unknown, string][] = [
  ["POST", "/api/communications/send", sms, "communications:send"],
  ["POST", "/api/communications/batch", { items: [sms] }, "communications:send"],
  ["GET", "/api/communications", undefined, "communications:read"],
  ["GET", "/api/communications/stats", undefined, "stats:read"],
  ["GET", "/api/usage", undefined, "stats:read"],
  ["GET", "/api/communication-templates", undefined, "templates:read"],
  ["POST", "/api/communication-templates", { name: "n", code: "c", channel: "sms", type: "t", bodyTemplate: "x" }, "templates:write"],
  ["GET", "/api/communication-preferences/customer/c1", undefined, "preferences:read"],
  ["PATCH", "/api/communication-preferences/customer/c1", { smsEnabled: false }, "preferences:write"],
  ["GET", "/api/providers", undefined, "providers:read"],
  ["POST", "/api/providers", { channel: "email", provider: "sandbox" }, "providers:write"],
  ["GET", "/api/suppressions", undefined, "suppressions:read"],
  ["POST", "/api/suppressions", { channel: "sms", contact: "+14155550199" }, "suppressions:write"],
  ["GET", "/api/webhooks", undefined, "webhooks:read"],
  ["POST", "/api/webhooks", { url: "https://hooks.acme.test/x" }, "webhooks:write"],
  ["GET", "/api/settings", undefined, "settings:read"],
  ["PATCH", "/api/settings", { tracking: "off" }, "settings:write"],
  ["POST", "/api/inbox/tokens", { recipientId: "u1" }, "inbox:tokens"],
  ["GET", "/api/audit-log", undefined, "audit:read"],
];

describe("scoped API keys", () => {
  it.each(ROUTES)("%s %s needs %s: allowed with it alone, 403 naming it without", async (method, path, body, scope) => {
    const only = await keyWith([scope]);
    const allowed = await call(method, path, { key: only.apiKey, body });
    expect(allowed.status, allowed.text).toBeLessThan(400);

    const other = await keyWith([scope === "stats:read" ? "templates:read" : "stats:read"]);
    const refused = await call(method, path, { key: other.apiKey, body });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ code: "forbidden", detail: `this API key lacks the scope "${scope}"`, errors: [{ field: "scope", message: `requires ${scope}` }] });
  });

  it("closes unlisted routes to scoped keys and opens everything to full-access keys", async () => {
    const scoped = await keyWith(["communications:read"]);
    expect((await call("GET", "/api/no-such-thing", { key: scoped.apiKey })).status).toBe(403);
    expect((await call("GET", "/api/no-such-thing", { key })).status).toBe(404);
  });

  it("refuses unknown scopes when minting", async () => {
    const res = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { scopes: ["everything"] } });
    expect(res.status).toBe(422);
    expect(res.json.errors[0].field).toBe("scopes.0");
  });
});

describe("key lifetime", () => {
  it("stops accepting a key after it expires, and records when a key was last used", async () => {
    const short = await keyWith(["*"], { expiresInHours: 1 });
    expect(Date.parse(short.expiresAt!) - Date.now()).toBeGreaterThan(3500_000);
    expect((await call("GET", "/api/providers", { key: short.apiKey })).status).toBe(200);
    const shown = await call("GET", `/admin/tenants/${tenantId}`, { key: ADMIN });
    expect(shown.json.apiKeys.find((k: { id: string }) => k.id === short.id).lastUsedAt).toBeTruthy();

    const expired = await keyWith(["*"], { expiresInHours: 1 });
    await env.DB.prepare("UPDATE api_key SET expires_at = ? WHERE id = ?").bind(Date.now() - 1000, expired.id).run();
    expect((await call("GET", "/api/providers", { key: expired.apiKey })).status).toBe(401);
  });

  it("rotates a key: the new one works at once, the old one for the overlap only", async () => {
    const old = await keyWith(["communications:read"]);
    expect((await call("GET", "/api/communications", { key: old.apiKey })).status).toBe(200);
    const rotated = await call("POST", `/admin/tenants/${tenantId}/api-keys/${old.id}/rotate`, { key: ADMIN, body: { overlapHours: 2 } });
    expect(rotated.status).toBe(201);
    expect(rotated.json).toMatchObject({ scopes: ["communications:read"], replaces: { id: old.id } });
    expect(Date.parse(rotated.json.replaces.expiresAt) - Date.now()).toBeGreaterThan(7000_000);
    expect((await call("GET", "/api/communications", { key: rotated.json.apiKey })).status).toBe(200);
    expect((await call("GET", "/api/communications", { key: old.apiKey })).status).toBe(200);

    const again = await call("POST", `/admin/tenants/${tenantId}/api-keys/${rotated.json.id}/rotate`, { key: ADMIN, body: { overlapHours: 0 } });
    expect((await call("GET", "/api/communications", { key: rotated.json.apiKey })).status).toBe(401);
    expect((await call("GET", "/api/communications", { key: again.json.apiKey })).status).toBe(200);
    expect((await call("POST", `/admin/tenants/${tenantId}/api-keys/nope/rotate`, { key: ADMIN, body: {} })).status).toBe(404);
  });
});
