/**
 * RFC 8292 VAPID: the application server proves to a push service that it is the one the
 * browser's subscription was made for, with an ES256 JWT (`aud` = the push service's origin,
 * `exp` within 24 hours, `sub` = a contact) and its public key. Each tenant's webpush config has
 * its own key pair; Herald generates it when the config is created without one, keeps the private
 * half sealed with the credentials, and shows the public half (settings.vapidPublicKey) because
 * the browser needs it as `applicationServerKey` in `pushManager.subscribe`.
 */
import { importJWK, SignJWT } from "jose";
import { base64urlDecode, base64urlEncode } from "../../lib/base64";
import type { ConfigInput } from "../types";
import type { FieldError } from "../../lib/errors";

export type VapidKeys = { publicKey: string; privateKey: string };

/** A fresh P-256 key pair: the public key as an uncompressed point, the private as its scalar, both base64url. */
export async function generateVapidKeys(): Promise<VapidKeys> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { publicKey: publicKeyOf(jwk.x!, jwk.y!), privateKey: jwk.d! };
}

const publicKeyOf = (x: string, y: string) => {
  const point = new Uint8Array(65);
  point[0] = 4;
  point.set(base64urlDecode(x), 1);
  point.set(base64urlDecode(y), 33);
  return base64urlEncode(point);
};

function jwkOf(keys: VapidKeys): JsonWebKey {
  const point = base64urlDecode(keys.publicKey);
  if (point.length !== 65 || point[0] !== 4) throw new Error("the VAPID public key is not an uncompressed P-256 point");
  return { kty: "EC", crv: "P-256", x: base64urlEncode(point.slice(1, 33)), y: base64urlEncode(point.slice(33)), d: keys.privateKey };
}

/** The `Authorization` header value for one push service origin. */
export async function vapidAuthorization(keys: VapidKeys, audience: string, subject: string, now: Date) {
  const key = await importJWK(jwkOf(keys), "ES256");
  const jwt = await new SignJWT({})
    .setProtectedHeader({ typ: "JWT", alg: "ES256" })
    .setAudience(audience)
    .setExpirationTime(Math.floor(now.getTime() / 1000) + 12 * 3600)
    .setSubject(subject)
    .sign(key);
  return `vapid t=${jwt}, k=${keys.publicKey}`;
}

/** Whether the two halves belong together: a signature by one verifies with the other. */
async function pairs(keys: VapidKeys) {
  try {
    const jwk = jwkOf(keys);
    const algorithm = { name: "ECDSA", namedCurve: "P-256" };
    const priv = await crypto.subtle.importKey("jwk", jwk, algorithm, false, ["sign"]);
    const pub = await crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }, algorithm, false, ["verify"]);
    const data = new TextEncoder().encode("vapid pair check");
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, priv, data);
    return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, signature, data);
  } catch {
    return false;
  }
}

/**
 * Before a webpush config is stored: no keys given → a new pair; both given → they must match;
 * one half alone is an error naming the other.
 */
export async function completeVapid(input: ConfigInput): Promise<ConfigInput | { issues: FieldError[] }> {
  const privateKey = input.credentials.vapidPrivateKey;
  const publicKey = input.settings.vapidPublicKey;
  if (privateKey === undefined && publicKey === undefined) {
    const keys = await generateVapidKeys();
    return { credentials: { ...input.credentials, vapidPrivateKey: keys.privateKey }, settings: { ...input.settings, vapidPublicKey: keys.publicKey } };
  }
  if (privateKey === undefined) return { issues: [{ field: "credentials.vapidPrivateKey", message: "give the private key of settings.vapidPublicKey, or neither and Herald generates a pair" }] };
  if (publicKey === undefined) return { issues: [{ field: "settings.vapidPublicKey", message: "give the public key of credentials.vapidPrivateKey, or neither and Herald generates a pair" }] };
  if (typeof privateKey !== "string" || typeof publicKey !== "string" || !(await pairs({ publicKey, privateKey }))) {
    return { issues: [{ field: "settings.vapidPublicKey", message: "is not the public key of credentials.vapidPrivateKey" }] };
  }
  return input;
}
