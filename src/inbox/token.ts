/**
 * Recipient tokens for the in-app inbox: short-lived HS256 JWTs a tenant's backend mints for one
 * recipient, so a browser never holds a tenant API key. A token reaches only its own tenant's and
 * recipient's inbox. The signing key is derived from the master secret, used for nothing else.
 */
import { jwtVerify, SignJWT } from "jose";
import { hmac } from "../lib/crypto";
import { base64Decode } from "../lib/base64";

const AUDIENCE = "herald-inbox";
const keyFor = (secret: string) => hmac("SHA-256", base64Decode(secret), "herald inbox tokens v1");

export type Recipient = { tenantId: string; recipientType: string; recipientId: string };

export async function mintInboxToken(secret: string, r: Recipient, ttlSeconds: number, now = new Date()) {
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const token = await new SignJWT({ tid: r.tenantId, rt: r.recipientType })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(r.recipientId)
    .setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(await keyFor(secret));
  return { token, expiresAt };
}

/** The recipient a token names and when it runs out (epoch ms), or undefined for a forged, expired or foreign token. */
export async function readInboxToken(secret: string, token: string): Promise<(Recipient & { expiresAt: number }) | undefined> {
  try {
    const { payload } = await jwtVerify(token, await keyFor(secret), { audience: AUDIENCE, algorithms: ["HS256"] });
    if (typeof payload.tid !== "string" || typeof payload.rt !== "string" || !payload.sub) return undefined;
    return { tenantId: payload.tid, recipientType: payload.rt, recipientId: payload.sub, expiresAt: (payload.exp ?? 0) * 1000 };
  } catch {
    return undefined;
  }
}
