/**
 * Threading headers on an email reply: In-Reply-To and References name the customer's message
 * (its Message-ID, kept as the inbound provider message id), so their mail client shows the reply
 * in the same thread. Every email adapter passes `OutboundMessage.headers` through (SendGrid
 * `headers`, Mailgun `h:`, Postmark/SES `Headers`, Resend `headers`).
 */
const MESSAGE_ID = /^<?[^<>\s]{1,900}>?$/;

export function threadHeaders(metadata: Record<string, unknown> | null | undefined): Record<string, string> | undefined {
  const id = metadata?.inReplyTo;
  if (typeof id !== "string" || !MESSAGE_ID.test(id)) return undefined;
  const ref = id.startsWith("<") ? id : `<${id}>`;
  return { "In-Reply-To": ref, References: ref };
}
