/**
 * Walks a workflow version's steps inside one Workflows instance. Each step is bracketed by two
 * durable steps that write workflow_run_step (`running`, then its result), and preceded by a
 * check of the run's cancelled flag, so a cancel that lands during a delay stops the run before
 * its next step even if terminating the instance raced it. Durable step names derive from the
 * step ids, which the definition keeps unique across the whole tree, so a replay after eviction
 * lines each `step.do` up with its persisted result.
 */
import type { WorkflowStep } from "cloudflare:workers";
import type { Step } from "./definition";
import { RUNNERS } from "./steps";
import { durably, stepName, type EndStatus, type RunContext, type StepResult } from "./steps/types";

/** What the interpreter writes and reads about the run; src/workflows/run-store.ts implements it over D1. */
export type RunStore = {
  isCancelled(ctx: RunContext): Promise<boolean>;
  stepStarted(ctx: RunContext, s: Step): Promise<void>;
  stepFinished(ctx: RunContext, s: Step, r: StepResult): Promise<void>;
  stepFailed(ctx: RunContext, s: Step, error: string): Promise<void>;
};

/** Runs `steps` in order (and the nested steps a runner chooses); resolves with how the run ended. */
export async function runSteps(step: WorkflowStep, ctx: RunContext, steps: Step[], store: RunStore): Promise<EndStatus> {
  for (const s of steps) {
    const cancelled = await durably(step, stepName(s, "check"), () => store.isCancelled(ctx));
    if (cancelled) return "cancelled";
    await durably(step, stepName(s, "start"), () => store.stepStarted(ctx, s));
    let result: StepResult;
    try {
      result = await (RUNNERS[s.type] as (st: WorkflowStep, c: RunContext, x: Step) => Promise<StepResult>)(step, ctx, s);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await durably(step, stepName(s, "failed"), () => store.stepFailed(ctx, s, message));
      return "failed";
    }
    await durably(step, stepName(s, "finish"), () => store.stepFinished(ctx, s, result));
    ctx.outcomes.set(s.id, { outcome: result.outcome, communicationIds: result.communicationIds ?? [], output: result.output });
    if (result.data) ctx.data = result.data;
    if (result.end) return result.end;
    if (result.next?.length) {
      const ended = await runSteps(step, ctx, result.next, store);
      if (ended !== "completed") return ended;
    }
  }
  return "completed";
}
