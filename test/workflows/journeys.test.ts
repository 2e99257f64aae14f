import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { notifyRunsOfEvent } from "../../src/workflows/runs";
import { call, createTenant } from "../helpers";
import { createWorkflow, deliver, finished, stepOf, trigger, waitForRun, waitingOn } from "./helpers";

let key: string;
let tenantId: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key, tenantId } = await createTenant());
});

const user = (id: string) => ({ type: "user", id, name: `User ${id}` });
const inApp = (id: string, content: string, extra: Record<string, unknown> = {}) => ({ type: "send", id, channel: "in_app", content, ...extra });
const contents = async (ids: string[]) => Promise.all(ids.map(async (id) => (await call("GET", `/api/communications/${id}`, { key })).json.content));

async function readInInbox(recipientId: string, communicationId: string) {
  const token = (await call("POST", "/api/inbox/tokens", { key, body: { recipientType: "user", recipientId } })).json.token;
  const res = await call("POST", "/api/inbox/items/mark", { headers: { authorization: `Bearer ${token}` }, body: { ids: [communicationId], action: "read" } });
  expect(res.status, res.text).toBeLessThan(300);
}

describe("wait_for_event", () => {
  const paid = {
    key: "collect",
    name: "Collect",
    steps: [
      inApp("invoice", "Invoice {{number}}"),
      {
        type: "wait_for_event",
        id: "paid",
        event: "invoice.paid",
        timeout: "7d",
        onEvent: [inApp("thanks", "Thanks for paying {{event.amount}}")],
        onTimeout: [inApp("overdue", "Invoice {{number}} is overdue")],
      },
    ],
  };

  it("resumes when the business event for this recipient arrives", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("collect", key, paid);
    const { runs } = await trigger(key, "collect", { recipients: [user("u1"), user("u2")], data: { number: "F-9" } });
    await waitForRun(key, runs[0]!.id, waitingOn("paid"));
    await waitForRun(key, runs[1]!.id, waitingOn("paid"));
    // Another recipient's event, and another tenant's, wake nobody.
    expect(await notifyRunsOfEvent(env, tenantId, "invoice.paid", { type: "user", id: "someone-else" }, {})).toBe(0);
    const other = await createTenant("Other");
    expect(await notifyRunsOfEvent(env, other.tenantId, "invoice.paid", { type: "user", id: "u1" }, {})).toBe(0);

    expect(await notifyRunsOfEvent(env, tenantId, "invoice.paid", { type: "user", id: "u1" }, { amount: "42 EUR" })).toBe(1);
    const run = await waitForRun(key, runs[0]!.id, finished);
    expect(run.status).toBe("completed");
    expect(stepOf(run, "paid")).toMatchObject({ status: "done", outcome: "event_received", output: { event: "invoice.paid", data: { amount: "42 EUR" } } });
    expect(stepOf(run, "overdue")).toBeUndefined();
    expect(await contents(stepOf(run, "thanks").communicationIds)).toEqual(["Thanks for paying 42 EUR"]);
    expect((await call("GET", `/api/workflows/runs/${runs[1]!.id}`, { key })).json.status).toBe("waiting");
    void wf;
  });

  it("keeps an event that arrives before the run reaches its wait", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("early", key, {
      key: "early",
      name: "Early",
      steps: [{ type: "wait_for_event", id: "gate", event: "test.go", timeout: "1d" }, { ...paid.steps[1], onEvent: [inApp("thanks", "Paid early")] }],
    });
    const { runs } = await trigger(key, "early", { recipients: [user("u1")] });
    await waitForRun(key, runs[0]!.id, waitingOn("gate"));
    await notifyRunsOfEvent(env, tenantId, "invoice.paid", { type: "user", id: "u1" }, { amount: "1 EUR" });
    await notifyRunsOfEvent(env, tenantId, "test.go", { type: "user", id: "u1" }, {});
    const run = await waitForRun(key, runs[0]!.id, finished);
    expect(stepOf(run, "paid").outcome).toBe("event_received");
    expect(await contents(stepOf(run, "thanks").communicationIds)).toEqual(["Paid early"]);
    void wf;
  });

  it("takes the timeout path when the event never comes", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await wf.modifyAll(async (m) => m.forceEventTimeout({ name: "paid:wait" }));
    await createWorkflow("collect", key, paid);
    const { runs } = await trigger(key, "collect", { recipients: [user("u1")], data: { number: "F-10" } });
    const run = await waitForRun(key, runs[0]!.id, finished);
    expect(run.status).toBe("completed");
    expect(stepOf(run, "paid")).toMatchObject({ outcome: "timed_out" });
    expect(stepOf(run, "thanks")).toBeUndefined();
    expect(await contents(stepOf(run, "overdue").communicationIds)).toEqual(["Invoice F-10 is overdue"]);
  });
});

