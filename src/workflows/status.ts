/**
 * A run's status, moved by one pure function: what the interpreter saw happen (a step started,
 * a step finished, the run ended) in, the next status out. Terminal statuses never move again,
 * so a cancel written by the API is not overwritten by an instance finishing its current step.
 * A run is stored `pending` (its instance not created, or not at its first step yet) and leaves it
 * like any open status: its first step started moves it to `running` or `waiting`, a cancel or
 * an end at any point to that terminal status; nothing moves a run back to `pending`.
 */
import type { RunStatus, RunStepStatus } from "../db/schema/workflows";
import type { Step } from "./definition";
import type { EndStatus } from "./steps/types";

export const TERMINAL: readonly RunStatus[] = ["completed", "cancelled", "failed", "throttled", "digested"];
export const isTerminal = (s: RunStatus) => TERMINAL.includes(s);

/** Steps that spend their time sleeping or waiting on an event: the run shows `waiting` meanwhile. */
const WAITING_KINDS: ReadonlySet<Step["type"]> = new Set(["delay", "wait_for_event", "escalate", "digest"]);

export type RunTransition = { kind: "step_started"; stepType: Step["type"] } | { kind: "step_finished" } | { kind: "ended"; status: EndStatus };

export function nextRunStatus(current: RunStatus, t: RunTransition): RunStatus {
  if (isTerminal(current)) return current;
  switch (t.kind) {
    case "step_started":
      return WAITING_KINDS.has(t.stepType) ? "waiting" : "running";
    case "step_finished":
      return "running";
    case "ended":
      return t.status;
  }
}

/** The run-step status a started step shows. */
export const startedStepStatus = (type: Step["type"]): RunStepStatus => (WAITING_KINDS.has(type) ? "waiting" : "running");
