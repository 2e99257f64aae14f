/**
 * The engine's D1 side: load a run and the steps of its pinned version, record each step's
 * progress in workflow_run_step, and move the run's status (src/workflows/status.ts). Every
 * write is idempotent (upserts keyed by run and step id; status updates guarded by the current
 * status), because Workflows may retry a `step.do` whose write landed but whose reply was lost.
 */
import type { EventRecipient } from "../automation/event";
import { database } from "../db/client";
import { getRun, getVersion, setRunStatus, upsertRunStep } from "../db/workflows";
import type { Env } from "../env";
import type { Step } from "./definition";
import type { RunStore } from "./interpreter";
import { isTerminal, nextRunStatus, startedStepStatus, type RunTransition } from "./status";
import type { Actor, EndStatus, RunContext } from "./steps/types";

export type LoadedRun = { recipient: EventRecipient; data: Record<string, unknown>; actor: Actor | null; steps: Step[]; bulk?: boolean };

export async function loadRun(env: Env, p: { runId: string; tenantId: string; workflowKey: string; version: number }): Promise<LoadedRun | null> {
  const db = database(env.DB);
  const [run, version] = await Promise.all([getRun(db, p.tenantId, p.runId), getVersion(db, p.tenantId, p.workflowKey, p.version)]);
  if (!run || !version) return null;
  return { recipient: run.recipient as EventRecipient, data: run.data, actor: run.actor ?? null, steps: version.steps, bulk: run.binding === "JOURNEYS_BULK" };
}

/**
 * The run's status after this transition, written in the same batch as the step's row. For an
 * open run the next status does not depend on which open status it was in, so no read is needed;
 * setRunStatus only updates open runs, which keeps terminal statuses (a cancel) where they are.
 */
const moveRun = (ctx: RunContext, t: RunTransition) => {
  const next = nextRunStatus("running", t);
  return setRunStatus(database(ctx.env.DB), ctx.tenantId, ctx.runId, next, new Date(), isTerminal(next));
};

export const d1RunStore: RunStore = {
  async isCancelled(ctx) {
    const run = await getRun(database(ctx.env.DB), ctx.tenantId, ctx.runId);
    return !run || run.status === "cancelled";
  },
  async stepStarted(ctx, s) {
    const now = new Date();
    const db = database(ctx.env.DB);
    await db.batch([
      upsertRunStep(db, {
        runId: ctx.runId,
        tenantId: ctx.tenantId,
        stepId: s.id,
        type: s.type,
        status: startedStepStatus(s.type),
        outcome: null,
        startedAt: now,
        finishedAt: null,
        output: null,
        communicationIds: [],
      }),
      moveRun(ctx, { kind: "step_started", stepType: s.type }),
    ]);
  },
  async stepFinished(ctx, s, r) {
    const db = database(ctx.env.DB);
    await db.batch([
      upsertRunStep(db, {
        runId: ctx.runId,
        tenantId: ctx.tenantId,
        stepId: s.id,
        type: s.type,
        status: r.outcome === "skipped" ? "skipped" : r.outcome === "failed" ? "failed" : "done",
        outcome: r.outcome,
        startedAt: null,
        finishedAt: new Date(),
        output: r.output ?? null,
        communicationIds: r.communicationIds ?? [],
      }),
      moveRun(ctx, { kind: "step_finished" }),
    ]);
  },
  async stepFailed(ctx, s, error) {
    await upsertRunStep(database(ctx.env.DB), {
      runId: ctx.runId,
      tenantId: ctx.tenantId,
      stepId: s.id,
      type: s.type,
      status: "failed",
      outcome: "failed",
      startedAt: null,
      finishedAt: new Date(),
      output: { error },
      communicationIds: [],
    });
  },
};

export async function finishRun(env: Env, p: { runId: string; tenantId: string }, status: EndStatus) {
  await setRunStatus(database(env.DB), p.tenantId, p.runId, nextRunStatus("running", { kind: "ended", status }), new Date(), true);
}
