/**
 * The one interface every provider adapter implements. An adapter is built per use from a
 * tenant's decrypted credentials and settings; it turns an OutboundMessage into the provider's
 * HTTP request and classifies the answer. It never touches D1 or the queue.
 */
import type { z } from "zod";
import type { Attachment } from "../db/schema";
import type { Channel } from "../domain";
import type { ProviderKind } from "./kinds";

export type OutboundMessage = {
  communicationId: string;
  tenantId: string;
  channel: Channel;
  to: string;
  recipientName: string | null;
  subject: string | null;
  content: string;
  attachments: Attachment[];
  /** Where the provider should report delivery status for this message. */
  statusCallbackUrl: string;
};

/**
 * How a failed attempt should be handled:
 * - `retryable`: the provider may accept it later (network, timeout, 429, 5xx) — fail over now,
 *   retry with back-off when every provider failed this way;
 * - `provider`: this provider cannot send for this tenant (bad credentials, unverified sender) —
 *   fail over, but retrying the same provider will not help;
 * - `permanent`: the message itself is rejected (invalid recipient, bad content) — no other
 *   provider will do better, so stop.
 */
export const FAILURE_KINDS = ["retryable", "provider", "permanent"] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export type SendOutcome =
  | {
      ok: true;
      providerMessageId: string;
      httpStatus?: number;
      /** True when acceptance is delivery (sandbox, in-app): no receipt will follow. */
      delivered?: boolean;
      response?: unknown;
    }
  | {
      ok: false;
      failure: FailureKind;
      reason: string;
      httpStatus?: number;
      retryAfterSeconds?: number;
      response?: unknown;
    };

export interface ProviderAdapter {
  send(message: OutboundMessage): Promise<SendOutcome>;
}

export type ProviderDefinition<C = unknown, S = unknown> = {
  kind: ProviderKind;
  channels: readonly Channel[];
  credentials: z.ZodType<C>;
  settings: z.ZodType<S>;
  create(credentials: C, settings: S): ProviderAdapter;
};

/** Keeps each definition's credential and settings types tied to its `create`. */
export const defineProvider = <C, S>(definition: ProviderDefinition<C, S>) =>
  definition as unknown as ProviderDefinition;