describe("cancel", () => {
  it("stops a run mid-delay before its next step", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("drip", key, { key: "drip", name: "Drip", steps: [inApp("first", "one"), { type: "delay", id: "wait", duration: "2d" }, inApp("second", "two")] });
    const { runs } = await trigger(key, "drip", { recipients: [user("u1"), user("u2")], cancellationKey: "signup-1" });
    const kept = await trigger(key, "drip", { recipients: [user("u3")], cancellationKey: "signup-2" });
    for (const r of [...runs, ...kept.runs]) await waitForRun(key, r.id, waitingOn("wait"));
    const res = await call("POST", "/api/workflows/runs/cancel", { key, body: { cancellationKey: "signup-1" } });
    expect(res.json).toEqual({ cancelled: 2, fanouts: 0 });
    for (const r of runs) {
      const run = await waitForRun(key, r.id, finished);
      expect(run.status).toBe("cancelled");
      expect(run.cancelReason).toBe("cancellation key signup-1");
      expect(run.finishedAt).not.toBeNull();
      expect(stepOf(run, "second")).toBeUndefined();
    }
    void wf;
    for (const r of runs) expect(await (await env.JOURNEYS.get(r.id)).status()).toMatchObject({ status: "terminated" });
    // A sleeping instance reports `running` locally and `waiting` in production: either way, not stopped.
    expect(["running", "waiting"]).toContain((await (await env.JOURNEYS.get(kept.runs[0]!.id)).status()).status);
    expect((await call("GET", `/api/workflows/runs/${kept.runs[0]!.id}`, { key })).json.status).toBe("waiting");
    // Nothing left to cancel.
    expect((await call("POST", "/api/workflows/runs/cancel", { key, body: { cancellationKey: "signup-1" } })).json).toEqual({ cancelled: 0, fanouts: 0 });
  });

  it("cancels the sends a cancelled run created that have not gone out", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await call("POST", "/api/providers", { key, body: { channel: "sms", provider: "sandbox" } });
    // The recipient's quiet hours hold the run's SMS as `scheduled` (a window around now, in UTC).
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const quiet = await call("PATCH", "/api/communication-preferences/user/q1", { key, body: { timezone: "UTC", quietHours: { start: hhmm(Date.now() - 3_600_000), end: hhmm(Date.now() + 3 * 3_600_000) } } });
    expect(quiet.status, quiet.text).toBe(200);
    await createWorkflow("quiet", key, { key: "quiet", name: "Quiet", steps: [{ type: "send", id: "sms", channel: "sms", content: "Your invoice is due" }, { type: "delay", id: "wait", duration: "2d" }] });
    const { runs } = await trigger(key, "quiet", { recipients: [{ type: "user", id: "q1", phone: "+14155550100" }], cancellationKey: "q-1" });
    const run = await waitForRun(key, runs[0]!.id, waitingOn("wait"));
    const [id] = stepOf(run, "sms").communicationIds;
    expect((await call("GET", `/api/communications/${id}`, { key })).json.status).toBe("scheduled");
    expect((await call("POST", "/api/workflows/runs/cancel", { key, body: { cancellationKey: "q-1" } })).json).toEqual({ cancelled: 1, fanouts: 0 });
    const sms = (await call("GET", `/api/communications/${id}`, { key })).json;
    expect(sms.status).toBe("cancelled");
    expect(sms.events).toContainEqual(expect.objectContaining({ kind: "status", status: "cancelled", detail: { reason: "workflow run cancelled" } }));
    void wf;
  });

  it("a run marked cancelled stops at its next step even if its instance was not terminated", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await wf.modifyAll(async (m) => m.disableSleeps());
    await createWorkflow("drip", key, { key: "drip", name: "Drip", steps: [{ type: "wait_for_event", id: "gate", event: "test.go", timeout: "1d" }, inApp("after", "two")] });
    const { runs } = await trigger(key, "drip", { recipients: [user("u1")] });
    await waitForRun(key, runs[0]!.id, waitingOn("gate"));
    await env.DB.prepare("UPDATE workflow_run SET status = 'cancelled' WHERE id = ?").bind(runs[0]!.id).run();
    await notifyRunsOfEvent(env, tenantId, "test.go", { type: "user", id: "u1" }, {}).catch(() => 0);
    // The event no longer reaches it (it is not open); resume it through the instance directly.
    await (await env.JOURNEYS.get(runs[0]!.id)).sendEvent({ type: "test-go", payload: JSON.stringify({ data: {} }) });
    const [instance] = await wf.get();
    await instance!.waitForStatus("complete");
    const run = await getRunView(runs[0]!.id);
    expect(run.status).toBe("cancelled");
    expect(stepOf(run, "after")).toBeUndefined();
  });
});

