import { beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, addProvider, call, captureQueue, createTenant, SENDGRID } from "../helpers";

let key: string;
let tenantId: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  captureQueue();
  ({ key, tenantId } = await createTenant());
});

type Entry = { id: string; action: string; resourceType: string; resourceId: string | null; actor: { type: string; id: string | null; name: string }; detail: Record<string, unknown>; requestId: string };

async function auditLog(query = "", k = key): Promise<Entry[]> {
  const res = await call("GET", `/api/audit-log${query}`, { key: k });
  expect(res.status, res.text).toBe(200);
  return res.json.results;
}

const ok = async (method: string, path: string, body?: unknown) => {
  const res = await call(method, path, { key, body });
  expect(res.status, res.text).toBeLessThan(300);
  return res;
};

describe("audit log", () => {
  it("records each administrative action with who, what, which resource and the request id", async () => {
    const provider = await addProvider(key, SENDGRID());
    await ok("PATCH", `/api/providers/${provider.id}`, { credentials: { apiKey: "SG.rotated-secret" }, priority: 3 });
    await ok("DELETE", `/api/providers/${provider.id}`);
    const template = (await ok("POST", "/api/communication-templates", { name: "Code", code: "code", channel: "sms", type: "otp", bodyTemplate: "v1 {{code}}" })).json;
    await ok("PATCH", `/api/communication-templates/${template.id}`, { bodyTemplate: "v2 {{code}}" });
    await ok("POST", `/api/communication-templates/${template.id}/versions/1/activate`);
    await ok("DELETE", `/api/communication-templates/${template.id}`);
    await ok("PATCH", "/api/communication-preferences/customer/ada", { preferredEmail: "ada.lovelace@example.com", preferredPhone: "+14155550123", smsEnabled: false });
    await ok("POST", "/api/communication-preferences/customer/ada/consents", { channel: "email", status: "granted", source: "signup" });
    await ok("POST", "/api/suppressions", { channel: "email", contact: "bounce.me@example.com" });
    await ok("DELETE", "/api/suppressions/email/bounce.me@example.com");
    const hook = (await ok("POST", "/api/webhooks", { url: "https://hooks.acme.test/x?token=receiver-secret" })).json;
    await ok("PATCH", `/api/webhooks/${hook.id}`, { enabled: false });
    await ok("DELETE", `/api/webhooks/${hook.id}`);
    await ok("PATCH", "/api/settings", { retentionDays: 30 });
    const preset = (await ok("GET", "/api/triggers/presets")).json.results[0].code;
    const trigger = (await ok("POST", "/api/triggers", { preset })).json;
    await ok("PATCH", `/api/triggers/${trigger.id}`, { enabled: false });
    await ok("DELETE", `/api/triggers/${trigger.id}`);
    await ok("DELETE", "/api/recipients/customer/ada");
    const created = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: "analytics", scopes: ["stats:read"] } });
    await call("POST", `/admin/tenants/${tenantId}/api-keys/${created.json.id}/rotate`, { key: ADMIN, body: { overlapHours: 1 } });
    await call("DELETE", `/admin/tenants/${tenantId}/api-keys/${created.json.id}`, { key: ADMIN });
    await call("PATCH", `/admin/tenants/${tenantId}`, { key: ADMIN, body: { quotas: { sms: 100 } } });

    const entries = (await auditLog("?limit=200")).reverse();
    expect(entries.map((e) => e.action)).toEqual([
      "tenant.created",
      "key.created",
      "provider.created",
      "provider.updated",
      "provider.deleted",
      "template.created",
      "template.updated",
      "template.version_activated",
      "template.deleted",
      "preference.updated",
      "consent.recorded",
      "suppression.added",
      "suppression.removed",
      "webhook.created",
      "webhook.updated",
      "webhook.deleted",
      "settings.updated",
      "trigger.created",
      "trigger.updated",
      "trigger.deleted",
      "recipient.erased",
      "key.created",
      "key.rotated",
      "key.revoked",
      "tenant.limits_updated",
    ]);
    const by = (action: string) => entries.filter((e) => e.action === action);
    expect(by("provider.created")[0]).toMatchObject({
      resourceType: "provider",
      resourceId: provider.id,
      actor: { type: "api_key", name: "default" },
      detail: { channel: "email", provider: "sendgrid", credentials: ["apiKey"] },
    });
    expect(by("provider.created")[0]!.actor.id).toBeTruthy();
    expect(by("provider.updated")[0]!.detail).toEqual({ provider: "sendgrid", fields: ["credentials", "priority"] });
    expect(by("template.updated")[0]!.detail).toMatchObject({ code: "code", version: 2 });
    expect(by("key.created")[1]).toMatchObject({ actor: { type: "admin", id: null, name: "admin" }, detail: { name: "analytics", scopes: ["stats:read"] } });
    expect(by("key.revoked")[0]!.resourceId).toBe(created.json.id);
    expect(by("settings.updated")[0]!.detail).toEqual({ fields: ["retentionDays"], retentionDays: 30 });
    expect(by("webhook.created")[0]!.detail).toEqual({ host: "hooks.acme.test", eventTypes: ["*"] });
    expect(by("recipient.erased")[0]).toMatchObject({ resourceId: "customer/ada", detail: { consents: 1 } });
    for (const e of entries) expect(e.requestId).toMatch(/\S/);

    // Contacts masked, secrets and credentials absent.
    expect(by("preference.updated")[0]!.detail).toEqual({ fields: ["preferredEmail", "preferredPhone", "smsEnabled"], preferredEmail: "a***@example.com", preferredPhone: "+1415***0123" });
    expect(by("suppression.added")[0]!.resourceId).toBe("email:b***@example.com");
    const all = JSON.stringify(entries);
    for (const secret of ["SG.test-key", "SG.rotated-secret", "receiver-secret", "ada.lovelace@example.com", "+14155550123", "bounce.me@example.com", created.json.apiKey, key]) {
      expect(all).not.toContain(secret);
    }
  });

  it("filters by action, resource type and time, and pages with a cursor", async () => {
    for (const n of [1, 2, 3, 4, 5]) await ok("POST", "/api/suppressions", { channel: "sms", contact: `+1415555010${n}` });
    await ok("PATCH", "/api/settings", { tracking: "off" });

    const added = await auditLog("?action=suppression.added");
    expect(added).toHaveLength(5);
    expect(added.map((e) => e.resourceId)).toEqual([5, 4, 3, 2, 1].map((n) => `sms:+1415***010${n}`));
    expect((await auditLog("?resourceType=settings")).map((e) => e.action)).toEqual(["settings.updated"]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call("GET", `/api/audit-log?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { key });
      expect(res.json.results.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.results.map((e: Entry) => e.id));
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(8); // tenant.created, key.created, 5 suppressions, settings
    expect(new Set(seen).size).toBe(8);
    expect([...seen].sort().reverse()).toEqual(seen);

    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await auditLog(`?since=${encodeURIComponent(future)}`)).toEqual([]);
    expect(await auditLog(`?until=${encodeURIComponent(future)}&action=settings.updated`)).toHaveLength(1);
    const bad = await call("GET", "/api/audit-log?action=made.up&limit=0", { key });
    expect(bad.status).toBe(422);
    expect(bad.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(["action", "limit"]);
  });

  it("needs the audit:read scope, and shows a tenant only its own trail", async () => {
    const scoped = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: "auditor", scopes: ["audit:read"] } });
    const other = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: "sender", scopes: ["communications:send"] } });
    expect((await auditLog("", scoped.json.apiKey)).length).toBeGreaterThan(0);
    const refused = await call("GET", "/api/audit-log", { key: other.json.apiKey });
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toContain('"audit:read"');

    const beta = await createTenant("Beta");
    await call("POST", "/api/suppressions", { key: beta.key, body: { channel: "sms", contact: "+14155550999" } });
    const mine = await auditLog();
    expect(mine.some((e) => e.action === "suppression.added")).toBe(false);
    const theirs = await auditLog("", beta.key);
    expect(theirs.map((e) => e.action)).toContain("suppression.added");
    // A cursor from another tenant's page reveals nothing of theirs.
    expect((await auditLog(`?cursor=ffffffff-ffff-7fff-bfff-ffffffffffff`)).every((e) => mine.some((m) => m.id === e.id))).toBe(true);
  });

  it("lets the operator read a tenant's trail with the admin token", async () => {
    await ok("PATCH", "/api/settings", { tracking: "off" });
    const res = await call("GET", `/admin/tenants/${tenantId}/audit-log?action=settings.updated`, { key: ADMIN });
    expect(res.status).toBe(200);
    expect(res.json.results).toHaveLength(1);
    expect((await call("GET", `/admin/tenants/${tenantId}/audit-log`, { key })).status).toBe(401);
    expect((await call("GET", "/admin/tenants/no-such-tenant/audit-log", { key: ADMIN })).status).toBe(404);
  });
});
