/**
 * The workflows' minute pass: audience triggers whose page chain stalled are restarted
 * (fanout.ts), and pending runs whose queued instance creation was lost get their instances
 * (creation.ts). Each is bounded per pass; one failing does not keep the other from running.
 */
import type { Env } from "../env";
import { createLostRuns } from "./creation";
import { restartStalledFanouts } from "./fanout";

export async function runWorkflowPass(env: Env, now: Date) {
  const [fanouts, lost] = await Promise.allSettled([restartStalledFanouts(env, now), createLostRuns(env, now)]);
  return {
    fanoutsRestarted: fanouts.status === "fulfilled" ? fanouts.value : 0,
    lostRunsCreated: lost.status === "fulfilled" ? lost.value : 0,
    errors: [fanouts, lost].flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : [])),
  };
}
