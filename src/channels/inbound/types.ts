/**
 * What an inbound route (src/api/routes/inbound-webhooks.ts) needs from each provider that
 * forwards replies: prove the request is the provider's, for the config the URL names (with that
 * config's own secrets), name its replay key when the scheme signs one, and read the body into
 * `InboundMessage`s for `receiveInbound`. Delivery receipts are src/channels/types.ts's
 * `WebhookHandler`; these are the replies.
 */
import type { Channel } from "../../domain";
import type { InboundMessage } from "../../conversations/inbound";
import type { InboundWebhook, ReplayKey, Verification } from "../types";

export type InboundRequest = InboundWebhook & {
  /** The body as sent: multipart bodies (SendGrid Parse, Mailgun routes) are read from the bytes. */
  bytes: Uint8Array;
  /** The URL segment after the config id: SendGrid Parse's per-config secret. */
  pathSecret?: string;
};

/** The stored config the URL names: messages are received for its tenant only. */
export type InboundConfig = { id: string; tenantId: string; channel: Channel };

export type InboundHandler<C = unknown, S = unknown> = {
  verify(request: InboundRequest, credentials: C, settings: S): Promise<Verification>;
  /** Called only once `verify` accepted the request, so it reads what the signature covers. */
  replayKey?(request: InboundRequest): Promise<ReplayKey>;
  /**
   * A provider's setup request, verified like any other (Slack's `url_verification`): the text to
   * answer with 200, or undefined for an ordinary request. Nothing is claimed or stored for it.
   */
  handshake?(request: InboundRequest): string | undefined;
  /** Throws on a body that is not the provider's inbound format. */
  parse(request: InboundRequest, config: InboundConfig): Promise<InboundMessage[]>;
  /** The proof is a secret in the URL's last segment (SendGrid Parse); other URLs have no such segment. */
  pathSecret?: true;
  /** What the provider expects back on success: Twilio reads TwiML, the others a 200. */
  answer: "twiml" | "ok";
  /**
   * The status for a replayed request. 409 by default; Mailgun reads 406 as "rejected, do not
   * retry", so a captured request is not re-posted for hours.
   */
  replayStatus?: 406 | 409;
};

/** Reads a form body whatever its encoding, from the bytes as sent. */
export const formOf = (request: InboundRequest) =>
  new Response(request.bytes, { headers: { "content-type": request.headers.get("content-type") ?? "application/x-www-form-urlencoded" } }).formData();

/** Text fields of a form (files are left out). */
export const textFields = (form: FormData): Record<string, string> => {
  const fields: Record<string, string> = {};
  for (const [name, value] of form) if (typeof value === "string" && !(name in fields)) fields[name] = value;
  return fields;
};