describe("cancel one run by id", () => {
  const drip = { key: "drip", name: "Drip", steps: [inApp("first", "one"), { type: "delay", id: "wait", duration: "2d" }, inApp("second", "two")] };

  it("stops that run mid-delay (no later send), keeping the reason, and leaves its siblings running", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("drip", key, drip);
    const { runs } = await trigger(key, "drip", { recipients: [user("u1"), user("u2")] });
    for (const r of runs) await waitForRun(key, r.id, waitingOn("wait"));
    const bad = await call("POST", `/api/workflows/drip/runs/${runs[0]!.id}/cancel`, { key, body: { reason: "" } });
    expect([bad.status, bad.json.errors?.[0]?.field]).toEqual([422, "reason"]);
    const res = await call("POST", `/api/workflows/drip/runs/${runs[0]!.id}/cancel`, { key, body: { reason: "customer asked to stop" } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ id: runs[0]!.id, status: "cancelled", cancelReason: "customer asked to stop" });
    expect(res.json.finishedAt).not.toBeNull();
    void wf;
    expect(await (await env.JOURNEYS.get(runs[0]!.id)).status()).toMatchObject({ status: "terminated" });
    const run = await getRunView(runs[0]!.id);
    expect(run.status).toBe("cancelled");
    expect(stepOf(run, "second")).toBeUndefined();
    expect((await getRunView(runs[1]!.id)).status).toBe("waiting");
    // Without a body the run says how it was cancelled.
    const other = await call("POST", `/api/workflows/drip/runs/${runs[1]!.id}/cancel`, { key });
    expect(other.json).toMatchObject({ status: "cancelled", cancelReason: "cancelled by id" });
    // The second cancel finds a finished run: a 409 naming its status, and nothing changes.
    const again = await call("POST", `/api/workflows/drip/runs/${runs[0]!.id}/cancel`, { key });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect(again.json.detail).toContain("cancelled");
    const audit = await call("GET", "/api/audit-log", { key });
    expect(audit.json.results.filter((e: any) => e.action === "workflow.run_cancelled")).toHaveLength(2);
  });

  it("a run that already ran to its end is a 409 naming its status", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("once", key, { key: "once", name: "Once", steps: [inApp("only", "hi")] });
    const { runs } = await trigger(key, "once", { recipients: [user("u1")] });
    await waitForRun(key, runs[0]!.id, finished);
    void wf;
    const res = await call("POST", `/api/workflows/once/runs/${runs[0]!.id}/cancel`, { key });
    expect(res.status).toBe(409);
    expect(res.json.detail).toContain("completed");
    expect((await getRunView(runs[0]!.id)).status).toBe("completed");
  });

  it("an unknown id, another workflow's key or another tenant's run is a 404 that cancels nothing", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    const other = await createTenant("Other");
    await createWorkflow("drip", key, drip);
    await createWorkflow("drip", other.key, drip);
    const { runs } = await trigger(key, "drip", { recipients: [user("u1")] });
    await waitForRun(key, runs[0]!.id, waitingOn("wait"));
    expect((await call("POST", `/api/workflows/drip/runs/${runs[0]!.id}/cancel`, { key: other.key })).status).toBe(404);
    expect((await call("POST", "/api/workflows/drip/runs/0190a0a0-0000-7000-8000-000000000000/cancel", { key })).status).toBe(404);
    expect((await call("POST", `/api/workflows/nope/runs/${runs[0]!.id}/cancel`, { key })).status).toBe(404);
    expect((await getRunView(runs[0]!.id)).status).toBe("waiting");
    expect(["running", "waiting"]).toContain((await (await env.JOURNEYS.get(runs[0]!.id)).status()).status);
    // Its own tenant can still cancel it.
    expect((await call("POST", `/api/workflows/drip/runs/${runs[0]!.id}/cancel`, { key })).status).toBe(200);
    const [instance] = await wf.get();
    await instance!.waitForStatus("terminated");
  });
});

