import { describe, expect, it } from "vitest";
import { CHANNELS } from "../domain";
import { durationSeconds, WorkflowDefinition } from "./definition";

const invoice = {
  name: "Invoice reminders",
  steps: [
    { type: "send", id: "inbox", channel: "in_app", content: "Invoice {{data.number}} is ready" },
    { type: "escalate", id: "to-email", after: "inbox", within: "1h", unless: "read", send: { type: "send", id: "email", channel: "email", templateCode: "invoice" } },
    {
      type: "wait_for_event",
      id: "paid",
      event: "invoice.paid",
      timeout: "7d",
      onTimeout: [{ type: "branch", id: "big", paths: [{ when: [{ field: "data.amount", op: "gt", value: 1000 }], steps: [{ type: "send", id: "sms", channel: "sms", content: "Please pay" }] }] }],
    },
  ],
};

describe("workflow definitions", () => {
  it("accepts a nested journey and fills defaults", () => {
    const w = WorkflowDefinition.parse(invoice);
    expect(w.triggerEvents).toEqual([]);
    const wait = w.steps[2] as { onEvent: unknown[] };
    expect(wait.onEvent).toEqual([]);
  });

  it("names a duplicated step id by its path", () => {
    const bad = structuredClone(invoice);
    (bad.steps[2] as { onTimeout: { id: string }[] }).onTimeout[0]!.id = "inbox";
    const r = WorkflowDefinition.safeParse(bad);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join("."))).toContain("steps.2.onTimeout.0.id");
  });

  it("refuses an escalation that does not follow a send", () => {
    const r = WorkflowDefinition.safeParse({ ...invoice, steps: [invoice.steps[1]] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path.join(".")).toBe("steps.0.after");
  });

  it("refuses a send with both or neither of template and content", () => {
    const r = WorkflowDefinition.safeParse({ name: "x", steps: [{ type: "send", id: "a", channel: "email" }] });
    expect(r.success).toBe(false);
  });

  it("routes a send over every channel, chat channels included, and no channel twice as many", () => {
    const send = (channels: string[]) => WorkflowDefinition.safeParse({ name: "x", steps: [{ type: "send", id: "a", channel: "auto", channels, content: "Hi" }] });
    expect(send([...CHANNELS]).success).toBe(true);
    expect(send([...CHANNELS, ...CHANNELS]).success).toBe(false);
  });

  it("reads durations", () => {
    expect(durationSeconds("90s")).toBe(90);
    expect(durationSeconds("2h")).toBe(7200);
    expect(durationSeconds("7d")).toBe(604800);
  });
});
