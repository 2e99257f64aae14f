/**
 * The platform's closed vocabularies: channels, statuses, priorities. Everything that stores,
 * validates or switches on one of these imports it from here, so a new value is added once.
 */
import { z } from "zod";

export const CHANNELS = ["email", "sms", "whatsapp", "messenger", "push", "in_app", "slack", "teams", "discord", "telegram"] as const;
export const Channel = z.enum(CHANNELS);
export type Channel = z.infer<typeof Channel>;

/** Channels delivered through an external provider; `in_app` is Herald's own inbox. */
export const PROVIDER_CHANNELS = ["email", "sms", "whatsapp", "messenger", "push", "slack", "teams", "discord", "telegram"] as const satisfies readonly Channel[];

/**
 * `sending` is internal: a delivery attempt has claimed the communication. The rest are the
 * states users see. Terminal ones end a communication's life (a `sent` message waits for a
 * receipt; `opened`/`clicked` can still follow `delivered`).
 */
export const COMMUNICATION_STATUSES = [
  "scheduled",
  "queued",
  "sending",
  "sent",
  "delivered",
  "opened",
  "clicked",
  "bounced",
  "failed",
  "suppressed",
  "cancelled",
] as const;
export const CommunicationStatus = z.enum(COMMUNICATION_STATUSES);
export type CommunicationStatus = z.infer<typeof CommunicationStatus>;
/** The statuses API clients see and filter by: `sending` is shown as `queued` (src/api/dto.ts). */
export const PublicStatus = CommunicationStatus.exclude(["sending"]);
export type PublicStatus = z.infer<typeof PublicStatus>;

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export const Priority = z.enum(PRIORITIES);
export type Priority = z.infer<typeof Priority>;

/** Kinds of entries on a communication's timeline. */
export const EVENT_KINDS = ["status", "attempt", "retry", "failover", "note", "provider_event", "ignored_receipt"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
