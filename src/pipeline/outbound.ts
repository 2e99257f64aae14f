/**
 * What goes to a provider for one communication: the outbound message (Herald's tracking, the
 * marketing unsubscribe headers, a WhatsApp template, the status callback) and the call itself,
 * with every exception turned into a classified failure.
 */
import type { Config } from "../env";
import type { CommunicationRow } from "../db/communications";
import type { ProviderConfigRow } from "../db/providers";
import type { TenantSettings } from "../db/schema";
import type { OutboundMessage, SendOutcome } from "../channels/types";
import { htmlToText, looksLikeHtml } from "../channels/email/content";
import { whatsappTemplate } from "../channels/whatsapp/template";
import { addTracking, signToken } from "./tracking-links";
import type { Db } from "../db/client";
import { webhookUrl } from "./provider-configs";
import { cachedAdapter } from "../cache/tenant-config";
import { RedirectRefused } from "../lib/http";
import { excerpt } from "../lib/excerpt";
import { unsafeConfigUrl } from "../channels/settings";
import { chatExtras, unsafeWebhook } from "../channels/chat/common";

/**
 * One provider call; exceptions (timeouts, DNS, resets, redirects, bad stored config) become
 * failures. A reason carries what the provider (or whatever answers at a tenant's `baseUrl`) said,
 * and it is stored as `errorMessage` and on the timeline: only an excerpt of it is kept.
 */
export async function attempt(db: Db, config: Config, row: ProviderConfigRow, message: OutboundMessage): Promise<SendOutcome> {
  // Checked again at each call: a config saved before the guard knew an address's spelling.
  const unsafe = unsafeConfigUrl({ settings: row.settings }, config.allowLoopbackUrls);
  if (unsafe) return { ok: false, failure: "provider", reason: `provider config ${row.id}: ${unsafe.field} ${unsafe.message}` };
  // A chat webhook URL is the recipient's address, given by the tenant: loopback only in local development.
  const unsafeTo = unsafeWebhook(message, config.allowLoopbackUrls);
  if (unsafeTo) return { ok: false, failure: "permanent", reason: unsafeTo };
  let adapter;
  try {
    // Opened once per config edit and isolate, then reused by every batch (the tenant config cache).
    adapter = await cachedAdapter(db, config.encryptionKey, row);
  } catch (error) {
    return { ok: false, failure: "provider", reason: `provider config ${row.id} is unusable: ${(error as Error).message}` };
  }
  try {
    const outcome = await adapter.send(message);
    return outcome.ok ? outcome : { ...outcome, reason: excerpt(outcome.reason, REASON_MAX) };
  } catch (error) {
    const e = error as Error;
    // A redirect is the config's fault (a moved baseUrl): another provider may do, this one will not.
    if (e instanceof RedirectRefused) return { ok: false, failure: "provider", reason: `${row.provider} ${e.message} (check the config's baseUrl)`, httpStatus: e.status };
    if (e.name === "TimeoutError") return { ok: false, failure: "retryable", reason: `${row.provider} did not answer in time`, timedOut: true };
    return { ok: false, failure: "retryable", reason: excerpt(`${row.provider} request failed: ${e.message}`, REASON_MAX) };
  }
}

/** Our prefix ("Twilio answered 400 (error 21211): ") plus an excerpt of the provider's words. */
const REASON_MAX = 300;

export type Tracked = CommunicationRow & { tracking: TenantSettings["tracking"]; headers?: Record<string, string>; replyTo?: string };

/** RFC 8058: marketing mail names a signed one-click unsubscribe URL that takes a bare POST. */
export async function unsubscribeHeaders(config: Config, c: CommunicationRow) {
  const token = await signToken(config.encryptionKey, { k: "u", t: c.tenantId, c: c.id });
  return { "List-Unsubscribe": `<${config.publicUrl}/u/${token}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}

/**
 * HTML email as it goes out: with Herald's own tracking, signed links and an open pixel; and
 * always with its text alternative, the template's own or derived from that HTML (links tracked
 * as in the HTML). Derived here, once per send, because the parser (HTMLRewriter) is async and
 * the provider adapters build their requests synchronously.
 */
export async function withTracking(config: Config, c: CommunicationRow, tracking: TenantSettings["tracking"]): Promise<Tracked> {
  if (c.channel !== "email" || !looksLikeHtml(c.content)) return { ...c, tracking };
  const content =
    tracking === "herald" ? await addTracking(c.content, { secret: config.encryptionKey, publicUrl: config.publicUrl, tenantId: c.tenantId, communicationId: c.id }) : c.content;
  return { ...c, content, textContent: c.textContent ?? (await htmlToText(content)), tracking };
}

export function toOutbound(config: Config, c: Tracked, row: ProviderConfigRow): OutboundMessage {
  return {
    communicationId: c.id,
    tenantId: c.tenantId,
    channel: c.channel,
    to: c.recipientContact,
    recipientName: c.recipientName,
    subject: c.subject,
    content: c.content,
    text: c.textContent,
    ...(c.channel === "email" ? { tracking: c.tracking, headers: c.headers, ...(c.replyTo ? { replyTo: c.replyTo } : {}) } : {}),
    // An approved WhatsApp template (metadata.whatsappTemplate) for sends outside the 24-hour window.
    ...(c.channel === "whatsapp" ? { providerTemplate: whatsappTemplate(c.metadata) } : {}),
    ...(chatExtras(c.channel, c.metadata) ? { chat: chatExtras(c.channel, c.metadata) } : {}),
    attachments: c.attachments ?? [],
    statusCallbackUrl: `${webhookUrl(config.publicUrl, row)}?c=${encodeURIComponent(c.id)}`,
  };
}
