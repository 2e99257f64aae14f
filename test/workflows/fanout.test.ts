/**
 * Audience triggers: one call with an `audienceId` becomes a fan-out on the campaigns queue whose
 * pages start one JOURNEYS_BULK run per member, once, however often a page is delivered; the
 * cancellation key stops members not reached yet; the progress route shows it.
 */
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { CampaignMessage } from "../../src/campaigns/message";
import type { FanoutMessage } from "../../src/workflows/fanout";
import { call, createTenant } from "../helpers";
import { audience, captureQueues, cron, fanOut, people, runChunks, type Queues } from "../campaigns/fixtures";
import { createWorkflow } from "./helpers";

let key: string;
let tenantId: string;
let q: Queues;

beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key, tenantId } = await createTenant());
  q = captureQueues();
});

// Runs sleep after their first check: enough to count and cancel them without sending 250 messages.
const slow = { name: "Onboarding", steps: [{ type: "delay", id: "wait", duration: "1h" }, { type: "send", id: "hello", channel: "in_app", content: "Hello {{name}}" }] };

async function triggerAudience(apiKey: string, workflowKey: string, body: Record<string, unknown>) {
  const res = await call("POST", `/api/workflows/${workflowKey}/trigger`, { key: apiKey, body });
  expect(res.status, res.text).toBe(202);
  return res.json as { workflowKey: string; version: number; fanout: { id: string; state: string; total: number; started: number; failed: number; pending: number } };
}

const fanoutOf = async (apiKey: string, workflowKey: string, id: string) => {
  const res = await call("GET", `/api/workflows/${workflowKey}/fanouts/${id}`, { key: apiKey });
  expect(res.status, res.text).toBe(200);
  return res.json;
};

const runRows = async (workflowKey: string) =>
  (await env.DB.prepare("SELECT id, status, binding, recipient_id FROM workflow_run WHERE tenant_id = ? AND workflow_key = ? ORDER BY recipient_id").bind(tenantId, workflowKey).all<{ id: string; status: string; binding: string; recipient_id: string }>()).results;

