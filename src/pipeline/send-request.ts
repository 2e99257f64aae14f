/**
 * The body of a send (seed §4.1), validated at the edge. Contacts are checked and normalised per
 * channel so a bad address is a 422 naming `recipientContact`, never a provider error later.
 */
import { z } from "zod";
import { Channel, CHANNELS, Priority, type Channel as ChannelT } from "../domain";
import type { FieldError } from "../lib/errors";
import { unsafeUrlReason } from "../lib/url-guard";
import { LOCALE_PATTERN } from "../templates/locale";
import { WhatsappTemplate } from "../channels/whatsapp/template";
import { decodedLength } from "../lib/base64";
import { normalisePhone } from "../lib/phone";
import { isChatChannel, normaliseChatContact } from "../channels/chat/common";
import { chatShapeIssue } from "../channels/chat/shape";

/** Inline attachment bytes per send (decoded); large files are kept in R2, not in the row. */
export const MAX_INLINE_ATTACHMENT_BYTES = 20 * 1024 * 1024;
import { PushExtras } from "../channels/push/message";
import { InboxExtras } from "../inbox/item-extras";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug (a-z, 0-9, _ . -), at most 64 characters");
const noLineBreaks = (s: string) => !/[\r\n]/.test(s);

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
      return normalisePhone(value.replace(/^whatsapp:/, ""));
    }
    case "messenger": {
      const psid = value.replace(/^messenger:/, "");
      return PSID.test(psid) ? { ok: true, value: psid } : { ok: false, reason: "must be a Messenger page-scoped id (digits)" };
    }
    case "in_app":
    case "push":
      // The inbox address, and push's, is the recipient itself: `<recipientType>/<recipientId>`.
      return /^[a-z][a-z0-9_.-]{0,63}\/.{1,255}$/.test(value) ? { ok: true, value } : { ok: false, reason: `${channel} sends address the recipient by recipientType and recipientId` };
    case "slack":
    case "teams":
    case "discord":
    case "telegram":
      return normaliseChatContact(channel, value);
  }
}

/** Provider limits on body length, so an oversized body is refused at the API. */
export const MAX_CONTENT: Record<ChannelT, number> = {
  email: 500_000,
  sms: 1600,
  whatsapp: 4096,
  messenger: 2000,
  push: 3000,
  in_app: 10_000,
  // Chat content may be a vendor JSON payload: these bound it; the exact text limits are the shapers' (src/channels/chat/).
  slack: 40_000,
  teams: 28_000,
  discord: 6_000,
  telegram: 4096,
};

const attachment = z
  .object({
    filename: z.string().min(1).max(255),
    // Providers (and later Herald) fetch it: no private, loopback or metadata addresses.
    fileUrl: z
      .url({ protocol: /^https$/ })
      .refine((u) => !unsafeUrlReason(u, false), { message: "must not point at a private or local address" })
      .optional(),
    content: z.base64().optional(),
    mimeType: z.string().max(100).optional(),
  })
  .refine((a) => !!a.fileUrl !== !!a.content, { message: "give exactly one of fileUrl or content" });

/** A send whose channel and contact are known: what the rest of the pipeline works with. */
export type ConcreteSend = Omit<SendRequest, "channel" | "channels" | "strategy" | "recipientContact"> & {
  channel: ChannelT;
  recipientContact: string;
};

/**
 * The checks that depend on the channel: the contact's shape (normalised on the way), body length,
 * an email's subject. Run when the request names both, or once preferences have chosen them.
 */
export function channelIssues(
  req: Pick<SendRequest, "content" | "subject" | "templateId" | "templateCode" | "metadata" | "attachments"> & { channel: ChannelT; recipientContact: string },
  prefix = "",
): { contact: string; issues: FieldError[] } {
  const issues: FieldError[] = [];
  const contact = normaliseContact(req.channel, req.recipientContact);
  if (!contact.ok) issues.push({ field: `${prefix}recipientContact`, message: contact.reason });
  if (req.content && req.content.length > MAX_CONTENT[req.channel]) {
    issues.push({ field: `${prefix}content`, message: `at most ${MAX_CONTENT[req.channel]} characters on ${req.channel}` });
  }
  if (req.channel === "email" && !req.subject && !req.templateId && !req.templateCode) {
    issues.push({ field: `${prefix}subject`, message: "email needs a subject" });
  }
  if (isChatChannel(req.channel)) {
    // Telegram has media methods (src/channels/chat/telegram-media.ts); the webhook platforms take no files.
    if (req.attachments?.length && req.channel !== "telegram") issues.push({ field: `${prefix}attachments`, message: `${req.channel} messages carry no attachments: link to files in the content` });
    const shape = chatShapeIssue(req.channel, { to: contact.ok ? contact.value : req.recipientContact, subject: req.subject ?? null, content: req.content, metadata: req.metadata });
    if (shape) issues.push({ field: `${prefix}${shape.field}`, message: shape.reason });
  }
  return { contact: contact.ok ? contact.value : req.recipientContact, issues };
}

