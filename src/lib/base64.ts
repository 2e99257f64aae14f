/**
 * Base64 for files of many megabytes (attachments): in 32 KB slices, because building one
 * character at a time, as the small helpers in crypto.ts do, costs seconds of CPU at 20 MB.
 */
const SLICE = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += SLICE) parts.push(String.fromCharCode(...bytes.subarray(i, i + SLICE)));
  return btoa(parts.join(""));
}

export function base64ToBytes(b64: string): Uint8Array {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Decoded length of a base64 string, without decoding it. */
export const decodedLength = (b64: string) => {
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - padding;
};