const getRunView = async (id: string) => (await call("GET", `/api/workflows/runs/${id}`, { key })).json;

describe("branch and escalate on engagement", () => {
  const gate = { type: "wait_for_event", id: "gate", event: "test.go", timeout: "1d" };

  it("branches on 'read in the inbox', read fresh from the communication", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("nudge", key, {
      key: "nudge",
      name: "Nudge",
      steps: [
        inApp("note", "You have a new document"),
        gate,
        {
          type: "branch",
          id: "seen",
          paths: [{ when: [{ field: "steps.note.outcome", op: "eq", value: "read" }], steps: [inApp("thanks", "Thanks for reading")] }],
          otherwise: [inApp("reminder", "Please read your document")],
        },
      ],
    });
    const { runs } = await trigger(key, "nudge", { recipients: [user("reader"), user("ignorer")] });
    const views = await Promise.all(runs.map((r) => waitForRun(key, r.id, waitingOn("gate"))));
    for (const v of views) await deliver(tenantId, stepOf(v, "note").communicationIds);
    await readInInbox("reader", stepOf(views[0], "note").communicationIds[0]);
    for (const id of ["reader", "ignorer"]) await notifyRunsOfEvent(env, tenantId, "test.go", { type: "user", id }, {});
    const [reader, ignorer] = await Promise.all(runs.map((r) => waitForRun(key, r.id, finished)));
    expect(stepOf(reader, "seen").output).toEqual({ path: 0 });
    expect(stepOf(reader, "reminder")).toBeUndefined();
    expect(await contents(stepOf(reader, "thanks").communicationIds)).toEqual(["Thanks for reading"]);
    expect(stepOf(ignorer, "seen").output).toEqual({ path: "otherwise" });
    expect(await contents(stepOf(ignorer, "reminder").communicationIds)).toEqual(["Please read your document"]);
    void wf;
  });

  it("escalates to the next channel unless the in-app message was read within the window", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await wf.modifyAll(async (m) => m.disableSleeps());
    await createWorkflow("escalating", key, {
      key: "escalating",
      name: "Escalating",
      steps: [
        inApp("note", "Action needed"),
        gate,
        { type: "escalate", id: "chase", after: "note", within: "4h", unless: "read", send: inApp("chase-again", "Still waiting on you", { priority: "high" }) },
      ],
    });
    const { runs } = await trigger(key, "escalating", { recipients: [user("reader"), user("ignorer")] });
    const views = await Promise.all(runs.map((r) => waitForRun(key, r.id, waitingOn("gate"))));
    for (const v of views) await deliver(tenantId, stepOf(v, "note").communicationIds);
    await readInInbox("reader", stepOf(views[0], "note").communicationIds[0]);
    for (const id of ["reader", "ignorer"]) await notifyRunsOfEvent(env, tenantId, "test.go", { type: "user", id }, {});
    const [reader, ignorer] = await Promise.all(runs.map((r) => waitForRun(key, r.id, finished)));
    expect(stepOf(reader, "chase")).toMatchObject({ outcome: "read", output: { watched: "note", escalated: false } });
    expect(stepOf(reader, "chase-again")).toBeUndefined();
    expect(stepOf(ignorer, "chase")).toMatchObject({ outcome: "delivered", output: { watched: "note", escalated: true } });
    const [sent] = stepOf(ignorer, "chase-again").communicationIds;
    expect((await call("GET", `/api/communications/${sent}`, { key })).json).toMatchObject({ content: "Still waiting on you", priority: "high", workflowStepId: "chase-again" });
  });
});

