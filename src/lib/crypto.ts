/**
 * WebCrypto helpers: SHA-256 hashing, and AES-256-GCM sealing of tenants' secrets (provider
 * credentials, webhook signing secrets). New values are `v2.<iv>.<ciphertext>` (base64), sealed
 * with a key derived for the one tenant from the master secret (HKDF-SHA256), so one tenant's key
 * says nothing about another's. `v1.` values, sealed with the master key itself, still open. The
 * associated data binds a ciphertext to the record it belongs to, so a copied one will not open.
 */
import { base64Decode as fromB64, base64Encode as toB64 } from "./base64";
import { hexEncode } from "./hex";

const encoder = new TextEncoder();

export async function sha256Hex(input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(input));
  return hexEncode(digest);
}


// Importing a key costs a little CPU; the secret does not change within an isolate's life.
const keyCache = new Map<string, Promise<CryptoKey>>();

function importKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    const raw = fromB64(secret);
    if (raw.length !== 32) throw new Error("ENCRYPTION_KEY must be 32 bytes, base64-encoded");
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    keyCache.set(secret, key);
  }
  return key;
}

// Deriving costs a little CPU; a tenant's key does not change within an isolate's life.
const tenantKeys = new Map<string, Promise<CryptoKey>>();

function tenantKey(secret: string, tenantId: string): Promise<CryptoKey> {
  const cacheKey = `${secret}\u0000${tenantId}`;
  let key = tenantKeys.get(cacheKey);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", fromB64(secret), "HKDF", false, ["deriveKey"])
      .then((master) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: encoder.encode(tenantId), info: encoder.encode("herald tenant data key v2") },
          master,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        ),
      );
    if (tenantKeys.size > 10_000) tenantKeys.clear();
    tenantKeys.set(cacheKey, key);
  }
  return key;
}

export async function seal(secret: string, tenantId: string, plaintext: string, associatedData: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(associatedData) },
    await tenantKey(secret, tenantId),
    encoder.encode(plaintext),
  );
  return `v2.${toB64(iv)}.${toB64(ct)}`;
}

export async function open(secret: string, tenantId: string, sealed: string, associatedData: string): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if ((version !== "v1" && version !== "v2") || !iv || !ct) throw new Error("unrecognised sealed value");
  const key = version === "v2" ? await tenantKey(secret, tenantId) : await importKey(secret);
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromB64(iv), additionalData: encoder.encode(associatedData) }, key, fromB64(ct));
  return new TextDecoder().decode(pt);
}


/** HMAC of a UTF-8 string; `key` is raw bytes or a UTF-8 string. */
export async function hmac(hash: "SHA-1" | "SHA-256", key: Uint8Array | string, data: string): Promise<Uint8Array> {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(data)));
}

/** Compares two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.length !== y.length) return false;
  return crypto.subtle.timingSafeEqual(x, y);
}

/**
 * ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` → the fixed-width r‖s that WebCrypto's ECDSA
 * verify takes (IEEE P1363). Providers (SendGrid) sign in DER; WebCrypto has no DER option.
 */
export function derToP1363(der: Uint8Array, size = 32): Uint8Array | undefined {
  let i = 0;
  if (der[i++] !== 0x30) return undefined;
  let length = der[i++]!;
  if (length & 0x80) i += length & 0x7f; // long-form length: skip its bytes
  const out = new Uint8Array(size * 2);
  for (const half of [0, 1]) {
    if (der[i++] !== 0x02) return undefined;
    length = der[i++]!;
    let int = der.subarray(i, i + length);
    i += length;
    while (int.length > size && int[0] === 0) int = int.subarray(1);
    if (int.length > size) return undefined;
    out.set(int, half * size + (size - int.length));
  }
  return out;
}
