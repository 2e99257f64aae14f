/**
 * The one place that says which status changes are allowed. Progress only moves forward
 * (queued → sent → delivered → opened → clicked), so a late `delivered` never overwrites
 * `clicked` and a duplicate is a no-op; a bounce or failure can end a message that has not been
 * engaged with yet; failed, bounced, suppressed and cancelled are final.
 */
import type { CommunicationStatus } from "../domain";

export const PROGRESS = ["scheduled", "queued", "sending", "sent", "delivered", "opened", "clicked"] as const;
const FINAL_RANK = 99;
const rank = (s: CommunicationStatus) => {
  const i = (PROGRESS as readonly string[]).indexOf(s);
  return i === -1 ? FINAL_RANK : i;
};

/** Statuses a provider event can move a communication to. */
export const TRACKED = ["sent", "delivered", "opened", "clicked", "bounced", "failed"] as const;
export type TrackedStatus = (typeof TRACKED)[number];

/** A failure or bounce can still end a message that has at most been delivered. */
const ENDABLE_UP_TO = rank("delivered");

export function canMove(from: CommunicationStatus, to: TrackedStatus): boolean {
  if (to === "bounced" || to === "failed") return rank(from) <= ENDABLE_UP_TO;
  return rank(from) < rank(to);
}

/** The same rule as SQL over the `status` column, for updates that must be race-free. */
export function canMoveSql(to: TrackedStatus): string {
  const r = `(CASE status ${PROGRESS.map((s, i) => `WHEN '${s}' THEN ${i}`).join(" ")} ELSE ${FINAL_RANK} END)`;
  return to === "bounced" || to === "failed" ? `${r} <= ${ENDABLE_UP_TO}` : `${r} < ${rank(to)}`;
}

/**
 * The steps an engagement implies for a message that has been sent: someone who opened it had it
 * delivered, and someone who clicked a link in it opened it. A sent message that is opened moves
 * sent → delivered → opened, each step counted, so the stats never show more opens than deliveries.
 */
export const IMPLIED_STEPS: Partial<Record<TrackedStatus, TrackedStatus[]>> = { opened: ["delivered"], clicked: ["delivered", "opened"] };

/** The SQL guard of an implied step: only from `sent` onwards (a claimed or queued message is not moved). */
export function impliedStepSql(step: TrackedStatus): string {
  const from = PROGRESS.filter((s) => rank(s) >= rank("sent") && rank(s) < rank(step));
  return `status IN (${from.map((s) => `'${s}'`).join(", ")})`;
}

/** The timestamp column each tracked status sets the first time it is reached. */
export const TIMESTAMP_COLUMN: Record<TrackedStatus, string> = {
  sent: "sent_at",
  delivered: "delivered_at",
  opened: "opened_at",
  clicked: "clicked_at",
  bounced: "bounced_at",
  failed: "failed_at",
};
