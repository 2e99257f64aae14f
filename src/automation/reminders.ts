/**
 * Reminder sequences (seed §6.3): per entity, a first reminder at a time, then every N days or at
 * listed offsets, up to a maximum; step i uses steps[i] (the last repeating). The cron pass sends
 * what is due in bounded chunks; a cancelling event for the entity, or DELETE, stops the sequence
 * and cancels its sends still waiting (held for quiet hours). Every communication of a sequence
 * carries the entity, so the entity's history shows them.
 */
import type { Db } from "../db/client";
import { advanceReminder, claimReminder, findDueReminders, pendingSequenceSends, type ReminderRow } from "../db/reminders";
import { uuidv7 } from "../lib/ids";
import type { EventMessage } from "../pipeline/event-message";
import { cancelByIds } from "../pipeline/cancel";
import { forTenant, STALE_CLAIM_MS, type AutomationDeps } from "./deps";
import { dispatch, type SendError } from "./dispatch";
import type { EventRecipient } from "./event";
import { variablesFor } from "./requests";
import { reminderSeconds, type ReminderSchedule, type SendStep } from "./rule";
import type { z } from "zod";

const DAY_MS = 86_400_000;
export const REMINDER_BATCH = 100;

type Schedule = Pick<ReminderRow, "firstAt" | "everyDays" | "offsetsDays" | "maxSteps"> & Partial<Pick<ReminderRow, "everySeconds" | "offsetsSeconds">>;

/** Offsets from the first step in seconds: rows from before 0024 only have the day fields. */
const offsetsOf = (s: Schedule) => s.offsetsSeconds ?? s.offsetsDays?.map((d) => d * 86400) ?? null;
const everyOf = (s: Schedule) => s.everySeconds ?? (s.everyDays ?? 0) * 86400;

export const totalSteps = (s: Schedule) => Math.min(s.maxSteps, offsetsOf(s)?.length ?? Infinity);

/** When step `i` (0-based) is due on the sequence's own calendar. */
export const stepDueAt = (s: Schedule, i: number) => {
  const offsets = offsetsOf(s);
  return new Date(s.firstAt.getTime() + (offsets ? offsets[i]! : i * everyOf(s)) * 1000);
};

/** A schedule's spacing as the API shows it: the largest unit that divides it (`90m`, `2h`, `3d`). */
export function durationText(seconds: number): string {
  if (seconds === 0) return "0m";
  for (const [unit, n] of [["d", 86400], ["h", 3600], ["m", 60]] as const) if (seconds % n === 0) return `${seconds / n}${unit}`;
  return `${seconds}s`;
}

/**
 * When the step after `i` is due, given step `i` went out at `now`. A late step (cron paused)
 * shifts the rest by its lateness, so reminders keep their spacing instead of bunching up.
 */
export function nextDueAt(s: Schedule, i: number, now: Date): Date | null {
  if (i + 1 >= totalSteps(s)) return null;
  const lateness = Math.max(0, now.getTime() - stepDueAt(s, i).getTime());
  return new Date(stepDueAt(s, i + 1).getTime() + lateness);
}

export type NewSequence = {
  name: string;
  entityType: string;
  entityId: string;
  recipient: EventRecipient;
  variables: Record<string, unknown>;
  firstAt: Date;
  schedule: z.infer<typeof ReminderSchedule>;
  steps: SendStep[];
  cancelOn: string[];
  triggerRuleId: string | null;
  workflowRunId?: string | null;
};

