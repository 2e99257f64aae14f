/**
 * delay: sleeps a fixed duration, until an ISO time in the payload, or until the next time of
 * day in a time zone (`recipient`: the one in the recipient's preferences, else UTC). The wake-up
 * instant is computed once in a durable step, so a replay sleeps to the same instant.
 */
import { valueAt } from "../../automation/rule";
import { database } from "../../db/client";
import { getPreference } from "../../db/preferences";
import { isValidTimeZone, nextLocalTime } from "../../preferences/quiet-hours";
import { durationSeconds, MAX_WAIT_SECONDS, type Step } from "../definition";
import { durably, stepName, type RunContext, type StepRunner } from "./types";

type DelayStep = Extract<Step, { type: "delay" }>;

/** The time zone a step means: a named one, or the recipient's own (UTC when unknown). */
export async function timeZoneOf(ctx: RunContext, timeZone: string): Promise<string> {
  if (timeZone !== "recipient") return isValidTimeZone(timeZone) ? timeZone : "UTC";
  if (!ctx.recipient.id) return "UTC";
  const pref = await getPreference(database(ctx.env.DB), ctx.tenantId, { entityType: ctx.recipient.type, entityId: ctx.recipient.id }).get();
  return pref?.timezone && isValidTimeZone(pref.timezone) ? pref.timezone : "UTC";
}

type Target = { until: number | null; reason?: string };

async function targetOf(ctx: RunContext, s: DelayStep, now: Date): Promise<Target> {
  if (s.duration) return { until: now.getTime() + durationSeconds(s.duration) * 1000 };
  if (s.untilField) {
    const raw = valueAt(ctx.data, s.untilField.slice("data.".length));
    const at = typeof raw === "string" ? Date.parse(raw) : NaN;
    if (Number.isNaN(at)) return { until: null, reason: `${s.untilField} is not an ISO time` };
    return { until: Math.min(at, now.getTime() + MAX_WAIT_SECONDS * 1000) };
  }
  return { until: nextLocalTime(now, s.untilTimeOfDay!, await timeZoneOf(ctx, s.timeZone)).getTime() };
}

export const runDelay: StepRunner<DelayStep> = async (step, ctx, s) => {
  const target = await durably(step, stepName(s, "until"), () => targetOf(ctx, s, new Date()));
  if (target.until === null) return { outcome: "skipped", output: { reason: target.reason } };
  if (target.until > Date.now()) await step.sleepUntil(stepName(s, "sleep"), new Date(target.until));
  return { outcome: "completed", output: { until: new Date(target.until).toISOString() } };
};
