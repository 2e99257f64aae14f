/**
 * RFC 8291 message encryption for Web Push, with WebCrypto: a fresh ECDH P-256 key pair per
 * message, agreed with the subscription's `p256dh` key and mixed with its `auth` secret through
 * HKDF-SHA256, then AES-128-GCM over one record (RFC 8188 `aes128gcm`, record size 4096). The
 * output is the whole request body: salt, record size, our public key, ciphertext.
 */
import { base64urlDecode, base64urlEncode } from "../../lib/base64";

const RECORD_SIZE = 4096;
const enc = new TextEncoder();

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, bytes: number) {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, bytes * 8));
}

export type Subscription = { p256dh: string; auth: string };

/** Encrypts `plaintext` for one subscription; throws if its keys are not a P-256 point and a 16-byte secret. */
export async function encryptForSubscription(plaintext: Uint8Array, sub: Subscription): Promise<Uint8Array> {
  const uaPublic = base64urlDecode(sub.p256dh);
  const authSecret = base64urlDecode(sub.auth);
  if (uaPublic.length !== 65 || uaPublic[0] !== 4 || authSecret.length !== 16) throw new Error("the subscription's keys are malformed");
  if (plaintext.length + 17 > RECORD_SIZE) throw new Error("the payload does not fit one record");

  const ua = await crypto.subtle.importKey("raw", uaPublic, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const local = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const asPublic = new Uint8Array((await crypto.subtle.exportKey("raw", local.publicKey)) as ArrayBuffer);
  // workers-types spell the peer key `$public`; WebCrypto (and workerd) read `public`.
  const agree = { name: "ECDH", public: ua } as unknown as SubtleCryptoDeriveKeyAlgorithm;
  const ecdhSecret = new Uint8Array(await crypto.subtle.deriveBits(agree, local.privateKey, 256));

  // RFC 8291 §3.3–3.4: the input keying material binds both public keys and the auth secret.
  const keyInfo = concat(enc.encode("WebPush: info\0"), uaPublic, asPublic);
  const ikm = await hkdf(authSecret, ecdhSecret, keyInfo, 32);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const cek = await hkdf(salt, ikm, enc.encode("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, enc.encode("Content-Encoding: nonce\0"), 12);

  // One record, so it is the last: the padding delimiter is 0x02 and no padding follows.
  const aes = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["encrypt"]);
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, aes, concat(plaintext, new Uint8Array([2]))));

  const header = new Uint8Array(21);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(16, RECORD_SIZE);
  header[20] = asPublic.length;
  return concat(header, asPublic, ciphertext);
}
