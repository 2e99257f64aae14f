/**
 * Phone numbers for SMS and WhatsApp: parsed and validated with libphonenumber-js against each
 * country's numbering plan, and normalised to E.164. A regex (`+` and 7 to 15 digits) took
 * `+1 555 0000` as `+15550000`, a number no carrier can route; the plan knows a US number has ten
 * digits and which area codes exist. The `min` metadata build, already used for SMS prices
 * (src/channels/pricing.ts), so it costs the bundle nothing more: its validation checks length and
 * the national number pattern of the country; `max` (about 65 KB more) adds only type detection
 * (mobile, fixed line), which nothing here needs.
 */
import { parsePhoneNumberWithError, ParseError } from "libphonenumber-js/min";

export const PHONE_EXAMPLE = "+14155550123";

const DETAILS: Record<string, string> = {
  INVALID_COUNTRY: "no country code",
  TOO_SHORT: "too short",
  TOO_LONG: "too long",
  NOT_A_NUMBER: "not a number",
};

const refused = (detail: string) => ({ ok: false as const, reason: `must be a valid phone number in international (E.164) format, e.g. ${PHONE_EXAMPLE} (${detail})` });

/** The number in E.164 (`+14155550123`), or the reason it is not one. */
export function normalisePhone(raw: string): { ok: true; value: string } | { ok: false; reason: string } {
  // No default country: a number without its country code could be anyone's.
  const text = raw.trim();
  if (!text.startsWith("+")) return refused("no + and country code");
  try {
    const phone = parsePhoneNumberWithError(text, { extract: false });
    if (phone.ext) return refused("an extension cannot receive messages");
    if (!phone.isValid()) return refused(`${phone.number} is not in the numbering plan of +${phone.countryCallingCode}`);
    return { ok: true, value: phone.number };
  } catch (error) {
    if (error instanceof ParseError) return refused(DETAILS[error.message] ?? "not a number");
    throw error;
  }
}
