/**
 * The one interface every provider adapter implements. An adapter is built per use from a
 * tenant's decrypted credentials and settings; it turns an OutboundMessage into the provider's
 * HTTP request and classifies the answer. It never touches D1 or the queue.
 */
import type { z } from "zod";
import type { Attachment } from "../db/schema";
import type { Channel } from "../domain";
import type { ProviderKind } from "./kinds";
import type { TrackedStatus } from "../pipeline/status";
import type { Transport } from "../db/schema/devices";
import type { FieldError } from "../lib/errors";
import type { PushTarget } from "./push/message";

export type OutboundMessage = {
  communicationId: string;
  tenantId: string;
  channel: Channel;
  to: string;
  recipientName: string | null;
  subject: string | null;
  content: string;
  /** Plain-text alternative of HTML content: the template's own, or derived by the pipeline (src/pipeline/outbound.ts). */
  text?: string | null;
  /** Extra email headers (RFC 8058 one-click unsubscribe on marketing mail). */
  headers?: Record<string, string>;
  /**
   * Email only: the signed `reply+<token>@<reply domain>` address (src/conversations/reply-token.ts)
   * when the tenant has a reply domain; it wins over a config's own `replyTo`, so replies thread.
   */
  replyTo?: string;
  /** Email only: leave open/click tracking to the provider's own settings, or switch it off there. */
  tracking?: "provider" | "herald" | "off";
  attachments: Attachment[];
  /** Where the provider should report delivery status for this message. */
  statusCallbackUrl: string;
  /**
   * A template approved at the provider (WhatsApp: required outside the 24-hour customer-service
   * window). The pipeline fills it from the communication's `metadata.whatsappTemplate`.
   */
  providerTemplate?: ProviderTemplate;
  /** Push only: the one device this call goes to (`to` is its token or endpoint) and the extras. */
  push?: PushTarget;
  /** Chat channels: the communication's `metadata.<channel>`, vendor fields for the body (src/channels/chat/). */
  chat?: Record<string, unknown>;
};

export type ProviderTemplate = { name: string; language: string; components?: unknown[] };

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
      /** Push: the service says this device token or subscription is gone for good. */
      deadDevice?: boolean;
      /** With a permanent failure: the provider says this contact will never take a message (a bot blocked by the user). */
      suppress?: NonNullable<ProviderEvent["suppress"]>;
      /**
       * The call hit its deadline: the provider may still have accepted it, so sending it again
       * (elsewhere, or later) can duplicate it unless the provider dedupes by idempotency key.
       */
      timedOut?: boolean;
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
  webhook?: WebhookHandler<C, S>;
  /**
   * The adapter sends the communication id as the provider's idempotency key, and the provider
   * answers a repeated request with the first one's result instead of sending again (Resend).
   * Read by src/pipeline/possible-duplicate.ts.
   */
  idempotencyKey?: boolean;
  /** Push providers: the devices they reach (FCM tokens, APNs tokens, Web Push subscriptions). Absent: any (sandbox). */
  transport?: Transport;
  /**
   * Fills what Herald generates for the tenant before the config is validated and stored (Web
   * Push's VAPID key pair), or names the fields that do not go together.
   */
  complete?(input: ConfigInput): Promise<ConfigInput | { issues: FieldError[] }>;
  /**
   * Whether, configured so, the provider will report delivery back through webhooks Herald can
   * accept (silent failover waits only for those). Webhook secrets are often credentials.
   */
  reportsDelivery?(settings: S, credentials: C): boolean;
};

export type ConfigInput = { credentials: Record<string, unknown>; settings: Record<string, unknown> };

/** Keeps each definition's credential and settings types, as its schemas give them, tied to `create`. */
export const defineProvider = <CS extends z.ZodType, SS extends z.ZodType>(
  definition: ProviderDefinition<z.output<CS>, z.output<SS>> & { credentials: CS; settings: SS },
) => definition as unknown as ProviderDefinition;

/** Why a contact goes on the suppression list. */
export const SUPPRESSION_REASONS = ["bounce", "complaint", "unsubscribe", "opt_out", "invalid", "manual"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** A provider's delivery event, normalised. Either id may be missing; one must be present. */
export type ProviderEvent = {
  communicationId: string | null;
  providerMessageId: string | null;
  /** The status this event moves the communication to, if any (a deferral moves nothing). */
  status: TrackedStatus | null;
  /** The provider's own event name, for the timeline. */
  name: string;
  occurredAt: Date;
  /** Stable per provider event: providers retry, and a retry must be a no-op. */
  dedupeKey: string;
  error?: string;
  suppress?: { reason: SuppressionReason; detail?: string };
  /** What to keep on the timeline: never secrets, never the whole payload. */
  detail: Record<string, unknown>;
};

export type InboundWebhook = { url: string; rawBody: string; headers: Headers; now: Date };
export type Verification = { ok: true } | { ok: false; reason: string };
/**
 * What makes one signed request unique (Mailgun's token, Svix's id, SNS's MessageId…) and when
 * its signature stops being accepted: Herald refuses the same nonce again until then.
 */
export type ReplayKey = { nonce: string; expiresAt: Date };

/** Receiving a provider's delivery webhooks: prove the sender, then read the events. */
export type WebhookHandler<C, S> = {
  verify(request: InboundWebhook, credentials: C, settings: S): Promise<Verification>;
  /**
   * For schemes that sign a nonce, an id or a timestamp: the request's replay key. Called only
   * once `verify` accepted the request, so it reads what the signature covers.
   */
  replayKey?(request: InboundWebhook): Promise<ReplayKey>;
  /** Throws on a payload that is not the provider's format. */
  parse(request: InboundWebhook): ProviderEvent[];
  /** A subscription handshake (Meta's GET `hub.challenge`): the body to answer, or undefined to refuse. */
  challenge?(query: URLSearchParams, credentials: C, settings: S): string | undefined;
};
