/**
 * What delivering one queue message comes to before anything is written: its share of the batch's
 * D1 statements and queue sends, and what the consumer should do with the message (ack, or retry
 * after a delay). Per-message code returns these; deliver-batch.ts writes a batch of them at once.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { CommunicationEventRow } from "../db/communications";
import type { CommunicationStatus } from "../domain";
import type { CostEntry } from "./cost";
import type { LanedSend } from "./send-lanes";
import type { Transition } from "./transitions";

/** Where the communication stands once its outcome is recorded: for the consumer's log line. */
export type Outcome = { status: CommunicationStatus; provider: string | null };
export type Decision = { action: "ack"; outcome?: Outcome } | { action: "retry"; delaySeconds: number; outcome?: Outcome };

/** One message's share of its batch's writes and queue sends, and what to do with the message. */
export type Recorded = {
  decision: Decision;
  /** This communication's own statements: its row update, breaker counters, removed devices. */
  statements: BatchItem<"sqlite">[];
  events: CommunicationEventRow[];
  /** Status moves: the batch turns them into stats (one upsert per group) and announcements. */
  transitions: Transition[];
  costs: CostEntry[];
  /** Messages for the send queue once this is recorded (receipt checks, far-future hops). */
  followUps: LanedSend[];
};

export const nothing = (decision: Decision): Recorded => ({ decision, statements: [], events: [], transitions: [], costs: [], followUps: [] });
/** The same record, with the queue message brought back after `delaySeconds`. */
export const retrying = (r: Recorded, delaySeconds: number): Recorded => ({ ...r, decision: { action: "retry", delaySeconds, outcome: r.decision.outcome } });