export function sequenceRow(tenantId: string, s: NewSequence, now: Date): ReminderRow {
  return {
    id: uuidv7(now.getTime()),
    tenantId,
    name: s.name,
    entityType: s.entityType,
    entityId: s.entityId,
    recipient: s.recipient,
    variables: s.variables,
    steps: s.steps,
    firstAt: s.firstAt,
    everyDays: s.schedule.everyDays ?? null,
    offsetsDays: s.schedule.offsetsDays ?? null,
    everySeconds: s.schedule.every ? reminderSeconds(s.schedule.every) : s.schedule.everyDays ? s.schedule.everyDays * 86400 : null,
    offsetsSeconds: s.schedule.offsets?.map(reminderSeconds) ?? s.schedule.offsetsDays?.map((d) => d * 86400) ?? null,
    stepLog: [],
    cancelledByEventType: null,
    cancelledByEventId: null,
    workflowRunId: s.workflowRunId ?? null,
    maxSteps: s.schedule.maxSteps,
    cancelOn: s.cancelOn,
    status: "active",
    stepsSent: 0,
    nextAt: s.firstAt,
    claimedAt: null,
    triggerRuleId: s.triggerRuleId,
    cancelledAt: null,
    cancelReason: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** What step `i` of a sequence sends, and the variables it renders with. */
function stepVariables(seq: ReminderRow, i: number, now: Date): Record<string, unknown> {
  const v: Record<string, unknown> = { ...variablesFor(seq.recipient, seq.variables), step: i + 1, stepCount: totalSteps(seq) };
  const due = typeof seq.variables.dueDate === "string" ? Date.parse(seq.variables.dueDate) : NaN;
  if (!Number.isNaN(due) && seq.variables.daysOverdue === undefined) v.daysOverdue = Math.max(0, Math.floor((now.getTime() - due) / DAY_MS));
  return v;
}

/** One line for a step's or a digest's failed sends, kept on the row for the API to show. */
export const failureSummary = (errors: SendError[]) =>
  errors.length ? errors.map((e) => (e.field ? `${e.field}: ${e.message.replace(`${e.field}: `, "")}` : e.message)).join("; ").slice(0, 1000) : null;

export const sequenceCreatedBy = (id: string) => `system:reminder:${id}`;

/** Sends the step a claimed sequence is on and advances it, in one D1 batch. */
async function sendStep(d: AutomationDeps, seq: ReminderRow, now: Date) {
  const i = seq.stepsSent;
  const step = seq.steps[Math.min(i, seq.steps.length - 1)]!;
  return dispatch(
    forTenant(d, seq.tenantId, now),
    [
      {
        label: `step ${i + 1}`,
        createdBy: sequenceCreatedBy(seq.id),
        recipient: seq.recipient,
        step,
        base: {
          templateVariables: stepVariables(seq, i, now),
          entityType: seq.entityType,
          entityId: seq.entityId,
          metadata: { reminderSequenceId: seq.id, reminderStep: i + 1 },
        },
      },
    ],
    (rows, errors) => [
      advanceReminder(d.db, seq, nextDueAt(seq, i, now), failureSummary(errors), now, {
        step: i + 1,
        dueAt: (seq.nextAt ?? stepDueAt(seq, i)).toISOString(),
        at: now.toISOString(),
        status: rows.length ? "sent" : "skipped",
        communicationIds: rows.map((r) => r.id),
        error: failureSummary(errors),
      }),
    ],
  );
}

/** The cron pass: sends up to `limit` due steps. Safe to run twice, or twice at once. */
export async function runDueReminders(d: AutomationDeps, now: Date, limit = REMINDER_BATCH) {
  const staleBefore = new Date(now.getTime() - STALE_CLAIM_MS);
  const due = await findDueReminders(d.db, now, staleBefore, limit);
  let sent = 0;
  let failed = 0;
  for (const candidate of due) {
    const claimed = await claimReminder(d.db, candidate, now, staleBefore);
    if (!claimed) continue; // another run has it, or it moved on
    const result = await sendStep(d, claimed, now);
    sent += result.rows.length;
    if (result.errors.length) {
      failed++;
      console.error(JSON.stringify({ msg: "reminder step could not be sent", reminderSequenceId: claimed.id, step: claimed.stepsSent + 1, errors: result.errors }));
    }
  }
  return { due: due.length, communications: sent, stepsWithErrors: failed };
}

/** Cancels the stopped sequences' communications that have not gone out yet. */
export async function cancelPendingSends(db: Db, events: Queue<EventMessage>, tenantId: string, sequenceIds: string[], reason: string, now: Date) {
  if (sequenceIds.length === 0) return 0;
  const pending = await pendingSequenceSends(db, tenantId, sequenceIds);
  return cancelByIds({ EVENT_QUEUE: events }, db, tenantId, pending.map((p) => p.id), { reason }, now);
}
