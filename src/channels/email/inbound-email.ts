/**
 * What every inbound email route shares (SendGrid Inbound Parse, Mailgun routes, Postmark inbound,
 * the Email Worker): reading addresses, the signed reply token in `reply+<token>@…`, the ids that
 * thread a reply (Message-ID, In-Reply-To, References), the reply without its
 * quoted history, and a parsed MIME message (postal-mime) as an `InboundMessage`.
 */
import PostalMime, { addressParser, type Email } from "postal-mime";
import type { InboundMessage } from "../../conversations/inbound";

type Media = NonNullable<InboundMessage["media"]>[number];

/** The first mailbox of a header value (`"Ann" <Ann@Example.com>`), lower-cased. */
export function mailbox(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const [first] = addressParser(value, { flatten: true });
  return first?.address ? first.address.toLowerCase() : undefined;
}

/** Every mailbox of header values, lower-cased. */
export const mailboxes = (...values: (string | undefined)[]) =>
  values.flatMap((v) => (v ? addressParser(v, { flatten: true }).flatMap((m) => (m.address ? [m.address.toLowerCase()] : [])) : []));

const REPLY_ADDRESS = /^reply\+([A-Za-z0-9._~=-]{8,512})@/i;

/** The reply token of the first `reply+<token>@…` recipient (case kept: tokens are signed). */
export function replyTokenOf(addresses: string[]): string | undefined {
  for (const a of addresses) {
    const m = REPLY_ADDRESS.exec(a.trim());
    if (m) return m[1];
  }
  return undefined;
}

/** The ids of a Message-ID/In-Reply-To/References header, without their angle brackets. */
export const messageIds = (value: string | undefined) => [...(value ?? "").matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);

/**
 * The messages a reply may answer, nearest first, space-separated as receiveInbound reads them:
 * its In-Reply-To, then its References from the last (the parent) back to the first.
 */
export const answered = (inReplyTo: string | undefined, references: string | undefined) =>
  [...new Set([...messageIds(inReplyTo), ...messageIds(references).reverse()])].join(" ") || undefined;

const QUOTE_INTRO = /^(On .{1,300}wrote:|Le .{1,300}a écrit\s?:|Am .{1,300}schrieb .{1,200}:|-----Original Message-----|_{20,})\s*$/m;

/**
 * The reply without the history mail clients quote below it: cut at the first "On … wrote:" (or
 * Outlook's separator) line, or at the trailing block of `>` lines. Not every client is caught;
 * what is not stays in the text, nothing of the reply is lost.
 */
export function trimQuoted(text: string): string {
  let body = text.replace(/\r\n/g, "\n");
  const intro = QUOTE_INTRO.exec(body);
  if (intro && intro.index > 0) body = body.slice(0, intro.index);
  const lines = body.split("\n");
  let end = lines.length;
  while (end > 0 && (/^\s*>/.test(lines[end - 1]!) || lines[end - 1]!.trim() === "")) end--;
  const trimmed = lines.slice(0, end).join("\n").trim();
  return trimmed || text.trim();
}

const bytesOf = (content: ArrayBuffer | Uint8Array | string) =>
  typeof content === "string" ? new TextEncoder().encode(content) : content instanceof Uint8Array ? content : new Uint8Array(content);

/** A file part as stored media: its bytes, their size and type. */
export const mediaOf = (bytes: Uint8Array, contentType: string | undefined, filename: string | null | undefined): Media => ({
  contentType: contentType || "application/octet-stream",
  size: bytes.byteLength,
  bytes,
  ...(filename ? { filename } : {}),
});

/** One header of a raw header block (SendGrid's `headers` field), unfolded. */
export function headerOf(block: string, name: string): string | undefined {
  const unfolded = block.replace(/\r?\n[ \t]+/g, " ");
  const line = unfolded.split(/\r?\n/).find((l) => l.slice(0, name.length + 1).toLowerCase() === `${name.toLowerCase()}:`);
  return line?.slice(name.length + 1).trim();
}

export type Envelope = { from?: string; to: string[] };

/**
 * A parsed MIME message as an `InboundMessage`. `envelope` is the SMTP envelope when the route
 * has it (it says which of our addresses the mail was for, whatever the headers claim).
 */
export function fromParsedMime(email: Email, configId: string, now: Date, envelope?: Envelope): InboundMessage {
  const headerAddresses = [...(email.to ?? []), ...(email.cc ?? [])].flatMap((a) => (a.address ? [a.address] : (a.group ?? []).map((m) => m.address)));
  const recipients = [...(envelope?.to ?? []), ...headerAddresses];
  const from = (email.from && "address" in email.from && email.from.address) || envelope?.from;
  if (!from) throw new Error("the message has no From address");
  const to = recipients[0];
  if (!to) throw new Error("the message has no recipient");
  const messageId = messageIds(email.messageId)[0];
  const text = email.text ? trimQuoted(email.text) : undefined;
  const media = email.attachments.map((a) => mediaOf(bytesOf(a.content), a.mimeType, a.filename));
  const replyToken = replyTokenOf(recipients);
  const inReplyTo = answered(email.inReplyTo, email.references);
  return {
    channel: "email",
    providerConfigId: configId,
    // Without a Message-ID (rare, against RFC 5322), Date, From and Subject stand in for it.
    providerMessageId: messageId ?? `no-message-id:${email.date ?? ""}:${from}:${email.subject ?? ""}`,
    from: from.toLowerCase(),
    to: to.toLowerCase(),
    ...(text ? { text } : {}),
    ...(email.subject !== undefined ? { subject: email.subject } : {}),
    ...(media.length ? { media } : {}),
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(replyToken ? { replyToken } : {}),
    receivedAt: now.toISOString(),
  };
}

export const parseMime = (raw: string | Uint8Array | ReadableStream<Uint8Array>) => PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" });
