/**
 * digest, throttle and start_reminder steps on real Workflows instances: a digest collects the
 * runs of one recipient and key into one continuation and counts the same event once; a throttle
 * lets exactly `limit` of concurrent runs pass; start_reminder starts a reminder sequence the
 * reminder API shows with the run's id.
 */
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, createTenant } from "../helpers";
import { createWorkflow, finished, getRun, stepOf, trigger, waitForRun } from "./helpers";

let key: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "email", provider: "sandbox" });
});

const jane = { type: "user", id: "jane", email: "jane@example.com" };

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 600 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 25));
    v = await read();
  }
  expect(ok(v), JSON.stringify(v)).toBe(true);
  return v;
}
const digestEvents = (runId: string) => env.DB.prepare("SELECT count(*) AS n FROM workflow_digest_event WHERE run_id = ?").bind(runId).first<{ n: number }>();

describe("a digest step", () => {
  it("joins one recipient's runs into one continuation, counting the same event once", async () => {
    await using _wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("digest", key, {
      key: "activity",
      name: "Activity digest",
      steps: [
        { type: "digest", id: "collect", key: "data.projectId", window: "1h" },
        { type: "send", id: "summary", channel: "email", subject: "{{digest.count}} updates", content: "{{digest.count}} updates on {{projectId}}" },
      ],
    });
    const [a] = (await trigger(key, "activity", { recipients: [jane], data: { projectId: "p1", eventId: "ev-1" } })).runs;
    await until(() => digestEvents(a!.id), (r) => r?.n === 1);
    const [b] = (await trigger(key, "activity", { recipients: [jane], data: { projectId: "p1", eventId: "ev-2" } })).runs;
    const [dup] = (await trigger(key, "activity", { recipients: [jane], data: { projectId: "p1", eventId: "ev-1" } })).runs; // the same event again
    const [other] = (await trigger(key, "activity", { recipients: [jane], data: { projectId: "p2", eventId: "ev-3" } })).runs; // another key: its own digest

    expect((await waitForRun(key, b!.id, finished)).status).toBe("digested");
    const duplicate = await waitForRun(key, dup!.id, finished);
    expect(duplicate.status).toBe("digested");
    expect(stepOf(duplicate, "collect").output).toMatchObject({ duplicateOf: a!.id });
    await until(() => digestEvents(other!.id), (r) => r?.n === 1);
    expect(["running", "waiting"]).toContain((await getRun(key, a!.id)).status);

    // Close the window now instead of in an hour.
    await (await env.JOURNEYS.get(a!.id)).sendEvent({ type: "digest-close-collect", payload: {} });
    const done = await waitForRun(key, a!.id, finished);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "collect").output).toMatchObject({ count: 2, digestKey: "p1" });
    const [commId] = stepOf(done, "summary").communicationIds;
    const comm = await call("GET", `/api/communications/${commId}`, { key });
    expect(comm.json).toMatchObject({ subject: "2 updates", content: "2 updates on p1" });
    for (const r of [b, dup]) expect(stepOf(await getRun(key, r!.id), "summary")).toBeUndefined();
  });
});

describe("a throttle step", () => {
  it("lets exactly `limit` of concurrent runs per recipient pass; the rest end throttled", async () => {
    await using _wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("throttle", key, {
      key: "alerts",
      name: "Alerts",
      steps: [
        { type: "throttle", id: "cap", limit: 2, window: "1h" },
        { type: "send", id: "alert", channel: "email", subject: "Alert", content: "Alert {{n}}" },
      ],
    });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => trigger(key, "alerts", { recipients: [jane], data: { n } })));
    const other = await trigger(key, "alerts", { recipients: [{ type: "user", id: "max", email: "max@example.com" }], data: { n: 6 } });
    const runs = await Promise.all(results.map((r) => waitForRun(key, r.runs[0]!.id, finished)));
    expect(runs.map((r) => r.status).sort()).toEqual(["completed", "completed", "throttled", "throttled", "throttled"]);
    for (const r of runs.filter((x) => x.status === "throttled")) expect(stepOf(r, "cap").outcome).toBe("throttled");
    expect((await waitForRun(key, other.runs[0]!.id, finished)).status).toBe("completed");
  });
});

describe("a start_reminder step", () => {
  it("starts a reminder sequence for the payload's entity, shown with the run's id", async () => {
    await using _wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("remind", key, {
      key: "collect",
      name: "Collect",
      steps: [
        { type: "start_reminder", id: "remind", name: "collection", entityField: "data.invoiceId", templateCode: "collection_notice", channels: ["email"], every: "2h", maxSteps: 3, cancelOn: ["payment.received"] },
      ],
    });
    const [r] = (await trigger(key, "collect", { recipients: [jane], data: { invoiceId: "inv-9", invoiceNumber: "INV-9", amount: 10, businessName: "Acme" } })).runs;
    const run = await waitForRun(key, r!.id, finished);
    expect(run.status).toBe("completed");
    const list = await call("GET", `/api/reminders?workflowRunId=${r!.id}`, { key });
    expect(list.json.results).toHaveLength(1);
    expect(list.json.results[0]).toMatchObject({ name: "collection", entityType: "invoice", entityId: "inv-9", workflowRunId: r!.id, schedule: { every: "2h", maxSteps: 3 }, cancelOn: ["payment.received"] });
    expect(stepOf(run, "remind").output).toMatchObject({ reminderSequenceId: list.json.results[0].id });

    // A second run for the same invoice finds the sequence running.
    const [again] = (await trigger(key, "collect", { recipients: [jane], data: { invoiceId: "inv-9" } })).runs;
    const second = await waitForRun(key, again!.id, finished);
    expect(stepOf(second, "remind")).toMatchObject({ outcome: "skipped", output: { reminderSequenceId: list.json.results[0].id } });
  });
});
