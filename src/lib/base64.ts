/**
 * The one base64 module: standard base64 and base64url (RFC 4648 §4 and §5), for keys, signatures,
 * tokens, Basic credentials and files of many megabytes (attachments). Bytes are turned into the
 * binary string `btoa` wants in 32 KB slices, because building it one character at a time costs
 * seconds of CPU at 20 MB. It replaces four helpers that did the same in crypto.ts, ids.ts,
 * tracking-links.ts and here, and the inline `atob`/`btoa` loops in provider adapters.
 */
const SLICE = 0x8000;
const encoder = new TextEncoder();

/** Standard base64 (with padding) of bytes, or of a string's UTF-8 bytes. */
export function base64Encode(data: ArrayBuffer | Uint8Array | string): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data instanceof Uint8Array ? data : new Uint8Array(data);
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += SLICE) parts.push(String.fromCharCode(...bytes.subarray(i, i + SLICE)));
  return btoa(parts.join(""));
}

/** Bytes of standard base64; throws on characters outside the alphabet (as `atob` does). */
export function base64Decode(b64: string): Uint8Array {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** base64url without padding (JWTs, tokens in URLs, API keys). */
export const base64urlEncode = (data: ArrayBuffer | Uint8Array | string) =>
  base64Encode(data).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Bytes of base64url, padded or not. */
export const base64urlDecode = (s: string) =>
  base64Decode(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));

/** Decoded length of a base64 string, without decoding it. */
export const decodedLength = (b64: string) => {
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - padding;
};
