/**
 * Shared by the workflow tests: create a workflow, trigger it, wait for runs to reach a state
 * (polling D1 through the API: conditions, never fixed sleeps), and deliver what runs enqueued.
 * Runs execute in real Workflows instances; their sends land on the real (unconsumed) queue, so
 * tests hand the communications to the delivery Worker's handler themselves.
 */
import { expect } from "vitest";
import { sendMessage } from "../../src/pipeline/queue-message";
import { call, runDelivery } from "../helpers";

export async function createWorkflow(key: string, apiKey: string, body: Record<string, unknown>) {
  const res = await call("POST", "/api/workflows", { key: apiKey, body: { key: body.key ?? "journey", ...body } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

export async function trigger(apiKey: string, workflowKey: string, body: Record<string, unknown>) {
  const res = await call("POST", `/api/workflows/${workflowKey}/trigger`, { key: apiKey, body });
  expect(res.status, res.text).toBe(202);
  return res.json as { workflowKey: string; version: number; runs: { id: string; recipient: { type: string; id: string } }[] };
}

export const getRun = async (apiKey: string, id: string) => {
  const res = await call("GET", `/api/workflows/runs/${id}`, { key: apiKey });
  expect(res.status, res.text).toBe(200);
  return res.json;
};

/** Polls the run until `done` holds; fails with the last view after a generous number of tries. */
export async function waitForRun(apiKey: string, id: string, done: (run: any) => boolean) {
  let run: any;
  for (let i = 0; i < 600; i++) {
    run = await getRun(apiKey, id);
    if (done(run)) return run;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${id} never got there: ${JSON.stringify(run)}`);
}

export const finished = (run: any) => !["pending", "running", "waiting"].includes(run.status);
export const stepOf = (run: any, id: string) => run.steps.find((s: any) => s.id === id);
export const waitingOn = (stepId: string) => (run: any) => stepOf(run, stepId)?.status === "waiting";

/** Hands these communications to the delivery Worker, as the queue would. */
export const deliver = (tenantId: string, ids: string[]) => runDelivery(ids.map((id) => sendMessage(tenantId, id)));
