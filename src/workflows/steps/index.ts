/**
 * Step kind -> runner. One file per kind beside this one; the interpreter dispatches here.
 */
import type { Step } from "../definition";
import type { StepRunner } from "./types";
import { runBranch } from "./branch";
import { runDelay } from "./delay";
import { runEscalate } from "./escalate";
import { runSend } from "./send";
import { runWaitForEvent } from "./wait-for-event";
import { runDigest } from "./digest";
import { runStartReminder } from "./start-reminder";
import { runThrottle } from "./throttle";

type Runners = { [K in Step["type"]]: StepRunner<Extract<Step, { type: K }>> };

export const RUNNERS: Runners = {
  send: runSend,
  delay: runDelay,
  branch: runBranch,
  wait_for_event: runWaitForEvent,
  escalate: runEscalate,
  // ---- wf-fit replaces these three (src/workflows/steps/digest.ts, throttle.ts, start-reminder.ts) ----
  digest: runDigest,
  throttle: runThrottle,
  start_reminder: runStartReminder,
  // ---- end of wf-fit's cases ----
};
