/**
 * The body of a send (seed §4.1), validated at the edge. Contacts are checked and normalised per
 * channel so a bad address is a 422 naming `recipientContact`, never a provider error later.
 */
import { z } from "zod";
import { Channel, Priority, type Channel as ChannelT } from "../domain";
import { LOCALE_PATTERN } from "../templates/locale";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug (a-z, 0-9, _ . -), at most 64 characters");
const noLineBreaks = (s: string) => !/[\r\n]/.test(s);

const E164 = /^\+[1-9]\d{6,14}$/;
const PSID = /^\d{5,32}$/;
const email = z.email();

/** Returns the normalised contact, or the reason it is not one for this channel. */
export function normaliseContact(channel: ChannelT, raw: string): { ok: true; value: string } | { ok: false; reason: string } {
  const value = raw.trim();
  switch (channel) {
    case "email":
      return email.safeParse(value).success && noLineBreaks(value)
        ? { ok: true, value: value.toLowerCase() }
        : { ok: false, reason: "must be an email address" };
    case "sms":
    case "whatsapp": {
      const phone = value.replace(/^whatsapp:/, "").replace(/[\s().-]/g, "");
      return E164.test(phone) ? { ok: true, value: phone } : { ok: false, reason: "must be an E.164 phone number, e.g. +14155550123" };
    }
    case "messenger": {
      const psid = value.replace(/^messenger:/, "");
      return PSID.test(psid) ? { ok: true, value: psid } : { ok: false, reason: "must be a Messenger page-scoped id (digits)" };
    }
  }
}

/** Provider limits on body length, so an oversized body is refused at the API. */
export const MAX_CONTENT: Record<ChannelT, number> = { email: 500_000, sms: 1600, whatsapp: 4096, messenger: 2000 };

const attachment = z
  .object({
    filename: z.string().min(1).max(255),
    fileUrl: z.url({ protocol: /^https$/ }).optional(),
    content: z.base64().optional(),
    mimeType: z.string().max(100).optional(),
  })
  .refine((a) => !!a.fileUrl !== !!a.content, { message: "give exactly one of fileUrl or content" });

export const SendRequest = z
  .object({
    channel: Channel,
    type: slug.default("general_notification"),
    recipientType: slug.default("customer"),
    recipientId: z.string().min(1).max(255).optional(),
    recipientName: z.string().max(255).refine(noLineBreaks, "must not contain line breaks").optional(),
    recipientContact: z.string().min(1).max(320),
    subject: z.string().max(500).refine(noLineBreaks, "must not contain line breaks").optional(),
    content: z.string().min(1).optional(),
    templateId: z.string().min(1).optional(),
    templateCode: slug.optional(),
    locale: z.string().regex(LOCALE_PATTERN, "must be a locale such as en, fr or fr-CA").optional(),
    templateVariables: z.record(z.string(), z.unknown()).optional(),
    entityType: z.string().min(1).max(50).optional(),
    entityId: z.string().min(1).max(255).optional(),
    attachments: z.array(attachment).max(10).optional(),
    scheduledAt: z.iso.datetime({ offset: true }).optional(),
    priority: Priority.default("normal"),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .transform((req, ctx) => {
    const contact = normaliseContact(req.channel, req.recipientContact);
    if (!contact.ok) ctx.addIssue({ code: "custom", path: ["recipientContact"], message: contact.reason });
    const template = req.templateId ?? req.templateCode;
    if (!req.content && !template) ctx.addIssue({ code: "custom", path: ["content"], message: "content, templateId or templateCode is required" });
    if (req.content && template) ctx.addIssue({ code: "custom", path: ["content"], message: "give content or a template, not both" });
    if (req.templateId && req.templateCode) ctx.addIssue({ code: "custom", path: ["templateCode"], message: "give templateId or templateCode, not both" });
    if (req.content && req.content.length > MAX_CONTENT[req.channel])
      ctx.addIssue({ code: "custom", path: ["content"], message: `at most ${MAX_CONTENT[req.channel]} characters on ${req.channel}` });
    if (req.channel === "email" && !req.subject && !template)
      ctx.addIssue({ code: "custom", path: ["subject"], message: "email needs a subject" });
    const inline = (req.attachments ?? []).reduce((n, a) => n + (a.content?.length ?? 0), 0);
    // D1 rows cap at 1 MB; larger files belong behind a fileUrl.
    if (inline > 700_000) ctx.addIssue({ code: "custom", path: ["attachments"], message: "inline attachment content is limited to 700 KB in total; use fileUrl" });
    return { ...req, recipientContact: contact.ok ? contact.value : req.recipientContact };
  });
export type SendRequest = z.infer<typeof SendRequest>;
