/**
 * WebCrypto helpers: SHA-256 hashing, and AES-256-GCM sealing of provider credentials.
 * Sealed values are `v1.<iv>.<ciphertext>` (base64); the associated data binds a ciphertext to
 * the record it belongs to, so a credential copied onto another tenant's row will not open.
 */
const encoder = new TextEncoder();

export async function sha256Hex(input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(input));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const toB64 = (bytes: ArrayBuffer | Uint8Array) => {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
};
const fromB64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

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

export async function seal(secret: string, plaintext: string, associatedData: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(associatedData) },
    await importKey(secret),
    encoder.encode(plaintext),
  );
  return `v1.${toB64(iv)}.${toB64(ct)}`;
}

export async function open(secret: string, sealed: string, associatedData: string): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new Error("unrecognised sealed value");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromB64(iv), additionalData: encoder.encode(associatedData) },
    await importKey(secret),
    fromB64(ct),
  );
  return new TextDecoder().decode(pt);
}

export { toB64 as base64Encode, fromB64 as base64Decode };