describe("versions in flight", () => {
  it("runs finish on the version they started with", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    const steps = (text: string) => [{ type: "wait_for_event", id: "gate", event: "test.go", timeout: "1d" }, inApp("msg", text)];
    await createWorkflow("v", key, { key: "v", name: "V", steps: steps("from version 1") });
    const old = await trigger(key, "v", { recipients: [user("u1")] });
    await waitForRun(key, old.runs[0]!.id, waitingOn("gate"));
    expect((await call("PUT", "/api/workflows/v", { key, body: { name: "V", steps: steps("from version 2") } })).json.version).toBe(2);
    const fresh = await trigger(key, "v", { recipients: [user("u2")] });
    expect(fresh.version).toBe(2);
    await waitForRun(key, fresh.runs[0]!.id, waitingOn("gate"));
    for (const id of ["u1", "u2"]) await notifyRunsOfEvent(env, tenantId, "test.go", { type: "user", id }, {});
    const a = await waitForRun(key, old.runs[0]!.id, finished);
    const b = await waitForRun(key, fresh.runs[0]!.id, finished);
    expect([a.version, b.version]).toEqual([1, 2]);
    expect(await contents(stepOf(a, "msg").communicationIds)).toEqual(["from version 1"]);
    expect(await contents(stepOf(b, "msg").communicationIds)).toEqual(["from version 2"]);
    void wf;
  });
});

describe("delay", () => {
  it("waits until the time given in the payload", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await wf.modifyAll(async (m) => m.disableSleeps());
    await createWorkflow("due", key, { key: "due", name: "Due", steps: [{ type: "delay", id: "until-due", untilField: "data.invoice.dueAt" }, inApp("due-now", "Due today")] });
    const dueAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const { runs } = await trigger(key, "due", { recipients: [user("u1"), user("u2")], data: { invoice: { dueAt } } });
    const run = await waitForRun(key, runs[0]!.id, finished);
    expect(stepOf(run, "until-due")).toMatchObject({ outcome: "completed", output: { until: dueAt } });
    const bad = await trigger(key, "due", { recipients: [user("u3")], data: { invoice: { dueAt: "next tuesday" } } });
    const skipped = await waitForRun(key, bad.runs[0]!.id, finished);
    expect(stepOf(skipped, "until-due")).toMatchObject({ status: "skipped", output: { reason: "data.invoice.dueAt is not an ISO time" } });
    expect(stepOf(skipped, "due-now").outcome).toBe("sent");
  });

  it("waits until a time of day in the recipient's time zone", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await wf.modifyAll(async (m) => m.disableSleeps());
    const pref = await call("PATCH", "/api/communication-preferences/user/tokyo", { key, body: { timezone: "Asia/Tokyo" } });
    expect(pref.status, pref.text).toBeLessThan(300);
    await createWorkflow("morning", key, { key: "morning", name: "Morning", steps: [{ type: "delay", id: "nine", untilTimeOfDay: "09:00" }, inApp("hello", "Good morning")] });
    const { runs } = await trigger(key, "morning", { recipients: [user("tokyo")] });
    const run = await waitForRun(key, runs[0]!.id, finished);
    const until = new Date(stepOf(run, "nine").output.until);
    // 09:00 in Tokyo is 00:00 UTC, within the next day.
    expect(until.getUTCHours()).toBe(0);
    expect(until.getUTCMinutes()).toBe(0);
    expect(until.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    expect(stepOf(run, "hello").outcome).toBe("sent");
  });
});
