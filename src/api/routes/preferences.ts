/**
 * Recipients' preferences (seed §4.3): `GET/PATCH /api/communication-preferences/:entityType/:entityId`
 * and their consent trail. A PATCH changes only the fields it names; consent records are an
 * append-only audit log, and each one also updates the preference it speaks for. Contacts are
 * shown to the tenant in plain text and stored sealed when it turned on `encryptContacts`.
 */
import { iso } from "../dto";
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { audit } from "../audit";
import { writePreferences, type PreferenceWriter } from "../preference-writes";
import { jsonBody, parseWith } from "../validate";
import { getPreference, listConsents, type PreferenceRow, type RecipientKey } from "../../db/preferences";
import { blankPreference } from "../../preferences/consent";
import { openContacts } from "../../preferences/contact-sealing";
import { Channel, CHANNELS } from "../../domain";
import { HHMM, isValidTimeZone } from "../../preferences/quiet-hours";
import { LOCALE_PATTERN } from "../../templates/locale";
import { normaliseContact } from "../../pipeline/send-request";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug");
const contact = (channel: Channel) =>
  z
    .string()
    .transform((v, ctx) => {
      const n = normaliseContact(channel, v);
      if (!n.ok) ctx.addIssue({ code: "custom", message: n.reason });
      return n.ok ? n.value : v;
    })
    .nullable()
    .optional();
const toggle = z.boolean().nullable().optional();

export const PatchPreferences = z
  .object({
    emailEnabled: toggle,
    smsEnabled: toggle,
    whatsappEnabled: toggle,
    messengerEnabled: toggle,
    pushEnabled: toggle,
    inAppEnabled: toggle,
    slackEnabled: toggle,
    teamsEnabled: toggle,
    discordEnabled: toggle,
    telegramEnabled: toggle,
    /** Merged by type; a type set to null goes back to "any channel". */
    preferences: z.record(slug, z.array(Channel).max(CHANNELS.length).nullable()).optional(),
    preferredEmail: contact("email"),
    preferredPhone: contact("sms"),
    preferredWhatsapp: contact("whatsapp"),
    preferredMessengerId: contact("messenger"),
    preferredSlack: contact("slack"),
    preferredTeams: contact("teams"),
    preferredDiscord: contact("discord"),
    preferredTelegram: contact("telegram"),
    optedOut: z.boolean().optional(),
    optedOutReason: z.string().max(500).nullable().optional(),
    locale: z.string().regex(LOCALE_PATTERN).nullable().optional(),
    timezone: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Europe/Paris").nullable().optional(),
    quietHours: z.object({ start: z.string().regex(HHMM, "HH:MM"), end: z.string().regex(HHMM, "HH:MM") }).strict().nullable().optional(),
  })
  .strict();

export const ConsentRecord = z
  .object({
    channel: Channel,
    scope: z.enum(["all", "marketing"]).default("all"),
    status: z.enum(["granted", "revoked"]),
    source: z.string().min(1).max(100),
    ip: z.string().max(64).optional(),
    userAgent: z.string().max(500).optional(),
  })
  .strict();

export const Recipient = z.object({ entityType: slug, entityId: z.string().min(1).max(255) });

export const preferenceDto = (p: PreferenceRow, exists: boolean) => ({
  entityType: p.entityType,
  entityId: p.entityId,
  exists,
  emailEnabled: p.emailEnabled ?? true,
  smsEnabled: p.smsEnabled ?? true,
  whatsappEnabled: p.whatsappEnabled ?? true,
  messengerEnabled: p.messengerEnabled ?? true,
  pushEnabled: p.pushEnabled ?? true,
  inAppEnabled: p.inAppEnabled ?? true,
  slackEnabled: p.slackEnabled ?? true,
  teamsEnabled: p.teamsEnabled ?? true,
  discordEnabled: p.discordEnabled ?? true,
  telegramEnabled: p.telegramEnabled ?? true,
  preferences: p.preferences ?? {},
  preferredEmail: p.preferredEmail,
  preferredPhone: p.preferredPhone,
  preferredWhatsapp: p.preferredWhatsapp,
  preferredMessengerId: p.preferredMessengerId,
  preferredSlack: p.preferredSlack,
  preferredTeams: p.preferredTeams,
  preferredDiscord: p.preferredDiscord,
  preferredTelegram: p.preferredTelegram,
  marketingUnsubscribed: p.marketingRevoked ?? [],
  optedOutAt: iso(p.optedOutAt),
  optedOutReason: p.optedOutReason,
  locale: p.locale,
  timezone: p.timezone,
  quietHours: p.quietHours,
  updatedAt: exists ? iso(p.updatedAt) : null,
});

/** Writes by an API key, audited as that key. */
const apiWriter = (c: Context<AppEnv>): PreferenceWriter => ({
  db: c.var.db,
  tenantId: c.var.tenantId,
  encryptionKey: c.var.config.encryptionKey,
  audit: (action, facts) => audit(c, action, facts),
});

async function current(c: { var: AppEnv["Variables"] }, r: RecipientKey) {
  const [row] = await getPreference(c.var.db, c.var.tenantId, r);
  return row;
}

export const preferences = new Hono<AppEnv>()
  .get("/:entityType/:entityId", async (c) => {
    const r = parseWith(Recipient, c.req.param());
    const row = await current(c, r);
    return c.json(preferenceDto(row ? await openContacts(c.var.config.encryptionKey, row) : blankPreference(c.var.tenantId, r, new Date()), !!row));
  })
  .patch("/:entityType/:entityId", async (c) => {
    const r = parseWith(Recipient, c.req.param());
    const patch = await jsonBody(c, PatchPreferences);
    const { row } = await writePreferences(apiWriter(c), r, patch, [], new Date());
    return c.json(preferenceDto(row, true));
  })
  .get("/:entityType/:entityId/consents", async (c) => {
    const r = parseWith(Recipient, c.req.param());
    const rows = await listConsents(c.var.db, c.var.tenantId, r);
    return c.json({
      results: rows.map(({ tenantId: _t, createdAt, ...rest }) => ({ ...rest, createdAt: createdAt.toISOString() })),
    });
  })
  .post("/:entityType/:entityId/consents", async (c) => {
    const r = parseWith(Recipient, c.req.param());
    const body = await jsonBody(c, ConsentRecord);
    const { consents } = await writePreferences(apiWriter(c), r, {}, [body], new Date());
    const { tenantId: _t, createdAt, ...record } = consents[0]!;
    return c.json({ ...record, createdAt: createdAt.toISOString() }, 201);
  });