describe("audience triggers", () => {
  it("an audience of 250 members gets 250 bulk runs, one per member, and the fan-out says so", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS_BULK);
    await createWorkflow("onboarding", key, { key: "onboarding", ...slow });
    const aud = await audience(key, people(250));
    const res = await triggerAudience(key, "onboarding", { audienceId: aud, data: { plan: "pro" } });
    expect(res.fanout).toMatchObject({ state: "running", total: 250, started: 0, pending: 250 });

    const ran = await fanOut(q);
    expect(ran.length).toBeGreaterThan(0);
    const rows = await runRows("onboarding");
    expect(rows).toHaveLength(250);
    expect(new Set(rows.map((r) => r.recipient_id)).size).toBe(250);
    expect(rows.every((r) => r.binding === "JOURNEYS_BULK")).toBe(true);
    expect(await wf.get()).toHaveLength(250);
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ state: "completed", total: 250, started: 250, failed: 0, pending: 0 });
    // The runs list shows them like any other runs.
    const listed = await call("GET", "/api/workflows/onboarding/runs?limit=100", { key });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.json.results).toHaveLength(100);
    expect(listed.json.results[0]).toMatchObject({ workflowKey: "onboarding", data: { plan: "pro" } });
    // A cap, not a measure: 250 Workflows instances start in workerd, slow on a shared machine.
  }, 120_000);

  it("a redelivered page starts no run twice, and a page whose createBatch failed is retried to completion", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS_BULK);
    await createWorkflow("onboarding", key, { key: "onboarding", ...slow });
    const aud = await audience(key, people(120));
    const res = await triggerAudience(key, "onboarding", { audienceId: aud, idempotencyKey: "spring-2026" });
    const [first] = q.chunks.drain();

    // Workflows refuses the second createBatch of the page (100 + 20): the message is retried.
    const real = env.JOURNEYS_BULK.createBatch.bind(env.JOURNEYS_BULK);
    vi.spyOn(env.JOURNEYS_BULK, "createBatch")
      .mockImplementationOnce(real)
      .mockRejectedValueOnce(new Error("instance creation rate exceeded"));
    const failed = await runChunks([first!.body as unknown as CampaignMessage]);
    expect(failed.explicitAcks).toEqual([]);
    expect(failed.retryMessages).toHaveLength(1);
    expect(await runRows("onboarding")).toHaveLength(120);
    expect(await wf.get()).toHaveLength(100);
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ state: "running", started: 0 });

    // The retry finds the stored runs and creates only the 20 missing instances.
    vi.restoreAllMocks();
    q = captureQueues();
    await runChunks([first!.body as unknown as CampaignMessage]);
    await fanOut(q);
    expect(await runRows("onboarding")).toHaveLength(120);
    expect(await wf.get()).toHaveLength(120);
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ state: "completed", started: 120 });

    // Delivered once more after it finished: stale, nothing new.
    const again = await runChunks([first!.body as unknown as CampaignMessage]);
    expect(again.explicitAcks).toHaveLength(1);
    expect(await runRows("onboarding")).toHaveLength(120);
    expect(await wf.get()).toHaveLength(120);

    // The page's runs stored but its cursor write lost: the redelivery finds them, starts none.
    await env.DB.prepare("UPDATE workflow_fanout SET cursor_type = NULL, cursor_id = NULL, started = 0, state = 'running' WHERE id = ?").bind(res.fanout.id).run();
    await runChunks([first!.body as unknown as CampaignMessage]);
    expect(await runRows("onboarding")).toHaveLength(120);
    expect(await wf.get()).toHaveLength(120);
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ started: 120 });

    // The trigger replayed with its idempotency key answers with the same fan-out.
    const replay = await triggerAudience(key, "onboarding", { audienceId: aud, idempotencyKey: "spring-2026" });
    expect(replay.fanout.id).toBe(res.fanout.id);
 }, 120_000);

  it("a later page that fails hands on from the cursor instead of being retried as stale", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS_BULK);
    await createWorkflow("onboarding", key, { key: "onboarding", ...slow });
    const aud = await audience(key, people(300));
    const res = await triggerAudience(key, "onboarding", { audienceId: aud });
    const [first] = q.chunks.drain();
    const real = env.JOURNEYS_BULK.createBatch.bind(env.JOURNEYS_BULK);
    // Page one (250 members) makes three calls; the first call of page two fails.
    vi.spyOn(env.JOURNEYS_BULK, "createBatch").mockImplementationOnce(real).mockImplementationOnce(real).mockImplementationOnce(real).mockRejectedValueOnce(new Error("workflows unavailable"));
    const result = await runChunks([first!.body as unknown as CampaignMessage]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(q.chunks.sent).toEqual([{ body: expect.objectContaining({ fanoutId: res.fanout.id, after: { recipientType: "customer", recipientId: "m00249" } }), delaySeconds: 30 }]);
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ state: "running", started: 250 });
    const [next] = q.chunks.drain();
    vi.restoreAllMocks();
    q = captureQueues();
    // The first message again is stale (its first page moved the cursor); the continuation finishes.
    expect((await runChunks([first!.body as unknown as CampaignMessage])).explicitAcks).toHaveLength(1);
    expect(q.chunks.sent).toHaveLength(0);
    await runChunks([next!.body as unknown as CampaignMessage]);
    expect(await runRows("onboarding")).toHaveLength(300);
    expect(await wf.get()).toHaveLength(300);
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ state: "completed", started: 300 });
  }, 120_000);

  it("the cancellation key stops members not reached yet and cancels the runs already started", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS_BULK);
    await createWorkflow("onboarding", key, { key: "onboarding", ...slow });
    const aud = await audience(key, people(600));
    const res = await triggerAudience(key, "onboarding", { audienceId: aud, cancellationKey: "spring" });
    // The cancel lands while the first page is creating its instances.
    const real = env.JOURNEYS_BULK.createBatch.bind(env.JOURNEYS_BULK);
    let cancel: any;
    vi.spyOn(env.JOURNEYS_BULK, "createBatch").mockImplementationOnce(async (batch) => {
      cancel = await call("POST", "/api/workflows/runs/cancel", { key, body: { cancellationKey: "spring" } });
      return real(batch);
    });
    await fanOut(q);
    expect(cancel.status, cancel.text).toBe(200);
    expect(cancel.json.fanouts).toBe(1);
    const rows = await runRows("onboarding");
    // Only the first page (250 members) ever got runs, and every one of them is cancelled.
    expect(rows).toHaveLength(250);
    expect(rows.every((r) => r.status === "cancelled")).toBe(true);
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ state: "cancelled", pending: 0 });
    expect((await wf.get()).length).toBeLessThanOrEqual(250);
 }, 120_000);

  it("the cron pass restarts a fan-out whose message was lost, from its cursor", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS_BULK);
    await createWorkflow("onboarding", key, { key: "onboarding", ...slow });
    const aud = await audience(key, people(40));
    const res = await triggerAudience(key, "onboarding", { audienceId: aud });
    q.chunks.drain();
    await cron(Date.now());
    expect(q.chunks.sent).toHaveLength(0);
    await cron(Date.now() + 3 * 60_000);
    expect(q.chunks.sent.map((m) => m.body)).toEqual([expect.objectContaining({ kind: "workflow_fanout", fanoutId: res.fanout.id, after: null })]);
    await fanOut(q);
    expect(await runRows("onboarding")).toHaveLength(40);
    expect(await wf.get()).toHaveLength(40);
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ state: "completed", started: 40 });
  });

  it("a fan-out cancelled before its first page starts nothing", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS_BULK);
    await createWorkflow("onboarding", key, { key: "onboarding", ...slow });
    const aud = await audience(key, people(30));
    await triggerAudience(key, "onboarding", { audienceId: aud, cancellationKey: "c1" });
    const cancel = await call("POST", "/api/workflows/runs/cancel", { key, body: { cancellationKey: "c1" } });
    expect(cancel.json).toEqual({ cancelled: 0, fanouts: 1 });
    await fanOut(q);
    expect(await runRows("onboarding")).toHaveLength(0);
    expect(await wf.get()).toHaveLength(0);
  });

  it("bulk runs send on the bulk lane, even a high-priority step", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS_BULK);
    await wf.modifyAll(async (m) => m.disableSleeps());
    await createWorkflow("promo", key, { key: "promo", name: "Promo", steps: [{ type: "send", id: "hello", channel: "in_app", priority: "high", content: "Hello {{name}}, {{plan}}" }] });
    const aud = await audience(key, people(3).map((p, i) => ({ ...p, variables: { plan: `p${i}` } })));
    await triggerAudience(key, "promo", { audienceId: aud, data: { plan: "default" } });
    await fanOut(q);
    for (const i of await wf.get()) await i.waitForStatus("complete");
    expect(q.bulk.sent).toHaveLength(3);
    expect(q.sends.sent).toHaveLength(0);
    const { results } = await env.DB.prepare("SELECT content FROM communication WHERE tenant_id = ? ORDER BY recipient_id").bind(tenantId).all<{ content: string }>();
    // A member's variables are merged over the trigger's data.
    expect(results.map((r) => r.content)).toEqual(["Hello Member 0, p0", "Hello Member 1, p1", "Hello Member 2, p2"]);
  });

  it("a topic is an audience too: its subscribers get the runs", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS_BULK);
    await createWorkflow("onboarding", key, { key: "onboarding", ...slow });
    const topic = await audience(key, [], { kind: "topic" });
    for (const id of ["s1", "s2"]) {
      const sub = await call("POST", `/api/audiences/${topic}/subscribe`, { key, body: { recipientId: id, email: `${id}@example.com` } });
      expect(sub.status, sub.text).toBe(200);
    }
    const res = await triggerAudience(key, "onboarding", { audienceId: topic });
    expect(res.fanout.total).toBe(2);
    await fanOut(q);
    expect((await runRows("onboarding")).map((r) => r.recipient_id)).toEqual(["s1", "s2"]);
    expect(await wf.get()).toHaveLength(2);
  });

  it("isolates tenants: another tenant's audience is a 404 naming audienceId, its fan-outs and cancel keys do not cross", async () => {
    await createWorkflow("onboarding", key, { key: "onboarding", ...slow });
    const aud = await audience(key, people(5));
    const res = await triggerAudience(key, "onboarding", { audienceId: aud, cancellationKey: "shared" });
    const other = await createTenant("Other");
    await createWorkflow("onboarding", other.key, { key: "onboarding", ...slow });
    const foreign = await call("POST", "/api/workflows/onboarding/trigger", { key: other.key, body: { audienceId: aud } });
    expect(foreign.status).toBe(404);
    expect(foreign.headers.get("content-type")).toContain("application/problem+json");
    expect(foreign.json.errors).toEqual([{ field: "audienceId", message: "no audience with this id" }]);
    expect((await call("GET", `/api/workflows/onboarding/fanouts/${res.fanout.id}`, { key: other.key })).status).toBe(404);
    expect((await call("GET", `/api/workflows/other/fanouts/${res.fanout.id}`, { key })).status).toBe(404);
    const cancel = await call("POST", "/api/workflows/runs/cancel", { key: other.key, body: { cancellationKey: "shared" } });
    expect(cancel.json).toEqual({ cancelled: 0, fanouts: 0 });
    expect(await fanoutOf(key, "onboarding", res.fanout.id)).toMatchObject({ state: "running" });
    const body = q.chunks.sent.map((m) => m.body as unknown as FanoutMessage);
    expect(body).toEqual([expect.objectContaining({ kind: "workflow_fanout", tenantId, fanoutId: res.fanout.id })]);
  });
});
