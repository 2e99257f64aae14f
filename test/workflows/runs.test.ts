import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, createTenant, mockProviders, SENDGRID, sendgridAccepts } from "../helpers";
import { createWorkflow, deliver, finished, stepOf, trigger, waitForRun } from "./helpers";

let key: string;
let tenantId: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key, tenantId } = await createTenant());
});

const welcome = {
  key: "welcome",
  name: "Welcome",
  steps: [
    { type: "send", id: "hello", channel: "email", subject: "Welcome {{name}}", content: "Hi {{name}}, your plan is {{plan}}." },
    { type: "delay", id: "pause", duration: "1h" },
    { type: "send", id: "nudge", channel: "in_app", subject: "Getting started", content: "Three tips for {{plan}}" },
  ],
};

describe("workflow runs", () => {
  it("trigger 3 recipients: 3 runs, each sends through the pipeline and the mocked provider", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await wf.modifyAll(async (m) => m.disableSleeps());
    await addProvider(key, SENDGRID());
    const mock = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    await createWorkflow("welcome", key, welcome);
    const recipients = ["a", "b", "c"].map((id) => ({ type: "user", id, name: id.toUpperCase(), email: `${id}@example.com` }));
    const res = await trigger(key, "welcome", { recipients, data: { plan: "pro" } });
    expect(res).toMatchObject({ workflowKey: "welcome", version: 1 });
    expect(res.runs.map((r) => r.recipient)).toEqual(recipients.map((r) => ({ type: "user", id: r.id })));
    for (const instance of await wf.get()) await instance.waitForStatus("complete");

    for (const [i, r] of res.runs.entries()) {
      const run = await waitForRun(key, r.id, finished);
      expect(run.status).toBe("completed");
      expect(run.steps.map((s: any) => [s.id, s.status, s.outcome])).toEqual([
        ["hello", "done", "sent"],
        ["pause", "done", "completed"],
        ["nudge", "done", "sent"],
      ]);
      const ids = run.steps.flatMap((s: any) => s.communicationIds);
      expect(ids).toHaveLength(2);
      await deliver(tenantId, ids);
      const email = await call("GET", `/api/communications/${stepOf(run, "hello").communicationIds[0]}`, { key });
      expect(email.json).toMatchObject({
        status: "sent",
        channel: "email",
        subject: `Welcome ${recipients[i]!.name}`,
        content: `Hi ${recipients[i]!.name}, your plan is pro.`,
        workflowRunId: r.id,
        workflowStepId: "hello",
      });
    }
    const toSendgrid = mock.requests.filter((q) => q.url.startsWith("https://sendgrid.mock"));
    expect(toSendgrid).toHaveLength(3);
    expect(toSendgrid.map((q) => JSON.parse(q.body).personalizations[0].to[0].email).sort()).toEqual(["a@example.com", "b@example.com", "c@example.com"]);
  });
});
