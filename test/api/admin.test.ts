import { describe, expect, it } from "vitest";
import { ADMIN, call, createTenant } from "../helpers";

describe("admin: tenants and API keys", () => {
  it("creates a tenant and returns its first API key once", async () => {
    const res = await call("POST", "/admin/tenants", { key: ADMIN, body: { name: "Corner Shop" } });
    expect(res.status).toBe(201);
    expect(res.json.tenant).toMatchObject({ name: "Corner Shop" });
    expect(res.json.apiKey).toMatch(/^hk_[A-Za-z0-9_-]{43}$/);

    const shown = await call("GET", `/admin/tenants/${res.json.tenant.id}`, { key: ADMIN });
    expect(shown.status).toBe(200);
    expect(shown.json.apiKeys).toHaveLength(1);
    expect(JSON.stringify(shown.json)).not.toContain(res.json.apiKey);
    expect(shown.json.apiKeys[0].prefix).toBe(res.json.apiKey.slice(0, 8));
  });

  it("refuses a missing or wrong admin token with problem+json", async () => {
    const none = await call("POST", "/admin/tenants", { body: { name: "x" } });
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toBe("application/problem+json");
    expect(none.json).toMatchObject({ status: 401, code: "unauthorized" });
    expect(none.json.requestId).toBeTruthy();

    const wrong = await call("POST", "/admin/tenants", { key: "not-the-token", body: { name: "x" } });
    expect(wrong.status).toBe(401);
  });

  it("names the field when the tenant body is invalid", async () => {
    const res = await call("POST", "/admin/tenants", { key: ADMIN, body: { name: "" } });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([expect.objectContaining({ field: "name" })]);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const res = await call("POST", "/admin/tenants", { key: ADMIN, body: "{nope" });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe("bad_request");
  });

  it("mints further keys and revokes them", async () => {
    const { tenantId, key } = await createTenant();
    const minted = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: "backend" } });
    expect(minted.status).toBe(201);
    const second = minted.json.apiKey as string;

    expect((await call("GET", "/api/providers", { key: second })).status).toBe(200);
    const revoked = await call("DELETE", `/admin/tenants/${tenantId}/api-keys/${minted.json.id}`, { key: ADMIN });
    expect(revoked.status).toBe(204);
    expect((await call("GET", "/api/providers", { key: second })).status).toBe(401);
    // The first key is untouched.
    expect((await call("GET", "/api/providers", { key })).status).toBe(200);
    // Revoking twice, or another tenant's key, is not found.
    expect((await call("DELETE", `/admin/tenants/${tenantId}/api-keys/${minted.json.id}`, { key: ADMIN })).status).toBe(404);
  });

  it("404s a tenant that does not exist", async () => {
    const res = await call("GET", "/admin/tenants/nope", { key: ADMIN });
    expect(res.status).toBe(404);
    expect(res.json.code).toBe("not_found");
  });
});

describe("API authentication", () => {
  it("requires a bearer API key on /api", async () => {
    const none = await call("GET", "/api/communications");
    expect(none.status).toBe(401);
    expect(none.json.detail).toMatch(/missing API key/);
    const bad = await call("GET", "/api/communications", { key: "hk_forged" });
    expect(bad.status).toBe(401);
  });

  it("answers unknown routes with a problem, not a 500", async () => {
    const res = await call("GET", "/nowhere");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
});
