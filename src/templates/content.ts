/**
 * A template version's content, rendered for one send. Email gets a subject, HTML and a plain
 * text alternative (derived from the HTML when the template has none); SMS, WhatsApp and
 * Messenger get plain text. Returns a Result: missing variables are an expected outcome.
 */
import type { Channel } from "../domain";
import { looksLikeHtml } from "../channels/email/content";
import type { FormatOptions } from "./helpers";
import { missingVariables, render, RenderError } from "./render";

export type TemplateContent = {
  subjectTemplate: string | null;
  bodyTemplate: string | null;
  htmlTemplate: string | null;
  textTemplate: string | null;
};

/** `text` is null for HTML email whose template has no text part, unless asked to derive one. */
export type Rendered = { subject: string | null; body: string; html: string | null; text: string | null };
export type RenderResult = { ok: true; value: Rendered; missing: string[] } | { ok: false; missing: string[]; error?: string };

/** Which source renders as HTML and which as text, for this channel. */
export function sources(channel: Channel, c: TemplateContent) {
  if (channel !== "email") return { subject: c.subjectTemplate, html: null, text: c.bodyTemplate ?? c.textTemplate ?? "" };
  const html = c.htmlTemplate ?? (c.bodyTemplate && looksLikeHtml(c.bodyTemplate) ? c.bodyTemplate : null);
  const text = c.textTemplate ?? (html ? null : c.bodyTemplate ?? "");
  return { subject: c.subjectTemplate, html, text };
}

/**
 * Renders content. With `strict`, any missing variable fails the render (sends); without it,
 * missing ones render empty and are reported (previews). Deriving a text part from HTML (async:
 * htmlToText) is left to whoever needs it: a preview, or the delivery pipeline at send time.
 */
export function renderContent(
  channel: Channel,
  c: TemplateContent,
  variables: Record<string, unknown>,
  format: FormatOptions,
  strict: boolean,
): RenderResult {
  try {
    return renderParts(channel, c, variables, format, strict);
  } catch (error) {
    if (error instanceof RenderError) return { ok: false, missing: [], error: error.message.replace(/ at \d+$/, "") };
    throw error;
  }
}

function renderParts(channel: Channel, c: TemplateContent, variables: Record<string, unknown>, format: FormatOptions, strict: boolean): RenderResult {
  const s = sources(channel, c);
  const missing = [...new Set([s.subject, s.html, s.text].flatMap((t) => (t ? missingVariables(t, variables) : [])))];
  if (strict && missing.length) return { ok: false, missing };
  // A subject is a header: it must stay on one line whatever the variables hold.
  const subject = s.subject ? render(s.subject, variables, "text", format).replace(/[\r\n]+/g, " ").trim() : null;
  const html = s.html ? render(s.html, variables, "html", format) : null;
  const text = s.text !== null ? render(s.text, variables, "text", format) : null;
  return { ok: true, value: { subject, html, text, body: html ?? text ?? "" }, missing };
}
