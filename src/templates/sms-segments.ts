/**
 * How many SMS segments a text costs (GSM 03.38 vs UCS-2), as carriers and Twilio count them:
 * GSM-7 fits 160 characters in one message and 153 per part once split, with the extension
 * characters costing two septets and never split across parts; any other character makes the
 * whole message UCS-2: 70 UTF-16 units alone, 67 per part, surrogate pairs never split.
 */
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION = "\f^{}\\[~]|€";
const basic = new Set(GSM_BASIC);
const extension = new Set(GSM_EXTENSION);

export type SmsEncoding = "GSM-7" | "UCS-2";
export type SmsInfo = { encoding: SmsEncoding; characters: number; units: number; segments: number };

export function smsSegments(text: string): SmsInfo {
  const chars = Array.from(text);
  const gsm = chars.every((c) => basic.has(c) || extension.has(c));
  if (gsm) {
    const costs = chars.map((c) => (extension.has(c) ? 2 : 1));
    return { encoding: "GSM-7", characters: chars.length, ...pack(costs, 160, 153) };
  }
  const costs = chars.map((c) => c.length); // UTF-16 code units: 2 for astral characters
  return { encoding: "UCS-2", characters: chars.length, ...pack(costs, 70, 67) };
}

/** Packs indivisible units into segments: one message if it all fits `single`, else parts of `multi`. */
function pack(costs: number[], single: number, multi: number): { units: number; segments: number } {
  const units = costs.reduce((a, b) => a + b, 0);
  if (units === 0) return { units, segments: 0 };
  if (units <= single) return { units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { units, segments };
}
