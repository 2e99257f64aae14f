/**
 * digest: runs of one workflow that reach this step for the same recipient and digest key while a
 * window is open join one digest. The first run opens the window and waits (a fixed window, or
 * until the next time of day in the recipient's zone); later runs add their event and end
 * `digested`. When the window closes the waiting run continues once, with `digest.events` (up to
 * maxEvents) and `digest.count` in its data for the steps after. An event is keyed by the
 * trigger's idempotency key (else the payload's `eventId`, else the run): the same event twice
 * counts once, even across windows (Novu's users report duplicate digests).
 *
 * The owner waits on `step.waitForEvent` with the window as its timeout rather than on a sleep,
 * so the window can be closed early by an event (`digest-close-<step id>`), e.g. by tests.
 */
import { recipientKey } from "../../automation/event";
import { valueAt } from "../../automation/rule";
import { database } from "../../db/client";
import { closeDigest, joinDigest } from "../../db/workflow-fit";
import { getRun } from "../../db/workflows";
import { uuidv7 } from "../../lib/ids";
import { nextLocalTime } from "../../preferences/quiet-hours";
import { durationSeconds, MAX_WAIT_SECONDS, type Step } from "../definition";
import { timeZoneOf } from "./delay";
import { durably, stepName, type RunContext, type StepRunner } from "./types";

type DigestStep = Extract<Step, { type: "digest" }>;

export const digestCloseEvent = (s: { id: string }) => `digest-close-${s.id}`;

/** The trigger's own key for the event, without the per-recipient suffix startRuns adds. */
async function eventKeyOf(ctx: RunContext): Promise<string> {
  const run = await getRun(database(ctx.env.DB), ctx.tenantId, ctx.runId);
  const key = run?.idempotencyKey?.split("\u0000")[0];
  if (key) return `key:${key}`;
  const id = ctx.data.eventId;
  return typeof id === "string" || typeof id === "number" ? `event:${id}` : `run:${ctx.runId}`;
}

async function join(ctx: RunContext, s: DigestStep) {
  const now = Date.now();
  const digestKey = s.key ? String(valueAt(ctx.data, s.key.slice("data.".length)) ?? "") : "";
  const rKey = recipientKey(ctx.recipient);
  const closesAt = s.window ? now + durationSeconds(s.window) * 1000 : nextLocalTime(new Date(now), s.untilTimeOfDay!, await timeZoneOf(ctx, s.timeZone)).getTime();
  const joined = await joinDigest(ctx.env.DB, {
    id: uuidv7(now),
    tenantId: ctx.tenantId,
    scope: JSON.stringify([ctx.workflow.key, s.id, rKey, digestKey]),
    workflowKey: ctx.workflow.key,
    stepId: s.id,
    recipientKey: rKey,
    digestKey,
    runId: ctx.runId,
    eventKey: await eventKeyOf(ctx),
    data: ctx.data,
    closesAt: Math.min(closesAt, now + MAX_WAIT_SECONDS * 1000),
    now,
  });
  return { ...joined, digestKey };
}

export const runDigest: StepRunner<DigestStep> = async (step, ctx, s) => {
  const j = await durably(step, stepName(s, "join"), () => join(ctx, s));
  if (j.eventRunId !== ctx.runId) return { outcome: "skipped", output: { reason: "the same event is already in a digest", duplicateOf: j.eventRunId }, end: "digested" };
  if (!j.digestId || j.ownerRunId !== ctx.runId) return { outcome: "completed", output: { digestId: j.digestId, joined: true }, end: "digested" };
  const waitMs = Math.max(0, j.closesAt! - Date.now());
  if (waitMs > 0) {
    try {
      await step.waitForEvent(stepName(s, "window"), { type: digestCloseEvent(s), timeout: `${Math.ceil(waitMs / 1000)} seconds` });
    } catch {
      // The window's timeout: the usual way a digest closes.
    }
  }
  const closed = await durably(step, stepName(s, "close"), () => closeDigest(ctx.env.DB, ctx.tenantId, j.digestId!, s.maxEvents, Date.now()));
  return {
    outcome: "completed",
    output: { digestId: j.digestId, digestKey: j.digestKey, count: closed.count },
    data: { ...ctx.data, digest: { events: closed.events, count: closed.count, key: j.digestKey } },
  };
};
