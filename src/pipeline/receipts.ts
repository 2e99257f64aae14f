/**
 * Whether a verified receipt may touch the message it names, decided without I/O. A signature
 * proves who sent the webhook, not that the message is theirs to report on: a Mailgun config's
 * webhook can carry the id of an SMS that went out through Twilio, and a signed `delivered` can
 * name a send still scheduled an hour ahead. A receipt applies only to a message that its
 * provider config was handed; anything else is kept on the timeline as an ignored receipt and
 * changes nothing. `planReceipts` then folds a webhook's applied events, per message and in
 * payload order, into the status steps the transition rule allows.
 */
import type { ProviderEvent } from "../channels/types";
import type { Channel, CommunicationStatus } from "../domain";
import { canMove, impliedSteps, type TrackedStatus } from "./status";

/** What a receipt decision needs to know about the stored message. */
export type StoredMessage = {
  id: string;
  tenantId: string;
  channel: Channel;
  type: string;
  createdAt: Date;
  status: CommunicationStatus;
  /** The config the message went out through (the last one to take it). */
  providerConfigId: string | null;
  providerMessageId: string | null;
  /** Every config that accepted it: after a silent failover, more than one did. */
  handedTo: readonly string[];
};

/** Who reports: a provider config, or Herald's own tracking (open pixel, inbox), which has none. */
export type ReceiptSource = { configId: string; channel: Channel } | { configId: null; channel: null };

export const IGNORE_REASONS = {
  unknown_message: "no message of this tenant matches it",
  not_sent: "no provider has been handed this message yet",
  other_provider: "this message did not go out through this provider config",
} as const;
export type IgnoreReason = keyof typeof IGNORE_REASONS;

export type Verdict = { apply: true } | { apply: false; reason: IgnoreReason };

/** Statuses in which Herald still holds the message: no receipt can be about it. */
const NOT_HANDED: readonly CommunicationStatus[] = ["scheduled", "queued"];

export function judgeReceipt(message: StoredMessage, source: ReceiptSource): Verdict {
  // Herald's own pixel, links and inbox prove themselves: their signed tokens exist only in
  // content rendered for sending, so a hit is real even on a message queued for a retry (after a
  // provider timed out having sent it after all).
  if (source.configId === null) return { apply: true };
  if (NOT_HANDED.includes(message.status)) return { apply: false, reason: "not_sent" };
  if (message.channel !== source.channel) return { apply: false, reason: "other_provider" };
  // Mid-send the config is written only when the provider answers, and a fast receipt can come
  // first (SendGrid's `delivered` before its own 202): any config of the channel may be the one.
  if (message.status === "sending") return { apply: true };
  if (message.providerConfigId === source.configId || message.handedTo.includes(source.configId)) return { apply: true };
  return { apply: false, reason: "other_provider" };
}

export type ReceiptEntry = { event: ProviderEvent; message: StoredMessage | undefined; verdict: Verdict };
/** One message's status walk in this webhook: from what was read, through each allowed step. */
export type MessageMove = { message: StoredMessage; from: CommunicationStatus; steps: { status: TrackedStatus; event: ProviderEvent }[] };
export type ReceiptPlan = { entries: ReceiptEntry[]; moves: MessageMove[] };

/**
 * Matches each event to its message (Herald's id first, else the provider's id within this
 * config, as the provider knows the message only by that), judges it, and collects the steps.
 */
export function planReceipts(source: ReceiptSource, events: readonly ProviderEvent[], messages: readonly StoredMessage[]): ReceiptPlan {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const byProviderId = new Map(
    messages.filter((m) => source.configId !== null && m.providerConfigId === source.configId && m.providerMessageId).map((m) => [m.providerMessageId!, m]),
  );
  const moves = new Map<string, MessageMove>();
  const entries = events.map((event): ReceiptEntry => {
    const message = event.communicationId ? byId.get(event.communicationId) : event.providerMessageId ? byProviderId.get(event.providerMessageId) : undefined;
    if (!message) return { event, message, verdict: { apply: false, reason: "unknown_message" } };
    const verdict = judgeReceipt(message, source);
    if (verdict.apply && event.status) {
      const move = moves.get(message.id) ?? { message, from: message.status, steps: [] };
      // Each step starts where the previous one in this webhook left the message; an open or a
      // click first takes the steps it implies (status.ts), so rates stay within 100%.
      const at = move.steps.at(-1)?.status ?? move.from;
      if (canMove(at, event.status)) {
        for (const status of impliedSteps(at, event.status)) move.steps.push({ status, event });
        move.steps.push({ status: event.status, event });
      }
      moves.set(message.id, move);
    }
    return { event, message, verdict };
  });
  return { entries, moves: [...moves.values()].filter((m) => m.steps.length > 0) };
}
