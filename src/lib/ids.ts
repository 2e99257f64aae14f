/**
 * Identifiers. UUIDv7 (RFC 9562): time-ordered, so rows created together sit together in D1's
 * B-trees and ids sort by creation time. Within one millisecond the 12-bit `rand_a` field is a
 * counter (RFC 9562 §6.2, method 1), so ids minted by one isolate sort in the order they were
 * made — a timeline's events keep their order. API keys are 32 random bytes, base64url.
 */
import { base64urlEncode } from "./base64";
import { hexEncode } from "./hex";

// Isolate-wide on purpose: monotonicity only has to hold for ids this isolate mints.
let lastMs = 0;
let counter = 0;

export function uuidv7(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  if (now <= lastMs) {
    counter++;
    // Counter exhausted within one millisecond (4096 ids): borrow the next millisecond.
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    now = lastMs;
  } else {
    lastMs = now;
    counter = bytes[7]! & 0x7f; // random start, leaving room to count up
  }
  bytes[6] = (counter >> 8) & 0x0f;
  bytes[7] = counter & 0xff;
  const ms = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = bytes[6]! | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = hexEncode(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}


/** `hk_` + 43 characters: 256 bits of entropy, so a plain SHA-256 is a safe stored hash. */
export function newApiKey(): string {
  return `hk_${base64urlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
}
