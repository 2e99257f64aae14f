/**
 * The console's own checks on a workflow's steps (src/console/pages/workflow-steps.js) against
 * the API's schema (src/workflows/definition.ts): the editor must never refuse what the API
 * accepts, and every mistake it names must be one the API names at the same JSON path, so its
 * messages and the API's land beside the same field.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: the console is plain JavaScript modules without declarations.
import { cleanSteps, validateSteps } from "../../src/console/pages/workflow-steps.js";
import { fieldErrors } from "../../src/api/validate";
import { WorkflowDefinition } from "../../src/workflows/definition";
import { WORKFLOW_TEMPLATES } from "../../src/workflows/templates";

type FieldError = { field: string; message: string };
const editor = (steps: unknown[]): FieldError[] => validateSteps(cleanSteps(steps));
const api = (steps: unknown[]): string[] => {
  const parsed = WorkflowDefinition.safeParse({ name: "w", steps: cleanSteps(steps) });
  return parsed.success ? [] : fieldErrors(parsed.error).map((e) => e.field);
};

const send = (over: Record<string, unknown> = {}) => ({ type: "send", id: "s", channel: "email", templateCode: "welcome", ...over });

describe("the console's step checks", () => {
  it("accept every ready-made workflow the API accepts", () => {
    for (const t of WORKFLOW_TEMPLATES) {
      expect(api(t.definition.steps as unknown[]), t.key).toEqual([]);
      expect(editor(t.definition.steps as unknown[]), t.key).toEqual([]);
    }
  });

  it("accept a tree with every step kind, as the editor writes it (empty fields included)", () => {
    const steps = [
      send({ id: "first", subject: "", channels: [], when: [{ field: "data.plan", op: "eq", value: "pro" }] }),
      { type: "throttle", id: "t", limit: 3, window: "1d", key: "" },
      { type: "digest", id: "d", window: "1h", untilTimeOfDay: "", maxEvents: "" },
      { type: "wait_for_event", id: "w", event: "invoice.paid", timeout: "3d", onEvent: [send({ id: "thanks" })], onTimeout: [] },
      { type: "branch", id: "b", paths: [{ when: [{ field: "data.n", op: "exists" }], steps: [{ type: "delay", id: "later", untilTimeOfDay: "09:00" }] }], otherwise: [] },
      { type: "escalate", id: "e", after: "first", within: "1d", unless: "opened", send: send({ id: "e-sms", channel: "sms" }) },
      { type: "start_reminder", id: "r", name: "dunning", entityField: "data.invoiceId", templateCode: "payment_reminder", channels: ["sms"], every: "3d", maxSteps: 3, cancelOn: [] },
    ];
    expect(api(steps)).toEqual([]);
    expect(editor(steps)).toEqual([]);
  });

  const broken: [string, unknown[]][] = [
    ["no steps", []],
    ["a bad step id", [send({ id: "Bad id" })]],
    ["an id used twice", [send(), send({ channel: "sms" })]],
    ["a send with neither template nor content", [send({ templateCode: "" })]],
    ["a send with both", [send({ content: "hi" })]],
    ["channels without auto", [send({ channels: ["sms"] })]],
    ["a delay with two waits", [{ type: "delay", id: "d", duration: "1h", untilTimeOfDay: "09:00" }]],
    ["a delay without any", [{ type: "delay", id: "d" }]],
    ["a delay of words", [{ type: "delay", id: "d", duration: "2 hours" }]],
    ["a digest with neither window", [{ type: "digest", id: "d" }]],
    ["a throttle without a limit", [{ type: "throttle", id: "t", window: "1d" }]],
    ["a wait without an event", [{ type: "wait_for_event", id: "w", event: "", timeout: "1d", onEvent: [], onTimeout: [] }]],
    ["a branch path without conditions", [{ type: "branch", id: "b", paths: [{ when: [], steps: [] }], otherwise: [] }]],
    ["a condition without a value", [send({ when: [{ field: "data.plan", op: "eq" }] })]],
    ["an escalation after no send", [{ type: "escalate", id: "e", after: "nothing", within: "1d", unless: "opened", send: send({ id: "x" }) }]],
    ["a nested step's bad id", [{ type: "wait_for_event", id: "w", event: "a.b", timeout: "1d", onEvent: [send({ id: "9" })], onTimeout: [] }]],
    ["a reminder without channels", [{ type: "start_reminder", id: "r", name: "n", entityField: "data.id", templateCode: "t", channels: [], every: "1d", maxSteps: 2 }]],
  ];

  it.each(broken)("name %s where the API does", (_, steps) => {
    const local = editor(steps).map((e) => e.field);
    const server = api(steps);
    expect(local.length).toBeGreaterThan(0);
    expect(server.length).toBeGreaterThan(0);
    // Each of the editor's paths is on the line of one the API names: the same, above it (the step
    // holding the API's field), or below it. The API names some mistakes only at the step
    // (`steps.0`: no kind of step matched, so zod says which union failed, not which field),
    // where the editor can name the field itself.
    const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
    for (const field of local) expect(server.some((s) => related(s, field)), `${field} vs ${server.join(", ")}`).toBe(true);
  });
});
