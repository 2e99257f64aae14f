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

/**
 * The steps an engagement implies for a message that has been sent: someone who opened it had it
 * delivered, and someone who clicked a link in it opened it. A sent message that is opened moves
 * sent → delivered → opened, each step counted, so the stats never show more opens than
 * deliveries. A message not yet `sent` (claimed, queued) takes no implied step.
 */
const IMPLIED_STEPS: Partial<Record<TrackedStatus, TrackedStatus[]>> = { opened: ["delivered"], clicked: ["delivered", "opened"] };

export function impliedSteps(from: CommunicationStatus, to: TrackedStatus): TrackedStatus[] {
  if (rank(from) < rank("sent")) return [];
  return (IMPLIED_STEPS[to] ?? []).filter((step) => canMove(from, step));
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
