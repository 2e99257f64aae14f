import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, addProvider, call, captureQueue, createTenant, runDelivery } from "../helpers";

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
  for (const channel of ["email", "sms"]) await addProvider(key, { channel, provider: "sandbox" });
});

async function seedAda() {
  await call("PATCH", "/api/communication-preferences/customer/ada", { key, body: { preferredEmail: "ada@example.com", preferredPhone: "+14155550123", locale: "en" } });
  await call("POST", "/api/communication-preferences/customer/ada/consents", { key, body: { channel: "email", status: "granted", source: "signup", ip: "203.0.113.7" } });
  await call("POST", "/api/suppressions", { key, body: { channel: "sms", contact: "+14155550123", reason: "manual" } });
  const ids: string[] = [];
  for (const body of [
    { channel: "email", subject: "Invoice 1", content: "<p>Dear Ada, <a href='https://pay.test/1'>pay</a></p>" },
    { channel: "sms", content: "Your code is 123456" },
    { channel: "in_app", subject: "Hello", content: "Welcome, Ada" },
  ]) {
    const res = await call("POST", "/api/communications/send", { key, body: { recipientType: "customer", recipientId: "ada", ...body } });
    expect(res.status, res.text).toBe(201);
    ids.push(res.json.id);
  }
  await runDelivery(queue.drain().map((m) => m.body));
  return ids;
}

describe("recipient export and erasure", () => {
  it("exports everything held about a recipient", async () => {
    const ids = await seedAda();
    const res = await call("GET", "/api/recipients/customer/ada/export", { key });
    expect(res.status).toBe(200);
    expect(res.json.preferences).toMatchObject({ preferredEmail: "ada@example.com" });
    expect(res.json.consents).toEqual([expect.objectContaining({ channel: "email", status: "granted", ip: "203.0.113.7" })]);
    expect(res.json.communications.map((c: { id: string }) => c.id).sort()).toEqual([...ids].sort());
    expect(res.json.communications.every((c: { events: unknown[] }) => c.events.length > 0)).toBe(true);
    expect(res.json.suppressions).toEqual([expect.objectContaining({ contact: "+14155550123" })]);
    expect(res.json.inbox).toEqual([expect.objectContaining({ body: "Welcome, Ada" })]);
  });

  it("erases it everywhere, keeps the stats, and needs a new opt-in afterwards", async () => {
    const ids = await seedAda();
    const before = (await call("GET", "/api/communications/stats", { key })).json;

    const res = await call("DELETE", "/api/recipients/customer/ada", { key });
    expect(res.status).toBe(200);
    expect(res.json.erased).toEqual({ communications: 3, conversations: 0, conversationMedia: 0, consents: 1, suppressions: 1, devices: 0, inboxItems: 1, preferences: true });

    for (const id of ids) {
      const d = (await call("GET", `/api/communications/${id}`, { key })).json;
      expect(d).toMatchObject({ recipientContact: "[erased]", content: "[erased]", subject: null, metadata: null });
      expect(d.recipientId).toMatch(/^erased:[0-9a-f]{16}$/);
      expect(["delivered", "suppressed"]).toContain(d.status);
    }
    const leftovers = await env.DB.prepare(
      "SELECT count(*) AS n FROM communication_event WHERE tenant_id = ? AND (detail LIKE '%ada%' OR error LIKE '%ada%' OR detail LIKE '%pay.test%')",
    )
      .bind(tenantId)
      .first<{ n: number }>();
    expect(leftovers!.n).toBe(0);
    expect(JSON.stringify((await call("GET", "/api/communications?size=100", { key })).json)).not.toMatch(/ada@example|123456|Welcome, Ada/);

    const after = (await call("GET", "/api/recipients/customer/ada/export", { key })).json;
    expect(after).toMatchObject({ communications: [], consents: [], suppressions: [], inbox: [] });
    expect(after.preferences).toMatchObject({ preferredEmail: null, optedOutReason: expect.stringMatching(/^erased/) });
    expect((await call("GET", "/api/communications/stats", { key })).json).toMatchObject({ totalAccepted: before.totalAccepted, byChannel: before.byChannel });

    const again = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientType: "customer", recipientId: "ada", recipientContact: "+14155550123", content: "hi" } });
    expect(again.json).toMatchObject({ status: "suppressed", reason: expect.stringMatching(/erased/) });
  });

  it("needs its own scopes and stays within the tenant", async () => {
    await seedAda();
    const reader = (await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { scopes: ["recipients:read"] } })).json.apiKey;
    expect((await call("GET", "/api/recipients/customer/ada/export", { key: reader })).status).toBe(200);
    const refused = await call("DELETE", "/api/recipients/customer/ada", { key: reader });
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toMatch(/recipients:erase/);

    const other = await createTenant("Other");
    const theirs = await call("DELETE", "/api/recipients/customer/ada", { key: other.key });
    expect(theirs.json.erased).toMatchObject({ communications: 0, consents: 0, inboxItems: 0 });
    expect((await call("GET", "/api/recipients/customer/ada/export", { key })).json.communications).toHaveLength(3);
  });
});

describe("retention", () => {
  it("redacts finished communications older than the tenant's policy on the cron pass, keeping stats", async () => {
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import("cloudflare:test");
    const api = (await import("../../src/index")).default;
    const set = await call("PATCH", "/api/settings", { key, body: { retentionDays: 30 } });
    expect(set.json.retentionDays).toBe(30);
    const ids = await seedAda();
    const pending = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: "+14155550188", content: "later", scheduledAt: new Date(Date.now() + 3600_000).toISOString() } });
    const old = Date.now() - 31 * 86_400_000;
    await env.DB.prepare("UPDATE communication SET created_at = ? WHERE tenant_id = ?").bind(old, tenantId).run();
    await env.DB.prepare("UPDATE communication SET created_at = ? WHERE id = ?").bind(Date.now(), ids[2]).run();
    const statsBefore = (await call("GET", "/api/communications/stats?startDate=2020-01-01", { key })).json;

    const run = async () => {
      const ctx = createExecutionContext();
      await api.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
      await waitOnExecutionContext(ctx);
    };
    await run();
    await run(); // idempotent

    const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
    expect(await detail(ids[0]!)).toMatchObject({ content: "[redacted]", recipientContact: "[redacted]", subject: null, status: "delivered" });
    expect(await detail(ids[1]!)).toMatchObject({ content: "[redacted]" });
    expect((await detail(ids[2]!)).content).toBe("Welcome, Ada");
    expect((await detail(pending.json.id)).content).toBe("later");
    expect((await call("GET", "/api/communications/stats?startDate=2020-01-01", { key })).json.totalAccepted).toBe(statsBefore.totalAccepted);
  });
});
