/**
 * Step kind -> runner. One file per kind beside this one; the interpreter dispatches here.
 */
import type { Step } from "../definition";
import type { StepRunner } from "./types";

type Runners = { [K in Step["type"]]: StepRunner<Extract<Step, { type: K }>> };

const notBuilt = (kind: string): StepRunner => async () => {
  throw new Error(`${kind} steps are not built yet`);
};

export const RUNNERS: Runners = {
  send: notBuilt("send"),
  delay: notBuilt("delay"),
  branch: notBuilt("branch"),
  wait_for_event: notBuilt("wait_for_event"),
  escalate: notBuilt("escalate"),
  // ---- wf-fit replaces these three (src/workflows/steps/digest.ts, throttle.ts, start-reminder.ts) ----
  digest: notBuilt("digest"),
  throttle: notBuilt("throttle"),
  start_reminder: notBuilt("start_reminder"),
  // ---- end of wf-fit's cases ----
};
