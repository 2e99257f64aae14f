/**
 * Recipient-list triggers answer once their runs are stored: up to 20 instances are created in
 * the call, more are all queued as `workflow_create` messages on the campaigns queue (captured
 * here and run by hand through the delivery Worker's handler). Runs wait as `pending` until their
 * instance runs; a cancel before creation keeps the instance from ever existing; a failed
 * createBatch is retried by the queue; the cron creates what a lost message never did.
 */
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { CampaignMessage } from "../../src/campaigns/message";
import type { CreateRunsMessage } from "../../src/workflows/creation";
import { call, createTenant } from "../helpers";
import { captureQueues, cron, runChunks, type Queues } from "../campaigns/fixtures";
import { createWorkflow, finished, getRun, stepOf, trigger, waitForRun } from "./helpers";
import { notifyRunsOfEvent } from "../../src/workflows/runs";

let key: string;
let tenantId: string;
let q: Queues;

beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key, tenantId } = await createTenant());
  q = captureQueues();
});

const quick = { name: "Hello", steps: [{ type: "send", id: "hello", channel: "in_app", content: "Hello {{name}}" }] };
// Sleeps after its first check: instances exist without 250 runs racing to finish.
const slow = { name: "Later", steps: [{ type: "delay", id: "wait", duration: "1h" }, { type: "send", id: "hello", channel: "in_app", content: "Later" }] };

const users = (n: number) => Array.from({ length: n }, (_, i) => ({ type: "user", id: `u${String(i).padStart(4, "0")}`, name: `User ${i}` }));

/** The creation messages the trigger queued (the campaigns queue is captured), with their delays. */
const creations = () => q.chunks.drain() as unknown as { body: CreateRunsMessage; delaySeconds?: number }[];
const runCreations = (ms: { body: CreateRunsMessage }[]) => runChunks(ms.map((m) => m.body as unknown as CampaignMessage));

const statusCounts = async (workflowKey: string) =>
  Object.fromEntries(
    (await env.DB.prepare("SELECT status, count(*) AS n FROM workflow_run WHERE tenant_id = ? AND workflow_key = ? GROUP BY status").bind(tenantId, workflowKey).all<{ status: string; n: number }>()).results.map((r) => [r.status, r.n]),
  ) as Record<string, number>;

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 2400 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  expect(ok(v), JSON.stringify(v)).toBe(true);
  return v;
}

