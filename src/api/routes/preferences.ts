/**
 * Recipients' preferences (seed §4.3): `GET/PATCH /api/communication-preferences/:entityType/:entityId`
 * and their consent trail. A PATCH changes only the fields it names; consent records are an
 * append-only audit log, and each one also updates the preference it speaks for. Contacts are
 * shown to the tenant in plain text and stored sealed when it turned on `encryptContacts`.
 */
import { iso } from "../dto";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { audit, fieldsOf } from "../audit";
import { jsonBody, parseWith } from "../validate";
import { maskContact } from "../../lib/mask";
import { changePreference, getPreference, insertConsent, listConsents, type PreferenceChange, type PreferenceRow, type RecipientKey } from "../../db/preferences";
import { blankPreference, consentChange } from "../../preferences/consent";
import { CONTACT_FIELDS, openContacts, storedContacts, type ContactField } from "../../preferences/contact-sealing";
import { tenantSettings } from "../../db/tenants";
import { Channel, CHANNELS } from "../../domain";
import { uuidv7 } from "../../lib/ids";
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
    const now = new Date();
    const { db, tenantId, config } = c.var;
    const [[found], [tenant]] = await db.batch([getPreference(db, tenantId, r), tenantSettings(db, tenantId)]);
    const encrypt = tenant?.settings?.encryptContacts === true;
    const { preferences: byType, optedOut, ...fields } = patch;
    const set: PreferenceChange["set"] = {};
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) (set as Record<string, unknown>)[k] = v;
    // Every contact of the row is stored under today's setting: new ones sealed (or not), and
    // sealed ones opened when the tenant has turned the setting off. The ones this PATCH does not
    // name are swapped only if they still hold what was read, so a concurrent write wins over it.
    const owner = { tenantId, ...r };
    const named = CONTACT_FIELDS.filter((f) => set[f] !== undefined);
    const given = Object.fromEntries(CONTACT_FIELDS.map((f) => [f, set[f] ?? null])) as Record<ContactField, string | null>;
    const sealed = await storedContacts(config.encryptionKey, { ...owner, ...given }, encrypt);
    for (const f of named) set[f] = sealed[f];
    const reseal: PreferenceChange["reseal"] = {};
    if (found) {
      const restored = await storedContacts(config.encryptionKey, found, encrypt);
      for (const f of CONTACT_FIELDS) {
        const from = found[f];
        const to = restored[f];
        if (set[f] === undefined && from !== null && to !== null && from !== to) reseal[f] = { from, to };
      }
    }
    // The audit detail names the fields; contacts appear masked, other values not at all.
    const contacts = Object.fromEntries(CONTACT_FIELDS.filter((f) => patch[f] !== undefined).map((f) => [f, maskContact(patch[f])]));
    const [[saved]] = await db.batch([
      changePreference(db, tenantId, r, { set, preferences: byType, optedOut, reseal }, now),
      audit(c, "preference.updated", { resourceId: `${r.entityType}/${r.entityId}`, detail: { fields: fieldsOf(patch), ...contacts } }),
    ]);
    return c.json(preferenceDto(await openContacts(config.encryptionKey, saved!), true));
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
    const now = new Date();
    const { db, tenantId } = c.var;
    const record = { id: uuidv7(), tenantId, ...r, ...body, ip: body.ip ?? null, userAgent: body.userAgent ?? null, createdAt: now };
    await db.batch([
      insertConsent(db, record),
      changePreference(db, tenantId, r, consentChange(body), now),
      audit(c, "consent.recorded", { resourceId: `${r.entityType}/${r.entityId}`, detail: { channel: body.channel, scope: body.scope, status: body.status, source: body.source } }),
    ]);
    return c.json({ ...record, tenantId: undefined, createdAt: now.toISOString() }, 201);
  });
