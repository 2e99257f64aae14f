import { beforeEach, describe, expect, it, vi } from "vitest";
import { call, captureQueue, createTenant } from "../helpers";

let key: string;
let tenantId: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  captureQueue();
  ({ key, tenantId } = await createTenant());
});

async function mint(body: Record<string, unknown>, k = key) {
  const res = await call("POST", "/api/keys", { key: k, body });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; apiKey: string; name: string; scopes: string[]; prefix: string };
}

const list = async (k = key) => {
  const res = await call("GET", "/api/keys", { key: k });
  expect(res.status, res.text).toBe(200);
  return res.json.results as { id: string; name: string; scopes: string[]; current: boolean; revokedAt: string | null; expiresAt: string | null }[];
};

describe("tenant API keys: /api/keys", () => {
  it("mints a key whose secret is shown once and which works with just its scopes", async () => {
    const minted = await mint({ name: "analytics", scopes: ["stats:read"] });
    expect(minted.apiKey).toMatch(/^hk_/);
    expect(minted.prefix).toBe(minted.apiKey.slice(0, 8));

    const keys = await list();
    expect(keys.map((k) => k.name)).toEqual(["default", "analytics"]);
    expect(keys.find((k) => k.current)?.name).toBe("default");
    expect(JSON.stringify(keys)).not.toContain(minted.apiKey);

    expect((await call("GET", "/api/communications/stats", { key: minted.apiKey })).status).toBe(200);
    expect((await call("GET", "/api/providers", { key: minted.apiKey })).status).toBe(403);
  });

  it("rotates a key: a new secret with the same scopes, the old one lives on for the overlap", async () => {
    const minted = await mint({ name: "backend", scopes: ["providers:read"] });
    const rotated = await call("POST", `/api/keys/${minted.id}/rotate`, { key, body: { overlapHours: 0 } });
    expect(rotated.status, rotated.text).toBe(201);
    expect(rotated.json).toMatchObject({ name: "backend", scopes: ["providers:read"], replaces: { id: minted.id } });
    expect(rotated.json.apiKey).not.toBe(minted.apiKey);
    expect((await call("GET", "/api/providers", { key: rotated.json.apiKey })).status).toBe(200);
    // No overlap: the old secret stops at once.
    expect((await call("GET", "/api/providers", { key: minted.apiKey })).status).toBe(401);

    // Without a body the overlap is the default day.
    const again = await call("POST", `/api/keys/${rotated.json.id}/rotate`, { key });
    expect(again.status, again.text).toBe(201);
    expect(Date.parse(again.json.replaces.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
  });

  it("revokes a key, and says so clearly when it is the calling key", async () => {
    const other = await mint({ name: "temp", scopes: ["stats:read"] });
    const revoked = await call("DELETE", `/api/keys/${other.id}`, { key });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json).toMatchObject({ id: other.id, revokedCallingKey: false });
    expect(revoked.json.revokedAt).toBeTruthy();
    expect((await call("GET", "/api/communications/stats", { key: other.apiKey })).status).toBe(401);
    expect((await call("DELETE", `/api/keys/${other.id}`, { key })).status).toBe(404);

    const me = (await list()).find((k) => k.current)!;
    const self = await call("DELETE", `/api/keys/${me.id}`, { key });
    expect(self.status, self.text).toBe(200);
    expect(self.json.revokedCallingKey).toBe(true);
    expect(self.json.detail).toMatch(/making this request/);
    expect((await call("GET", "/api/keys", { key })).status).toBe(401);
  });

  it("needs the keys:manage scope", async () => {
    const reader = await mint({ name: "reader", scopes: ["stats:read", "audit:read"] });
    const res = await call("GET", "/api/keys", { key: reader.apiKey });
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/keys:manage/);
    expect((await call("POST", "/api/keys", { key: reader.apiKey, body: { name: "x", scopes: ["stats:read"] } })).status).toBe(403);
  });

  it("refuses to grant, rotate or revoke scopes the calling key does not hold", async () => {
    const manager = await mint({ name: "manager", scopes: ["keys:manage", "stats:read"] });
    // Within its own scopes it may mint.
    const sub = await mint({ name: "sub", scopes: ["stats:read"] }, manager.apiKey);
    expect(sub.scopes).toEqual(["stats:read"]);
    // It is told what it may grant; a full-access key may grant every scope.
    expect((await call("GET", "/api/keys", { key: manager.apiKey })).json.grantableScopes).toEqual(["stats:read", "keys:manage"]);
    expect((await call("GET", "/api/keys", { key })).json.grantableScopes).toContain("*");

    for (const scopes of [["*"], ["providers:write"], ["stats:read", "communications:send"]]) {
      const res = await call("POST", "/api/keys", { key: manager.apiKey, body: { name: "up", scopes } });
      expect(res.status, JSON.stringify(scopes)).toBe(403);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.json.errors).toEqual([expect.objectContaining({ field: "scopes" })]);
    }
    // The default scope is `*`: leaving scopes out is no way around it.
    expect((await call("POST", "/api/keys", { key: manager.apiKey, body: { name: "default scopes" } })).status).toBe(403);

    // Rotating the full-access key would hand its secret to a lesser key; revoking it is refused too.
    const full = (await list()).find((k) => k.name === "default")!;
    expect((await call("POST", `/api/keys/${full.id}/rotate`, { key: manager.apiKey, body: {} })).status).toBe(403);
    expect((await call("DELETE", `/api/keys/${full.id}`, { key: manager.apiKey })).status).toBe(403);
    expect((await call("GET", "/api/providers", { key })).status).toBe(200);
    expect((await list()).filter((k) => k.name === "up" || k.name === "default scopes")).toEqual([]);
  });

  it("keeps tenants apart: another tenant's keys are not found and not listed", async () => {
    const other = await createTenant("Other");
    const theirs = await mint({ name: "theirs", scopes: ["stats:read"] }, other.key);
    expect((await list()).map((k) => k.id)).not.toContain(theirs.id);
    expect((await call("POST", `/api/keys/${theirs.id}/rotate`, { key, body: {} })).status).toBe(404);
    expect((await call("DELETE", `/api/keys/${theirs.id}`, { key })).status).toBe(404);
    expect((await call("GET", "/api/communications/stats", { key: theirs.apiKey })).status).toBe(200);
    expect(tenantId).not.toBe(other.tenantId);
  });

  it("names the field of an invalid key request", async () => {
    const res = await call("POST", "/api/keys", { key, body: { name: "x", scopes: ["everything"] } });
    expect(res.status).toBe(422);
    expect(res.json.errors[0].field).toBe("scopes.0");
    const none = await call("POST", "/api/keys", { key, body: { scopes: [] } });
    expect(none.status).toBe(422);
  });

  it("writes each change to the audit log, never the secret", async () => {
    const minted = await mint({ name: "audited", scopes: ["stats:read"] });
    const rotated = await call("POST", `/api/keys/${minted.id}/rotate`, { key, body: {} });
    await call("DELETE", `/api/keys/${rotated.json.id}`, { key });
    const log = await call("GET", "/api/audit-log?resourceType=key", { key });
    expect(log.json.results.map((e: { action: string }) => e.action).slice(0, 3)).toEqual(["key.revoked", "key.rotated", "key.created"]);
    expect(log.json.results[0].actor).toMatchObject({ type: "api_key", name: "default" });
    expect(log.text).not.toContain(minted.apiKey);
    expect(log.text).not.toContain(rotated.json.apiKey);
  });
});
