import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import api from "../src/index";
import { AUDIT_RETENTION_DAYS } from "../src/pipeline/retention";
import { call, createTenant } from "./helpers";

const DAY = 86_400_000;

async function cron() {
  const ctx = createExecutionContext();
  await api.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("the cron pass expires what only matters for a while", () => {
  it("deletes audit entries past the audit retention and keeps newer ones", async () => {
    const { key, tenantId } = await createTenant();
    for (const contact of ["old@example.com", "new@example.com"]) {
      expect((await call("POST", "/api/suppressions", { key, body: { channel: "email", contact } })).status).toBe(201);
    }
    const { results } = await env.DB.prepare("SELECT id, detail FROM audit_log WHERE tenant_id = ? AND action = 'suppression.added' ORDER BY id").bind(tenantId).all<{ id: string }>();
    expect(results).toHaveLength(2);
    await env.DB.prepare("UPDATE audit_log SET created_at = ? WHERE id = ?").bind(Date.now() - (AUDIT_RETENTION_DAYS + 1) * DAY, results[0]!.id).run();
    await cron();
    const left = await call("GET", "/api/audit-log?action=suppression.added", { key });
    expect(left.json.results.map((e: { id: string }) => e.id)).toEqual([results[1]!.id]);
  });

  it("prunes campaign chunk records after 30 days, keeping recent ones", async () => {
    const now = Date.now();
    const insert = env.DB.prepare("INSERT INTO campaign_chunk (campaign_id, phase, after, tenant_id, communications, created_at) VALUES (?, 'main', '', 't-expiry', 200, ?)");
    await env.DB.batch([insert.bind("c-old", now - 31 * DAY), insert.bind("c-new", now - 29 * DAY)]);
    await cron();
    const { results } = await env.DB.prepare("SELECT campaign_id FROM campaign_chunk WHERE tenant_id = 't-expiry'").all<{ campaign_id: string }>();
    expect(results.map((r) => r.campaign_id)).toEqual(["c-new"]);
  });
});
