/**
 * Signed URL tokens: `<base64url JSON payload>.<base64url HMAC-SHA256>`, under a key derived from
 * the master secret for one purpose (domain separation), so a token minted for one kind of link
 * never verifies as another. Tracking and unsubscribe links and preference-center links use it;
 * callers check the payload's shape and any expiry themselves.
 */
import { base64Decode, base64urlDecode, base64urlEncode as base64url } from "./base64";
import { constantTimeEqual, hmac } from "./crypto";

const keyFor = (secret: string, purpose: string) => hmac("SHA-256", base64Decode(secret), purpose);

export async function signPayload(secret: string, purpose: string, payload: unknown): Promise<string> {
  const body = base64url(new TextEncoder().encode(JSON.stringify(payload)));
  const mac = base64url(await hmac("SHA-256", await keyFor(secret, purpose), body));
  return `${body}.${mac}`;
}

/** The payload, parsed but unchecked, when the MAC is this purpose's; undefined otherwise. */
export async function verifyPayload(secret: string, purpose: string, raw: string): Promise<unknown> {
  const [body, mac, extra] = raw.split(".");
  if (!body || !mac || extra !== undefined) return undefined;
  const expected = base64url(await hmac("SHA-256", await keyFor(secret, purpose), body));
  if (!constantTimeEqual(mac, expected)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(base64urlDecode(body))) as unknown;
  } catch {
    return undefined;
  }
}
