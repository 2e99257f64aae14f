/**
 * Recipients' preferred contacts at rest. When a tenant turns on `encryptContacts`, the four
 * contact fields of its preference rows are written sealed (src/lib/crypto.ts: AES-GCM under the
 * tenant's own data key, `v2.<iv>.<ciphertext>`), with associated data naming the tenant, the
 * recipient and the field, so a value copied to another row, field or tenant fails to open
 * instead of yielding someone else's address. Opening passes plain values through unchanged:
 * rows written before the setting changed stay as they are until their next write, and both
 * kinds read the same way.
 */
import type { PreferenceRow } from "../db/preferences";
import { open, seal } from "../lib/crypto";

export const CONTACT_FIELDS = ["preferredEmail", "preferredPhone", "preferredWhatsapp", "preferredMessengerId"] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

type Owner = Pick<PreferenceRow, "tenantId" | "entityType" | "entityId">;
type Contacts = Pick<PreferenceRow, ContactField>;

/** NUL never occurs in a slug or an id, so the parts cannot run into each other. */
export const contactAad = (row: Owner, field: ContactField) => ["recipient_preference", row.tenantId, row.entityType, row.entityId, field].join("\u0000");

/**
 * A value this module sealed: a 12-byte IV (16 base64 characters) and a ciphertext of at least the
 * 16-byte tag. No normalised contact looks like this: emails have an @, phone numbers are E.164
 * digits, and Messenger ids are digits.
 */
const SEALED = /^v2\.[A-Za-z0-9+/]{16}\.(?:[A-Za-z0-9+/]{4}){5,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const isSealedContact = (value: string) => SEALED.test(value);

/** Thrown when a sealed contact does not open: the wrong row, field or tenant, or a changed key. */
export class SealedContactError extends Error {
  constructor(
    readonly field: ContactField,
    row: Owner,
  ) {
    super(`recipient preference ${row.entityType}/${row.entityId}: ${field} does not open under this tenant's key`);
    this.name = "SealedContactError";
  }
}

/** The row with its contacts in plain text; plain values pass through. */
export async function openContacts<T extends Owner & Contacts>(secret: string, row: T): Promise<T> {
  const out = { ...row };
  for (const field of CONTACT_FIELDS) {
    const value = row[field];
    if (value === null || !isSealedContact(value)) continue;
    try {
      out[field] = await open(secret, row.tenantId, value, contactAad(row, field));
    } catch {
      throw new SealedContactError(field, row);
    }
  }
  return out;
}

/** The row with its plain contacts sealed; values already sealed are kept, never sealed twice. */
export async function sealContacts<T extends Owner & Contacts>(secret: string, row: T): Promise<T> {
  const out = { ...row };
  for (const field of CONTACT_FIELDS) {
    const value = row[field];
    if (value === null || isSealedContact(value)) continue;
    out[field] = await seal(secret, row.tenantId, value, contactAad(row, field));
  }
  return out;
}

/** The row as it is stored under the tenant's setting: sealed when on, plain when off. */
export const storedContacts = <T extends Owner & Contacts>(secret: string, row: T, encrypt: boolean): Promise<T> =>
  encrypt ? sealContacts(secret, row) : openContacts(secret, row);
