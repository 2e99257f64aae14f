/**
 * The parts of an email every HTTP email API asks for in its own shape: the HTML and text bodies,
 * the sender and recipient mailboxes, the inline attachments, and the names under which our ids
 * travel so that webhooks can be joined back to the communication.
 */
import type { Attachment } from "../../db/schema";
import type { OutboundMessage } from "../types";
import { looksLikeHtml } from "./content";
import { base64Encode } from "../../lib/base64";

/** Tag / metadata / custom-variable names our ids travel under (the same for every provider). */
export const COMMUNICATION_TAG = "herald_communication_id";
export const TENANT_TAG = "herald_tenant_id";

/**
 * HTML content goes with a text alternative when there is one (the delivery pipeline derives it
 * from the HTML: src/pipeline/outbound.ts); plain content goes as text alone.
 */
export function bodies(message: OutboundMessage): { html?: string; text?: string } {
  if (!looksLikeHtml(message.content)) return { text: message.content };
  const text = message.text;
  return { html: message.content, ...(text ? { text } : {}) };
}

// A display name is header text: control characters (CR/LF above all) must never reach a header.
const clean = (name: string) => name.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();

/**
 * `Display Name <address>`, the name quoted (RFC 5322 quoted-string) only when it holds a special
 * character, as the providers' own examples write it; the bare address without a name.
 */
export function mailbox(address: string, name?: string | null): string {
  const display = name ? clean(name) : "";
  if (!display) return address;
  return /[()<>[\]:;@\\,."]/.test(display) ? `"${display.replace(/(["\\])/g, "\\$1")}" <${address}>` : `${display} <${address}>`;
}

/**
 * As `mailbox`, with a non-ASCII name as an RFC 2047 encoded-word: for APIs that put the value
 * into the MIME header unchanged (SES requires it).
 */
export function asciiMailbox(address: string, name?: string | null): string {
  const display = name ? clean(name) : "";
  if (!/[^\x20-\x7e]/.test(display)) return mailbox(address, display);
  return `=?UTF-8?B?${base64Encode(display)}?= <${address}>`;
}

/**
 * Attachments with base64 content. The pipeline (src/pipeline/attachment-delivery.ts) has already
 * read stored files and fetched `fileUrl`s into content for the providers that need bytes.
 */
export const inlineAttachments = (message: OutboundMessage) =>
  message.attachments.filter((a): a is Attachment & { content: string } => !!a.content);

/** Provider error bodies are JSON when all is well and HTML or empty behind a proxy or outage. */
export async function readJson<T>(res: Response): Promise<T | undefined> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
