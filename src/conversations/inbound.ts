/**
 * The normalised inbound message and the one entry point every inbound route calls.
 * Provider routes (src/api/routes/inbound-*, the Email Worker) verify a request, turn it into
 * `InboundMessage`s and hand the whole batch to `receiveInbound`, which threads, dedupes, stores
 * media, handles keywords and forwards `message.received` to the tenant. The shape is fixed by
 * CONTRACTS.md (section Conversations) so the routes and the conversations core merge cleanly.
 */
import type { Channel } from "../domain";
import type { Env } from "../env";
import { ingestInbound } from "./ingest";

export interface InboundMessage {
  channel: Channel; // sms | whatsapp | messenger | email | telegram | ...
  providerConfigId: string; // the config whose signed webhook/route received it (tenant known from it)
  providerMessageId: string; // dedupe key per config
  from: string; // normalised contact (E.164, email lower-case, PSID, telegram chat id)
  to: string; // our number/address/page
  text?: string; // body text (email: plain text part, quoted history trimmed if easy)
  subject?: string; // email
  media?: { contentType: string; size: number; filename?: string; url?: string; bytes?: Uint8Array }[];
  button?: { payload?: string; text: string }; // WhatsApp/Messenger quick reply or button
  inReplyTo?: string; // provider context id (WhatsApp context.id), email In-Reply-To/References
  replyToken?: string; // from a signed reply-to address (email) when present
  receivedAt: string; // ISO
}

/** What became of one inbound message, in the order given. */
export type ReceiveResult =
  | {
      status: "stored";
      messageId: string;
      conversationId: string;
      /** A keyword the message matched: opt-out/in, help, or a tenant keyword. */
      keyword?: "stop" | "start" | "help" | "tenant";
    }
  /** Already stored under this provider message id (a provider retry): nothing written. */
  | { status: "duplicate"; messageId: string; conversationId: string };

/**
 * Receives a batch of inbound messages for one tenant: one D1 read round trip for the batch,
 * one `batch()` write, media to R2, keyword side effects and `message.received` events enqueued.
 */
export async function receiveInbound(env: Env, tenantId: string, messages: InboundMessage[]): Promise<ReceiveResult[]> {
  if (messages.length === 0) return [];
  return ingestInbound(env, tenantId, messages);
}
