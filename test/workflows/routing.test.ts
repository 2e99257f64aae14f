import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, createTenant, SENDGRID } from "../helpers";
import { createWorkflow, finished, stepOf, trigger, waitForRun } from "./helpers";

let key: string;

beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key } = await createTenant());
});

const prefs = async (id: string, body: Record<string, unknown>) => {
  const res = await call("PATCH", `/api/communication-preferences/user/${id}`, { key, body });
  expect(res.status, res.text).toBeLessThan(300);
};
const channelOf = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;

describe("sends inside workflows go through preferences and routing", () => {
  it("channel auto follows the recipient's preferences; branches read preferences; opt-outs suppress", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await addProvider(key, SENDGRID());
    await prefs("likes-inapp", { preferences: { update: ["in_app"] }, preferredEmail: "li@example.com" });
    await prefs("gone", { optedOut: true, optedOutReason: "asked" });
    await createWorkflow("updates", key, {
      key: "updates",
      name: "Updates",
      steps: [
        { type: "send", id: "update", channel: "auto", channels: ["email", "in_app"], messageType: "update", subject: "Update", content: "Something changed" },
        {
          type: "branch",
          id: "email-ok",
          paths: [{ when: [{ field: "preferences.update.email", op: "eq", value: false }], steps: [{ type: "send", id: "inapp-only", channel: "in_app", messageType: "update", content: "In-app only" }] }],
          otherwise: [],
        },
      ],
    });
    const { runs } = await trigger(key, "updates", {
      recipients: [
        { type: "user", id: "likes-inapp" },
        { type: "user", id: "plain", email: "plain@example.com" },
        { type: "user", id: "gone", email: "gone@example.com" },
      ],
    });
    const [liker, plain, gone] = await Promise.all(runs.map((r) => waitForRun(key, r.id, finished)));

    const [likerMsg] = stepOf(liker, "update").communicationIds;
    expect(await channelOf(likerMsg)).toMatchObject({ channel: "in_app", type: "update", workflowRunId: liker.id, workflowStepId: "update" });
    expect(stepOf(liker, "email-ok").output).toEqual({ path: 0 });
    expect(stepOf(liker, "inapp-only").outcome).toBe("sent");

    const [plainMsg] = stepOf(plain, "update").communicationIds;
    expect(await channelOf(plainMsg)).toMatchObject({ channel: "email", recipientContact: "plain@example.com" });
    expect(stepOf(plain, "email-ok").output).toEqual({ path: "otherwise" });

    expect(stepOf(gone, "update").outcome).toBe("suppressed");
    expect((await channelOf(stepOf(gone, "update").communicationIds[0])).status).toBe("suppressed");
    void wf;
  });

  it("a send that cannot be made fails its step with the reason, and the run goes on", async () => {
    await using wf = await introspectWorkflow(env.JOURNEYS);
    await createWorkflow("broken", key, {
      key: "broken",
      name: "Broken",
      steps: [
        { type: "send", id: "missing", channel: "email", templateCode: "no_such_template" },
        { type: "branch", id: "check", paths: [{ when: [{ field: "steps.missing.outcome", op: "eq", value: "failed" }], steps: [{ type: "send", id: "fallback", channel: "in_app", content: "Fallback" }] }] },
      ],
    });
    const { runs } = await trigger(key, "broken", { recipients: [{ type: "user", id: "u1", email: "u1@example.com" }] });
    const run = await waitForRun(key, runs[0]!.id, finished);
    expect(run.status).toBe("completed");
    expect(stepOf(run, "missing")).toMatchObject({ status: "failed", outcome: "failed", communicationIds: [] });
    expect(stepOf(run, "missing").output.errors[0].message).toBeTruthy();
    expect(stepOf(run, "fallback").outcome).toBe("sent");
    void wf;
  });
});
