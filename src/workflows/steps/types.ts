/**
 * The one interface every step kind implements (src/workflows/steps/<kind>.ts). The interpreter
 * (src/workflows/interpreter.ts) walks a version's steps in order and hands each to its runner
 * with the Workflows `step` object and what the run knows so far; the runner does its durable
 * work through `step.do` / `step.sleep` / `step.waitForEvent` (names derived from the step id, so
 * replays line up) and says what became of it: an outcome, an optional output for the run view,
 * and optionally nested steps to run next (branch, wait_for_event, escalate) or an end status
 * (throttle, digest).
 *
 * Runners never write workflow_run_step themselves: the interpreter records `running` before
 * and the result after, each inside its own durable step, so the run view shows progress and a
 * replay does not write twice.
 */
import type { WorkflowStep, WorkflowStepConfig } from "cloudflare:workers";
import type { Env } from "../../env";
import type { EventRecipient } from "../../automation/event";
import type { Step, StepOutcome } from "../definition";

export type Actor = { type: string; id: string; name?: string };

/** A step's recorded result, as later steps (branch, escalate) and the run view read it. */
export type StepRecord = { outcome: StepOutcome; communicationIds: string[]; output?: Record<string, unknown> };

/** How a run ended, other than by running out of steps (`completed`). */
export type EndStatus = "completed" | "cancelled" | "failed" | "throttled" | "digested";

export type RunContext = {
  env: Env;
  tenantId: string;
  runId: string;
  workflow: { key: string; version: number };
  recipient: EventRecipient;
  data: Record<string, unknown>;
  actor: Actor | null;
  /** Started by an audience trigger (JOURNEYS_BULK): its sends take the bulk lane, behind no transactional send. */
  bulk: boolean;
  /** Outcomes of the steps that ran before this one, by step id (fresh reads are the runner's job). */
  outcomes: Map<string, StepRecord>;
};

export type StepResult = {
  outcome: StepOutcome;
  output?: Record<string, unknown>;
  communicationIds?: string[];
  /** Steps to run right after this one, before the rest of the current list (a branch's chosen path). */
  next?: Step[];
  /** Stop the run here with this status. */
  end?: EndStatus;
  /** The run's data for the steps after this one (a digest makes `digest.events` available). */
  data?: Record<string, unknown>;
};

export type StepRunner<S extends Step = Step> = (step: WorkflowStep, ctx: RunContext, s: S) => Promise<StepResult>;

/** Durable step names: unique per step id (and per purpose inside one runner). */
export const stepName = (s: { id: string }, part: string) => `${s.id}:${part}`;

/** Retries for steps that touch D1 or the pipeline: transient failures heal, a bug fails the run in seconds. */
export const STEP_RETRIES: WorkflowStepConfig = { retries: { limit: 3, delay: "1 second", backoff: "exponential" }, timeout: "1 minute" };

/**
 * `step.do` for plain JSON results. Workflows persists what a step returns with structured
 * clone; going through JSON keeps the replayed value identical to the first one (Dates become
 * ISO strings either way, so runners never return them).
 */
export async function durably<T>(step: WorkflowStep, name: string, fn: () => Promise<T>, config: WorkflowStepConfig = STEP_RETRIES): Promise<T> {
  const json = await step.do(name, config, async () => JSON.stringify((await fn()) ?? null));
  return JSON.parse(json) as T;
}
