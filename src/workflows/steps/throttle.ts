/**
 * throttle: at most `limit` runs per recipient (and per value of `key`) pass within `window`; the
 * others end `throttled`. Windows are fixed (aligned to the epoch in steps of `window`). Each run
 * records itself once in D1 and passes when its rank there is within the limit: concurrent runs
 * are ordered by D1, none is counted twice on a retry, and no update is lost.
 */
import { recipientKey } from "../../automation/event";
import { valueAt } from "../../automation/rule";
import { throttleRank } from "../../db/workflow-fit";
import { durationSeconds, type Step } from "../definition";
import { durably, stepName, type StepRunner } from "./types";

type ThrottleStep = Extract<Step, { type: "throttle" }>;

export const runThrottle: StepRunner<ThrottleStep> = async (step, ctx, s) => {
  const r = await durably(step, stepName(s, "count"), async () => {
    const now = Date.now();
    const windowMs = durationSeconds(s.window) * 1000;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const keyValue = s.key ? String(valueAt(ctx.data, s.key.slice("data.".length)) ?? "") : "";
    const scope = JSON.stringify([ctx.workflow.key, s.id, recipientKey(ctx.recipient), keyValue]);
    const rank = await throttleRank(ctx.env.DB, { tenantId: ctx.tenantId, scope, windowStart, runId: ctx.runId, now });
    return { rank, windowStart: new Date(windowStart).toISOString(), windowEnd: new Date(windowStart + windowMs).toISOString() };
  });
  const output = { rank: r.rank, limit: s.limit, windowStart: r.windowStart, windowEnd: r.windowEnd };
  return r.rank <= s.limit ? { outcome: "completed", output } : { outcome: "throttled", output, end: "throttled" };
};
