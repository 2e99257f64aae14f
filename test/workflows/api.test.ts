import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, call, createTenant } from "../helpers";
import { createWorkflow, finished, trigger, waitForRun, waitingOn } from "./helpers";

let key: string;
let tenantId: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key, tenantId } = await createTenant());
});

const v1 = { name: "Invoice", steps: [{ type: "send", id: "notify", channel: "in_app", content: "Invoice {{number}}" }] };
const v2 = { name: "Invoice v2", steps: [{ type: "send", id: "notify", channel: "in_app", content: "Your invoice {{number}} is ready" }] };

describe("workflow resource", () => {
  it("creates, publishes immutable versions and rolls back", async () => {
    const created = await createWorkflow("invoice", key, { key: "invoice", ...v1 });
    expect(created).toMatchObject({ key: "invoice", name: "Invoice", version: 1, triggerEvents: [] });
    expect((await call("POST", "/api/workflows", { key, body: { key: "invoice", ...v1 } })).status).toBe(409);

    const put = await call("PUT", "/api/workflows/invoice", { key, body: v2 });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ version: 2, name: "Invoice v2" });

    const versions = await call("GET", "/api/workflows/invoice/versions", { key });
    expect(versions.json.results.map((v: any) => [v.version, v.active, v.name])).toEqual([
      [2, true, "Invoice v2"],
      [1, false, "Invoice"],
    ]);
    const back = await call("POST", "/api/workflows/invoice/versions/1/activate", { key });
    expect(back.status).toBe(200);
    expect(back.json).toMatchObject({ version: 1, name: "Invoice", steps: v1.steps.map((s) => ({ ...s, priority: "normal" })) });
    expect((await call("GET", "/api/workflows/invoice", { key })).json.version).toBe(1);
    expect((await call("POST", "/api/workflows/invoice/versions/9/activate", { key })).status).toBe(404);
    expect((await call("GET", "/api/workflows", { key })).json.results.map((w: any) => w.key)).toEqual(["invoice"]);

    const audit = await call("GET", "/api/audit-log", { key });
    expect(audit.json.results.map((e: any) => e.action)).toEqual(expect.arrayContaining(["workflow.created", "workflow.updated", "workflow.version_activated"]));

    expect((await call("DELETE", "/api/workflows/invoice", { key })).status).toBe(204);
    expect((await call("GET", "/api/workflows/invoice", { key })).status).toBe(404);
    const gone = await call("POST", "/api/workflows/invoice/trigger", { key, body: { recipients: [{ type: "user", id: "u1" }] } });
    expect(gone.status).toBe(404);
  });

  it("refuses bad steps with 422 naming the step's path", async () => {
    const res = await call("POST", "/api/workflows", {
      key,
      body: {
        key: "bad",
        name: "Bad",
        steps: [
          { type: "send", id: "one", channel: "email", templateCode: "welcome" },
          { type: "branch", id: "split", paths: [{ when: [{ field: "data.plan", op: "eq", value: "pro" }], steps: [{ type: "delay", id: "one", duration: "1h" }] }] },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(res.json.errors).toEqual([expect.objectContaining({ field: "steps.1.paths.0.steps.0.id", message: 'step id "one" is used twice' })]);

    const dur = await call("POST", "/api/workflows", { key, body: { key: "bad", name: "Bad", steps: [{ type: "delay", id: "wait", duration: "soon" }] } });
    expect(dur.status).toBe(422);
    expect(dur.json.errors.map((e: any) => e.field)).toContain("steps.0.duration");

    const trig = await createWorkflow("ok", key, { key: "ok", ...v1 });
    expect(trig.key).toBe("ok");
    const both = await call("POST", "/api/workflows/ok/trigger", { key, body: {} });
    expect(both.status).toBe(422);
    expect(both.json.errors[0].field).toBe("recipients");
    const many = await call("POST", "/api/workflows/ok/trigger", { key, body: { recipients: Array.from({ length: 1001 }, (_, i) => ({ type: "user", id: `u${i}` })) } });
    expect(many.status).toBe(422);
    expect(many.json.errors[0].field).toBe("recipients");
    const audience = await call("POST", "/api/workflows/ok/trigger", { key, body: { audienceId: "aud_1" } });
    expect(audience.status).toBe(404);
    expect(audience.headers.get("content-type")).toContain("application/problem+json");
    expect(audience.json.errors[0].field).toBe("audienceId");
  });

  it("an idempotency key returns the same runs instead of starting new ones", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("invoice", key, { key: "invoice", ...v1 });
    const body = { recipients: [{ type: "user", id: "u1" }, { type: "user", id: "u2" }], data: { number: "F-1" }, idempotencyKey: "order-77" };
    const first = await trigger(key, "invoice", body);
    const again = await trigger(key, "invoice", body);
    expect(again.runs).toEqual(first.runs);
    expect(first.runs).toHaveLength(2);
    for (const i of await wf.get()) await i.waitForStatus("complete");
    expect(await wf.get()).toHaveLength(2);
    const listed = await call("GET", "/api/workflows/invoice/runs", { key });
    expect(listed.json.results).toHaveLength(2);
    // Another key starts new runs.
    const other = await trigger(key, "invoice", { ...body, idempotencyKey: "order-78" });
    expect(other.runs.map((r) => r.id)).not.toEqual(first.runs.map((r) => r.id));
  });

  it("a replayed trigger starts the runs whose instances the first call failed to create", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("invoice", key, { key: "invoice", ...v1 });
    vi.spyOn(env.JOURNEYS, "createBatch").mockRejectedValueOnce(new Error("workflows unavailable"));
    const body = { recipients: [{ type: "user", id: "u1" }], data: { number: "F-3" }, idempotencyKey: "order-79" };
    const failed = await call("POST", "/api/workflows/invoice/trigger", { key, body });
    expect(failed.status).toBe(500);
    const replay = await trigger(key, "invoice", body);
    const run = await waitForRun(key, replay.runs[0]!.id, finished);
    expect(run.status).toBe("completed");
    expect(await wf.get()).toHaveLength(1);
  });

  it("lists runs with filters and a cursor", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("invoice", key, { key: "invoice", ...v1 });
    const { runs } = await trigger(key, "invoice", { recipients: [1, 2, 3].map((n) => ({ type: "user", id: `u${n}` })), data: { number: "F-2" } });
    for (const i of await wf.get()) await i.waitForStatus("complete");
    await waitForRun(key, runs[2]!.id, finished);
    const page1 = await call("GET", "/api/workflows/invoice/runs?limit=2", { key });
    expect(page1.json.results).toHaveLength(2);
    const page2 = await call("GET", `/api/workflows/invoice/runs?limit=2&cursor=${page1.json.nextCursor}`, { key });
    expect([...page1.json.results, ...page2.json.results].map((r: any) => r.id).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(page2.json.nextCursor).toBeNull();
    const one = await call("GET", "/api/workflows/invoice/runs?recipientType=user&recipientId=u2", { key });
    expect(one.json.results.map((r: any) => r.id)).toEqual([runs[1]!.id]);
    const bad = await call("GET", "/api/workflows/invoice/runs?status=sleeping", { key });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("status");
  });

  it("isolates tenants: another tenant's workflow and runs are 404, cancel keys do not cross", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    const other = await createTenant("Other");
    await createWorkflow("slow", key, { key: "slow", name: "Slow", steps: [{ type: "delay", id: "wait", duration: "1h" }, ...v1.steps] });
    const { runs } = await trigger(key, "slow", { recipients: [{ type: "user", id: "u1" }], cancellationKey: "order-1" });
    await waitForRun(key, runs[0]!.id, waitingOn("wait"));

    expect((await call("GET", "/api/workflows/slow", { key: other.key })).status).toBe(404);
    expect((await call("GET", `/api/workflows/runs/${runs[0]!.id}`, { key: other.key })).status).toBe(404);
    expect((await call("GET", "/api/workflows/slow/runs", { key: other.key })).status).toBe(404);
    expect((await call("PUT", "/api/workflows/slow", { key: other.key, body: v1 })).status).toBe(404);
    expect((await call("POST", "/api/workflows/slow/trigger", { key: other.key, body: { recipients: [{ type: "user", id: "u1" }] } })).status).toBe(404);
    const cancel = await call("POST", "/api/workflows/runs/cancel", { key: other.key, body: { cancellationKey: "order-1" } });
    expect(cancel.json).toEqual({ cancelled: 0, fanouts: 0 });
    expect((await call("GET", `/api/workflows/runs/${runs[0]!.id}`, { key })).json.status).toBe("waiting");
    // The same key is free in the other tenant.
    expect((await createWorkflow("slow", other.key, { key: "slow", ...v1 })).version).toBe(1);
    const mine = await call("POST", "/api/workflows/runs/cancel", { key, body: { cancellationKey: "order-1" } });
    expect(mine.json).toEqual({ cancelled: 1, fanouts: 0 });
    const [instance] = await wf.get();
    await instance!.waitForStatus("terminated");
  });

  it("needs the workflows scopes", async () => {
    const created = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: "reader", scopes: ["workflows:read"] } });
    expect(created.status, created.text).toBe(201);
    const reader = created.json.apiKey as string;
    expect((await call("GET", "/api/workflows", { key: reader })).status).toBe(200);
    expect((await call("POST", "/api/workflows", { key: reader, body: { key: "x", ...v1 } })).status).toBe(403);
    expect((await call("POST", "/api/workflows/x/runs/0190a0a0-0000-7000-8000-000000000000/cancel", { key: reader })).status).toBe(403);
  });
});
