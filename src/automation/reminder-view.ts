/**
 * A reminder sequence's run view: one entry per step, from the step log the cron appends when it
 * sends a step (`sent` with its communications and their current status, or `skipped` with why
 * nothing went out), then what is still ahead (`due`: the next step the cron sends at its dueAt; `pending` after it) or
 * `cancelled` with the event (or DELETE) that stopped it. Rows from before the log existed show
 * their sent steps from the communications' `reminderStep` metadata.
 */
import type { ReminderRow } from "../db/reminders";
import type { ReminderStepLog } from "../db/schema";
import { stepDueAt, totalSteps } from "./reminders";

type SentCommunication = { id: string; channel: string; status: string; metadata: unknown };

export type ReminderStepView = {
  step: number;
  status: "sent" | "skipped" | "due" | "pending" | "cancelled";
  dueAt: string;
  at: string | null;
  communications: { id: string; channel: string; status: string }[];
  error: string | null;
  cancelledBy: { eventType: string | null; eventId: string | null; reason: string | null } | null;
};

const stepOf = (c: SentCommunication) => (c.metadata && typeof c.metadata === "object" ? (c.metadata as Record<string, unknown>).reminderStep : undefined);

export function reminderSteps(seq: ReminderRow, sent: SentCommunication[]): ReminderStepView[] {
  const logged = new Map<number, ReminderStepLog>(seq.stepLog.map((l) => [l.step, l]));
  const byStep = new Map<number, SentCommunication[]>();
  for (const c of sent) {
    const n = stepOf(c);
    if (typeof n === "number") byStep.set(n, [...(byStep.get(n) ?? []), c]);
  }
  const view = (n: number) => (byStep.get(n) ?? []).map(({ id, channel, status }) => ({ id, channel, status }));
  // Steps not yet sent move by the lateness of the last one (nextAt carries it).
  const shift = seq.nextAt ? seq.nextAt.getTime() - stepDueAt(seq, seq.stepsSent).getTime() : 0;
  const steps: ReminderStepView[] = [];
  for (let i = 0; i < totalSteps(seq); i++) {
    const n = i + 1;
    const log = logged.get(n);
    if (log) {
      const comms = view(n);
      const known = new Set(comms.map((c) => c.id));
      // A communication the log names but the list does not (it was deleted by retention) still shows by id.
      for (const id of log.communicationIds) if (!known.has(id)) comms.push({ id, channel: "unknown", status: "unknown" });
      steps.push({ step: n, status: log.status, dueAt: log.dueAt, at: log.at, communications: comms, error: log.error, cancelledBy: null });
      continue;
    }
    if (i < seq.stepsSent) {
      steps.push({ step: n, status: view(n).length ? "sent" : "skipped", dueAt: stepDueAt(seq, i).toISOString(), at: null, communications: view(n), error: null, cancelledBy: null });
      continue;
    }
    const dueAt = new Date(stepDueAt(seq, i).getTime() + shift).toISOString();
    if (seq.status === "cancelled") {
      steps.push({
        step: n,
        status: "cancelled",
        dueAt,
        at: seq.cancelledAt?.toISOString() ?? null,
        communications: [],
        error: null,
        cancelledBy: { eventType: seq.cancelledByEventType, eventId: seq.cancelledByEventId, reason: seq.cancelReason },
      });
      continue;
    }
    steps.push({ step: n, status: i === seq.stepsSent && seq.status === "active" ? "due" : "pending", dueAt, at: null, communications: [], error: null, cancelledBy: null });
  }
  return steps;
}