export const SendRequest = z
  .object({
    /** A channel, or "auto" to let the recipient's preferences choose. */
    channel: z.union([Channel, z.literal("auto")]).optional(),
    /** Channels to route among by the recipient's preferences. */
    channels: z.array(Channel).min(1).max(CHANNELS.length).optional(),
    /** With routing: send on every chosen channel, or only on the first. */
    strategy: z.enum(["all", "first"]).default("all"),
    type: slug.default("general_notification"),
    recipientType: slug.default("customer"),
    recipientId: z.string().min(1).max(255).optional(),
    recipientName: z.string().max(255).refine(noLineBreaks, "must not contain line breaks").optional(),
    recipientContact: z.string().min(1).max(320).optional(),
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
    /** Escalation: send on another channel if this one is not delivered (or opened) in time. */
    fallback: z
      .object({
        channel: Channel,
        afterSeconds: z.number().int().min(30).max(12 * 3600),
        until: z.enum(["delivered", "opened"]).default("delivered"),
        recipientContact: z.string().min(1).max(320).optional(),
      })
      .strict()
      .optional(),
    /** Seconds to wait for a delivery receipt before trying the next provider; 0 turns it off. */
    receiptWindowSeconds: z.number().int().min(0).max(12 * 3600).optional(),
    metadata: z
      .record(z.string(), z.unknown())
      .refine((m) => m.whatsappTemplate === undefined || WhatsappTemplate.safeParse(m.whatsappTemplate).success, {
        message: "whatsappTemplate must be { name, language, components? }",
      })
      .superRefine((m, ctx) => {
        for (const [key, schema] of [["push", PushExtras], ["inbox", InboxExtras]] as const) {
          if (m[key] === undefined) continue;
          const parsed = schema.safeParse(m[key]);
          for (const i of parsed.error?.issues ?? []) ctx.addIssue({ code: "custom", path: [key, ...i.path.map(String)], message: i.message });
        }
      })
      .optional(),
  })
  .strict()
  .transform((req, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    const routed = req.channel === "auto" || req.channels !== undefined;
    if (!req.channel && !req.channels) issue("channel", "give a channel, \"auto\", or channels to route among");
    if (req.channel && req.channels) issue("channels", "give channel or channels, not both");
    if (routed && !req.recipientId) issue("recipientId", "routing by preferences needs recipientType and recipientId");
    if (routed && req.recipientContact) issue("recipientContact", "a routed send uses the recipient's preferred contacts; leave it out");
    if (!routed && !req.recipientContact && !req.recipientId) issue("recipientContact", "give recipientContact, or recipientId to use the recipient's preferred contact");
    const template = req.templateId ?? req.templateCode;
    if (!req.content && !template) issue("content", "content, templateId or templateCode is required");
    if (req.content && template) issue("content", "give content or a template, not both");
    if (req.templateId && req.templateCode) issue("templateCode", "give templateId or templateCode, not both");
    if (req.fallback && req.channel === req.fallback.channel) issue("fallback", "the fallback channel must differ from the channel");
    const inline = (req.attachments ?? []).reduce((n, a) => n + (a.content ? decodedLength(a.content) : 0), 0);
    // Whatever no provider could take anyway (the largest email limits are 25–40 MB encoded).
    if (inline > MAX_INLINE_ATTACHMENT_BYTES) issue("attachments", "inline attachment content is limited to 20 MB in total; use fileUrl for larger files");
    if (req.channel && req.channel !== "auto" && req.recipientContact) {
      const checked = channelIssues({ ...req, channel: req.channel, recipientContact: req.recipientContact });
      for (const i of checked.issues) issue(i.field, i.message);
      return { ...req, recipientContact: checked.contact };
    }
    return req;
  });
export type SendRequest = z.infer<typeof SendRequest>;
