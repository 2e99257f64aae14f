/**
 * Masking contacts for logs and the audit trail (issue 14: PII never in logs). Enough is kept to
 * tell two contacts apart while debugging (`j***@example.com`, `+1415***0123`), never enough to
 * reach the person.
 */

/** `jane@example.com` → `j***@example.com`. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/** `+14155550123` → `+1415***0123`; short numbers keep less. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/^whatsapp:/, "").replace(/[^\d+]/g, "");
  const plus = digits.startsWith("+") ? "+" : "";
  const d = digits.slice(plus.length);
  if (d.length < 8) return `${plus}***${d.slice(-2)}`;
  return `${plus}${d.slice(0, 4)}***${d.slice(-4)}`;
}

/** Anything else (Messenger ids, inbox addresses): the first and last two characters. */
function maskOpaque(value: string): string {
  return value.length <= 6 ? "***" : `${value.slice(0, 2)}***${value.slice(-2)}`;
}

/** Masks a contact of any channel, recognised by its shape. */
export function maskContact(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  const v = value.trim();
  if (v.includes("@")) return maskEmail(v);
  if (/^(whatsapp:)?\+?[\d\s().-]{7,}$/.test(v)) return maskPhone(v);
  return maskOpaque(v);
}