describe("recipient-list triggers create instances off the request path", () => {
  it("a trigger of up to 20 recipients creates its instances itself and queues nothing", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("later", key, { key: "later", ...slow });
    const res = await trigger(key, "later", { recipients: users(20) });
    expect(await wf.get()).toHaveLength(20);
    expect(creations()).toEqual([]);
    await Promise.all(res.runs.map((r) => env.JOURNEYS.get(r.id)));
  });

  it("250 recipients: the call answers with every run stored and pending, its creation queued, and all 250 runs complete", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("hello", key, { key: "hello", ...quick });
    const res = await trigger(key, "hello", { recipients: users(250) });
    expect(res.runs).toHaveLength(250);
    expect(new Set(res.runs.map((r) => r.id)).size).toBe(250);
    // Answered before any instance exists: three queued messages, paced a second apart.
    expect(await wf.get()).toHaveLength(0);
    const queued = creations();
    expect(queued.map((m) => [m.body.kind, m.body.runIds.length, m.delaySeconds])).toEqual([
      ["workflow_create", 100, 0],
      ["workflow_create", 100, 1],
      ["workflow_create", 50, 2],
    ]);
    expect(queued.flatMap((m) => m.body.runIds)).toEqual(res.runs.map((r) => r.id));
    const last = await getRun(key, res.runs[249]!.id);
    expect(last.status).toBe("pending");

    const ran = await runCreations(queued);
    expect(ran.explicitAcks).toHaveLength(3);
    expect(await wf.get()).toHaveLength(250);
    // A cap, not a measure: 250 Workflows instances run in workerd, slow on a shared machine.
    await until(() => statusCounts("hello"), (c) => c.completed === 250);
    expect((await getRun(key, res.runs[249]!.id)).steps.map((s: any) => [s.id, s.status])).toEqual([["hello", "done"]]);
  }, 240_000);

  it("a replayed trigger returns the same runs and duplicates no instance, however often creation is queued", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("later", key, { key: "later", ...slow });
    const body = { recipients: users(150), idempotencyKey: "batch-7" };
    const first = await trigger(key, "later", body);
    const firstQueued = creations();
    const replay = await trigger(key, "later", body);
    expect(replay.runs.map((r) => r.id)).toEqual(first.runs.map((r) => r.id));
    // The replay queues the 150 still pending again: both sets of messages run, each instance once.
    expect(await wf.get()).toHaveLength(0);
    const again = creations();
    expect(again.flatMap((m) => m.body.runIds)).toEqual(first.runs.map((r) => r.id));
    await runCreations([...firstQueued, ...again]);
    expect(await wf.get()).toHaveLength(150);
    await Promise.all(first.runs.map((r) => env.JOURNEYS.get(r.id)));
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM workflow_run WHERE tenant_id = ?").bind(tenantId).all<{ n: number }>();
    expect(results[0]!.n).toBe(150);
    // Replayed once more after everything exists: nothing new.
    await trigger(key, "later", body);
    await runCreations(creations());
    expect(await wf.get()).toHaveLength(150);
  }, 120_000);

  it("a cancel before creation: the queued runs show cancelled and their instances are never created", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("later", key, { key: "later", ...slow });
    const res = await trigger(key, "later", { recipients: users(130), cancellationKey: "order-9" });
    const queued = creations();
    expect((await getRun(key, res.runs[120]!.id)).status).toBe("pending");

    const cancel = await call("POST", "/api/workflows/runs/cancel", { key, body: { cancellationKey: "order-9" } });
    expect(cancel.status, cancel.text).toBe(200);
    expect(cancel.json.cancelled).toBe(130);
    const ran = await runCreations(queued);
    expect(ran.explicitAcks).toHaveLength(2);
    expect(await wf.get()).toHaveLength(0);
    expect((await getRun(key, res.runs[120]!.id)).status).toBe("cancelled");
    expect(await statusCounts("later")).toEqual({ cancelled: 130 });
  }, 120_000);

  it("a createBatch that fails on the queue path is retried, then creates the chunk", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("later", key, { key: "later", ...slow });
    const res = await trigger(key, "later", { recipients: users(160) });
    const queued = creations();
    vi.spyOn(env.JOURNEYS, "createBatch").mockRejectedValueOnce(new Error("instance creation rate exceeded"));
    expect(queued.map((m) => m.body.runIds.length)).toEqual([100, 60]);
    const failed = await runCreations([queued[0]!]);
    expect(failed.explicitAcks).toEqual([]);
    expect(failed.retryMessages).toHaveLength(1);
    expect(await wf.get()).toHaveLength(0);
    expect((await getRun(key, res.runs[50]!.id)).status).toBe("pending");

    vi.restoreAllMocks();
    const retried = await runCreations(queued);
    expect(retried.explicitAcks).toHaveLength(2);
    expect(await wf.get()).toHaveLength(160);
  }, 120_000);

  it("the cron creates a chunk whose message was lost, once, and only after it had time to arrive", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("later", key, { key: "later", ...slow });
    const res = await trigger(key, "later", { recipients: users(140) });
    const lost = creations().flatMap((m) => m.body.runIds);
    expect(lost).toHaveLength(140);

    // A fresh pending run is the queue's to create: the cron leaves it alone.
    await cron();
    expect(await wf.get()).toHaveLength(0);

    // Ten minutes on, still pending: the cron looks at 100 pending runs a pass (oldest first,
    // earlier tests' leftovers among them), marking them looked at, so the next passes reach the rest.
    for (let pass = 1; pass <= 4; pass++) await cron(Date.now() + pass * 10 * 60_000);
    // Each run's instance exists and ran its first step (the delay): none is pending any more.
    await until(() => statusCounts("later"), (c) => c.waiting === 140);
    await Promise.all(res.runs.map((r) => env.JOURNEYS.get(r.id)));
    // Later passes create nothing more.
    const before = (await wf.get()).length;
    await cron(Date.now() + 50 * 60_000);
    await cron(Date.now() + 60 * 60_000);
    expect(await wf.get()).toHaveLength(before);
  }, 120_000);

  it("an event for a run still pending creates its instance, so its wait_for_event receives the event", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    const steps = [{ type: "wait_for_event", id: "wait", event: "invoice.paid", timeout: "1d", onEvent: [{ type: "send", id: "thanks", channel: "in_app", content: "Thanks" }] }];
    await createWorkflow("paid", key, { key: "paid", name: "Paid", steps });
    const res = await trigger(key, "paid", { recipients: users(25) });
    expect(creations().length).toBeGreaterThan(0); // queued (and never run here): no instance yet
    const target = res.runs[24]!;
    expect((await getRun(key, target.id)).status).toBe("pending");
    expect(await notifyRunsOfEvent(env, tenantId, "invoice.paid", { type: "user", id: target.recipient.id }, { amount: 5 })).toBe(1);
    const run = await waitForRun(key, target.id, finished);
    expect(stepOf(run, "wait").outcome).toBe("event_received");
    expect(stepOf(run, "thanks").outcome).toBe("sent");
    void wf;
  });
});
