/** The tenant's own settings: `GET/PATCH /api/settings`. */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { fieldsOf, recordAudit } from "../audit";
import { jsonBody } from "../validate";
import { mergeTenantSettings, tenantSettings } from "../../db/tenants";
import type { TenantSettings } from "../../db/schema";
import { policyOf } from "../../preferences/policy";
import { DEFAULT_RECEIPT_WINDOWS } from "../../pipeline/silent-failover";
import { HHMM, isValidTimeZone } from "../../preferences/quiet-hours";
import { PROVIDER_CHANNELS } from "../../domain";
import { isUniqueViolation } from "../../db/client";
import { AppError } from "../../lib/errors";
import { EventType } from "../../automation/event";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug");

/** What the hosted preference center shows (src/api/routes/preference-center.ts); null clears a field. */
const Branding = z
  .object({
    name: z.string().trim().min(1).max(100).nullable().optional(),
    logoUrl: z
      .string()
      .max(2000)
      .refine((u) => URL.canParse(u) && new URL(u).protocol === "https:", "must be an https:// URL")
      .nullable()
      .optional(),
    primaryColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, "a hex colour such as #1d4ed8").nullable().optional(),
  })
  .strict();

export const Settings = z
  .object({
    tracking: z.enum(["provider", "herald", "off"]).optional(),
    /** Days before content and contacts are redacted (stats stay); null keeps them. */
    retentionDays: z.number().int().min(1).max(3650).nullable().optional(),
    /** Seconds to wait for a delivery receipt, per message type, before failing over; 0 turns it off. */
    receiptWindows: z.record(slug, z.number().int().min(0).max(12 * 3600)).optional(),
    /** Per channel: providers in priority order, or the first drawn by their `weight` settings. */
    /** Store recipients' preferred contacts sealed with the tenant's data key (from their next write). */
    encryptContacts: z.boolean().optional(),
    routing: z.partialRecord(z.enum(PROVIDER_CHANNELS), z.enum(["priority", "weighted"])).optional(),
    preferences: z
      .object({
        timezone: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Europe/Paris").optional(),
        quietHours: z.object({ start: z.string().regex(HHMM, "HH:MM"), end: z.string().regex(HHMM, "HH:MM") }).strict().nullable().optional(),
        requiredTypes: z.array(slug).max(100).optional(),
        marketingTypes: z.array(slug).max(100).optional(),
      })
      .strict()
      .optional(),
    branding: Branding.optional(),
    conversations: z
      .object({
        helpText: z.string().min(1).max(1600).optional(),
        keywords: z
          .array(z.object({ keyword: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "one word: letters, digits, _ or -").transform((k) => k.toLowerCase()), event: EventType }).strict())
          .max(50)
          .optional(),
        replyDomain: z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "a domain name such as reply.example.com").optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const withDefaults = (s: TenantSettings | null | undefined) => ({
  tracking: s?.tracking ?? "provider",
  retentionDays: s?.retentionDays ?? null,
  receiptWindows: { ...DEFAULT_RECEIPT_WINDOWS, ...s?.receiptWindows },
  routing: Object.fromEntries(PROVIDER_CHANNELS.map((ch) => [ch, s?.routing?.[ch] ?? "priority"])),
  encryptContacts: s?.encryptContacts ?? false,
  preferences: policyOf(s),
  branding: { name: s?.branding?.name ?? null, logoUrl: s?.branding?.logoUrl ?? null, primaryColor: s?.branding?.primaryColor ?? null },
  conversations: { helpText: s?.conversations?.helpText ?? null, keywords: s?.conversations?.keywords ?? [], replyDomain: s?.conversations?.replyDomain ?? null },
});

export const settings = new Hono<AppEnv>()
  .get("/", async (c) => {
    const [row] = await tenantSettings(c.var.db, c.var.tenantId);
    return c.json(withDefaults(row?.settings));
  })
  .patch("/", async (c) => {
    const patch = await jsonBody(c, Settings);
    // receiptWindows, routing and preferences merge key by key; the database does it, so a
    // concurrent PATCH is merged too instead of overwritten.
    const updated = await mergeTenantSettings(c.var.db, c.var.tenantId, patch).catch((error) => {
      if (isUniqueViolation(error)) throw new AppError("conflict", "conversations.replyDomain is another tenant's reply domain", [{ field: "conversations.replyDomain", message: "already taken" }]);
      throw error;
    });
    const shown = { retentionDays: patch.retentionDays, encryptContacts: patch.encryptContacts };
    const values = Object.fromEntries(Object.entries(shown).filter(([, v]) => v !== undefined));
    await recordAudit(c, "settings.updated", { detail: { fields: fieldsOf(patch), ...values } });
    return c.json(withDefaults(updated?.settings));
  });
