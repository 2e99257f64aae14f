/**
 * wait_for_event: pauses on `step.waitForEvent` until the named business event for this
 * recipient arrives (POST /api/events -> notifyRunsOfEvent -> instance.sendEvent) or the timeout
 * passes, then runs `onEvent` (the event's data available as `data.event`) or `onTimeout`.
 */
import { durationSeconds, type Step } from "../definition";
import { workflowsEventType } from "../runs";
import { stepName, type StepRunner } from "./types";

type WaitStep = Extract<Step, { type: "wait_for_event" }>;

export const runWaitForEvent: StepRunner<WaitStep> = async (step, ctx, s) => {
  let payload: { type?: string; data?: Record<string, unknown> };
  try {
    // The payload travels as JSON text (notifyRunsOfEvent), so it replays exactly as it came.
    const event = await step.waitForEvent<string>(stepName(s, "wait"), {
      type: workflowsEventType(s.event),
      timeout: `${durationSeconds(s.timeout)} seconds`,
    });
    payload = JSON.parse(event.payload) as typeof payload;
  } catch {
    // Workflows rejects the wait when its timeout passes.
    return { outcome: "timed_out", next: s.onTimeout };
  }
  return {
    outcome: "event_received",
    output: { event: s.event, data: payload.data ?? {} },
    data: { ...ctx.data, event: payload.data ?? {} },
    next: s.onEvent,
  };
};
