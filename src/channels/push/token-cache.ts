/**
 * Short-lived provider credentials (FCM's OAuth access token, APNs' provider JWT) kept per isolate.
 * Minting one costs a signature and, for FCM, a round trip to Google, and both vendors want them
 * reused (Apple refuses tokens refreshed more often than every 20 minutes). An isolate-wide map is
 * fine here: entries hold nothing a tenant could not mint again, they expire on their own, and a
 * cold isolate just mints a new one. Keys are hashes of the whole credential (private key
 * included), so a tenant who names another tenant's account without its key never hits that
 * tenant's entry.
 */
import { sha256Hex } from "../../lib/crypto";

type Entry = { value: string; expiresAt: number };
const entries = new Map<string, Entry>();
const MAX_ENTRIES = 1000;

export const cacheKey = (...parts: string[]) => sha256Hex(parts.join("\n"));

/** The cached value, or a fresh one from `mint` (which says how long it lives, in ms). */
export async function cached(key: string, now: number, mint: () => Promise<{ value: string; ttlMs: number }>): Promise<string> {
  const hit = entries.get(key);
  if (hit && hit.expiresAt > now) return hit.value;
  const fresh = await mint();
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(key, { value: fresh.value, expiresAt: now + fresh.ttlMs });
  return fresh.value;
}

/** The provider refused the cached credential (401): the next send mints a new one. */
export const forget = (key: string) => void entries.delete(key);
