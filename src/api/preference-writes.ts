/**
 * The one write path for a recipient's preferences and consent records, used by the API
 * (src/api/routes/preferences.ts) and by the hosted preference center
 * (src/api/routes/preference-center.ts): a patch of the fields it names and any consent records,
 * each with its audit entry, in one D1 batch that ends by reading the row back as it now is.
 * Contacts are stored under the tenant's `encryptContacts` setting of today.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { z } from "zod";
import type { AuditAction, AuditFacts } from "./audit";
import { fieldsOf } from "./audit";
import type { ConsentRecord, PatchPreferences } from "./routes/preferences";
import { runBatch, type Db } from "../db/client";
import { changePreference, getPreference, insertConsent, type ConsentRow, type PreferenceChange, type PreferenceRow, type RecipientKey } from "../db/preferences";
import { tenantSettings } from "../db/tenants";
import type { TenantSettings } from "../db/schema";
import { maskContact } from "../lib/mask";
import { uuidv7 } from "../lib/ids";
import { consentChange } from "../preferences/consent";
import { CONTACT_FIELDS, openContacts, storedContacts, type ContactField } from "../preferences/contact-sealing";

export type PreferencePatch = z.output<typeof PatchPreferences>;
export type ConsentInput = z.output<typeof ConsentRecord>;

export type PreferenceWriter = {
  db: Db;
  tenantId: string;
  encryptionKey: string;
  /** The audit insert for this caller (an API key, or the recipient on the hosted page). */
  audit: (action: AuditAction, facts: AuditFacts) => BatchItem<"sqlite">;
};

/** The change a patch makes, with contacts sealed (or opened) under today's setting. */
async function patchChange(w: PreferenceWriter, found: PreferenceRow | undefined, encrypt: boolean, patch: PreferencePatch, r: RecipientKey): Promise<PreferenceChange> {
  const { preferences: byType, optedOut, ...fields } = patch;
  const set: PreferenceChange["set"] = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (set as Record<string, unknown>)[k] = v;
  // Every contact of the row is stored under today's setting: new ones sealed (or not), and
  // sealed ones opened when the tenant has turned the setting off. The ones this patch does not
  // name are swapped only if they still hold what was read, so a concurrent write wins over it.
  const owner = { tenantId: w.tenantId, ...r };
  const named = CONTACT_FIELDS.filter((f) => set[f] !== undefined);
  const given = Object.fromEntries(CONTACT_FIELDS.map((f) => [f, set[f] ?? null])) as Record<ContactField, string | null>;
  const sealed = await storedContacts(w.encryptionKey, { ...owner, ...given }, encrypt);
  for (const f of named) set[f] = sealed[f];
  const reseal: PreferenceChange["reseal"] = {};
  if (found) {
    const restored = await storedContacts(w.encryptionKey, found, encrypt);
    for (const f of CONTACT_FIELDS) {
      const from = found[f];
      const to = restored[f];
      if (set[f] === undefined && from !== null && to !== null && from !== to) reseal[f] = { from, to };
    }
  }
  return { set, preferences: byType, optedOut, reseal };
}

/** The stored row (contacts as stored) and the tenant's settings, as a caller already read them. */
export type WriteBasis = { found: PreferenceRow | undefined; settings: TenantSettings | null | undefined };

async function readBasis(db: Db, tenantId: string, r: RecipientKey): Promise<WriteBasis> {
  const [[found], [tenant]] = await db.batch([getPreference(db, tenantId, r), tenantSettings(db, tenantId)]);
  return { found, settings: tenant?.settings };
}

/**
 * Applies `patch` (skipped when it names nothing and consents are given) and then each consent
 * record; answers the row as the batch left it, contacts opened, and the consent rows written.
 * A caller that has just read the row and the tenant's settings passes them as `basis`, sparing
 * a D1 round trip (contacts it does not name are swapped only if unchanged since, see above).
 */
export async function writePreferences(w: PreferenceWriter, r: RecipientKey, patch: PreferencePatch, consents: ConsentInput[], now: Date, basis?: WriteBasis) {
  const { db, tenantId } = w;
  const resourceId = `${r.entityType}/${r.entityId}`;
  const statements: BatchItem<"sqlite">[] = [];
  const fields = fieldsOf(patch);
  if (fields.length || !consents.length) {
    const { found, settings } = basis ?? (await readBasis(db, tenantId, r));
    const change = await patchChange(w, found, settings?.encryptContacts === true, patch, r);
    // The audit detail names the fields; contacts appear masked, other values not at all.
    const contacts = Object.fromEntries(CONTACT_FIELDS.filter((f) => patch[f] !== undefined).map((f) => [f, maskContact(patch[f])]));
    statements.push(changePreference(db, tenantId, r, change, now), w.audit("preference.updated", { resourceId, detail: { fields, ...contacts } }));
  }
  const records: ConsentRow[] = consents.map((body) => ({ id: uuidv7(), tenantId, ...r, ...body, ip: body.ip ?? null, userAgent: body.userAgent ?? null, createdAt: now }));
  for (const record of records) {
    const { channel, scope, status, source } = record;
    statements.push(
      insertConsent(db, record),
      changePreference(db, tenantId, r, consentChange({ channel, scope, status }), now),
      w.audit("consent.recorded", { resourceId, detail: { channel, scope, status, source } }),
    );
  }
  const results = await runBatch(db, [...statements, getPreference(db, tenantId, r)]);
  const [saved] = results[results.length - 1] as PreferenceRow[];
  return { row: await openContacts(w.encryptionKey, saved!), consents: records };
}
