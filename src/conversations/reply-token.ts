/**
 * Signed reply-to addresses for email: `reply+<token>@<tenant reply domain>`, where the token
 * names the tenant and the communication it answers and carries an HMAC under a key of its own
 * (derived from the master secret), so a reply cannot be steered into another tenant's thread by
 * editing the address. Tokens stay short: the local part of an address is at most 64 characters,
 * so the MAC is truncated to 96 bits, which is ample against forgery of an address.
 */
import { base64Decode, base64urlEncode as base64url } from "../lib/base64";
import { constantTimeEqual, hmac } from "../lib/crypto";

const keyFor = (secret: string) => hmac("SHA-256", base64Decode(secret), "herald reply tokens v1");
const mac = async (secret: string, tenantId: string, communicationId: string) =>
  base64url((await hmac("SHA-256", await keyFor(secret), `${tenantId}\u0000${communicationId}`)).slice(0, 12));

/** uuidv7 without dashes (32 hex) and a 16-character MAC: 49 characters with the dot. */
export async function mintReplyToken(secret: string, tenantId: string, communicationId: string): Promise<string> {
  return `${communicationId.replace(/-/g, "")}.${await mac(secret, tenantId, communicationId)}`;
}

export async function replyAddress(secret: string, tenantId: string, communicationId: string, domain: string) {
  return `reply+${await mintReplyToken(secret, tenantId, communicationId)}@${domain}`;
}

/** The communication a reply token names, when it was signed for this tenant. */
export async function verifyReplyToken(secret: string, tenantId: string, token: string): Promise<string | undefined> {
  const m = /^([0-9a-f]{32})\.([A-Za-z0-9_-]{16})$/i.exec(token.trim());
  if (!m) return undefined;
  const h = m[1]!.toLowerCase();
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  return constantTimeEqual(m[2]!, await mac(secret, tenantId, id)) ? id : undefined;
}

/** The token in a `reply+<token>@domain` address, if it is one. */
export const tokenOfAddress = (address: string) => /^reply\+([^@]+)@/i.exec(address.trim())?.[1];
