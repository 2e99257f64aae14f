/**
 * The Email Worker: Cloudflare Email Routing hands mail for a tenant's reply domain (a catch-all
 * or `reply+*` rule whose action is "Send to a Worker") to `email()` in src/index.ts, which calls
 * this. The tenant is the one whose `settings.conversations.replyDomain` is the recipient's domain; mail for any
 * other domain is rejected (`setReject`, a permanent SMTP failure for the sender). The raw MIME is
 * parsed with postal-mime: Message-ID, In-Reply-To/References, the text part without quoted
 * history, attachments as bytes, and the `reply+<token>` a Herald reply-to address carries.
 * Cloudflare authenticates the sending server (SPF/DKIM/DMARC) before a Worker sees the mail;
 * there is no provider config, so the messages name `EMAIL_ROUTING_CONFIG` instead.
 */
import type { Env } from "../../env";
import { database } from "../../db/client";
import { tenantByReplyDomain } from "../../db/tenants";
import { receiveInbound, type ReceiveResult } from "../../conversations/inbound";
import { fromParsedMime, parseMime } from "./inbound-email";

/** Stands for a provider config id on mail received through Email Routing (dedupe by Message-ID). */
export const EMAIL_ROUTING_CONFIG = "email_routing";

/** Email Routing accepts up to 25 MiB; the limit is checked before the message is read. */
const MAX_BYTES = 25 * 1024 * 1024;

export type ReceivedEmail = Pick<ForwardableEmailMessage, "from" | "to" | "raw" | "rawSize" | "setReject">;

export async function receiveEmail(message: ReceivedEmail, env: Env, now = new Date()): Promise<ReceiveResult[]> {
  const domain = message.to.toLowerCase().split("@").at(-1) ?? "";
  const tenant = domain ? await tenantByReplyDomain(database(env.DB), domain) : undefined;
  if (!tenant) {
    message.setReject(`no mailbox here for ${message.to}`);
    return [];
  }
  if (message.rawSize > MAX_BYTES) {
    message.setReject("message too large");
    return [];
  }
  let inbound;
  try {
    inbound = fromParsedMime(await parseMime(message.raw), EMAIL_ROUTING_CONFIG, now, { from: message.from, to: [message.to] });
  } catch (error) {
    message.setReject("the message could not be read");
    console.log(JSON.stringify({ msg: "inbound email rejected", tenantId: tenant.id, error: String(error) }));
    return [];
  }
  // A failure here is thrown: Email Routing answers the sending server with a temporary error, and it retries.
  const results = await receiveInbound(env, tenant.id, [inbound]);
  console.log(JSON.stringify({ msg: "inbound email", tenantId: tenant.id, status: results[0]?.status }));
  return results;
}
