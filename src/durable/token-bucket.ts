/**
 * Token bucket arithmetic, pure: every function takes the clock as an argument and returns a new
 * bucket, so the Durable Object decides what to store and the tests can move time freely.
 *
 * A bucket holds `tokens` as of `updatedAt` and gains `perSecond` tokens per second up to `burst`.
 * Two extensions serve outbound sending:
 * - reservations: a sender that finds the bucket empty may book the next free slot, which drives
 *   `tokens` below zero; the debt is paid back by the refill, so every booking gets its own slot
 *   and a backlog spreads out at exactly the configured rate instead of retrying in a herd;
 * - pauses: `updatedAt` in the future means no refill before then (a provider's Retry-After).
 */
import type { RateLimit } from "./limits";

export type Bucket = { tokens: number; updatedAt: number };

export const fullBucket = (limit: RateLimit, now: number): Bucket => ({ tokens: limit.burst, updatedAt: now });

/** Tokens as of `now` (never above the burst, which may have been lowered since). */
export function refill(b: Bucket, limit: RateLimit, now: number): Bucket {
  const elapsed = Math.max(0, now - b.updatedAt);
  return { tokens: Math.min(limit.burst, b.tokens + (elapsed / 1000) * limit.perSecond), updatedAt: Math.max(b.updatedAt, now) };
}

/** Milliseconds until the bucket (already refilled to `now`) holds `cost` tokens. */
export const waitFor = (b: Bucket, limit: RateLimit, cost: number, now: number) =>
  Math.max(0, b.updatedAt - now) + (Math.max(0, cost - b.tokens) / limit.perSecond) * 1000;

export type Take = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; waitMs: number };

/** Takes `cost` tokens if they are all there; otherwise takes nothing and says how long to wait. */
export function take(b: Bucket, limit: RateLimit, cost: number, now: number): Take {
  const r = refill(b, limit, now);
  if (r.updatedAt <= now && r.tokens >= cost) return { ok: true, bucket: { tokens: r.tokens - cost, updatedAt: r.updatedAt } };
  return { ok: false, bucket: r, waitMs: waitFor(r, limit, cost, now) };
}

/** Books one token that is not there yet: the slot is when the refill will have paid for it. */
export function reserve(b: Bucket, limit: RateLimit, now: number): { bucket: Bucket; at: number } {
  const r = refill(b, limit, now);
  const bucket = { tokens: r.tokens - 1, updatedAt: r.updatedAt };
  return { bucket, at: bucket.updatedAt + (Math.max(0, -bucket.tokens) / limit.perSecond) * 1000 };
}

/**
 * Stops the refill until `until` and drops the burst: afterwards sending resumes at the sustained
 * rate, one token at a time. `cancelled` bookings are handed back first; their senders book again.
 */
export function pause(b: Bucket, limit: RateLimit, now: number, until: number, cancelled: number): Bucket {
  const r = refill(b, limit, now);
  return { tokens: Math.min(r.tokens + cancelled, 1), updatedAt: Math.max(r.updatedAt, until) };
}

/** What the RateLimit headers report: whole tokens left, and seconds until the bucket is full. */
export function standing(b: Bucket, limit: RateLimit, now: number) {
  const r = refill(b, limit, now);
  return {
    remaining: Math.max(0, Math.floor(r.tokens)),
    fullInSeconds: Math.ceil(waitFor(r, limit, limit.burst, now) / 1000),
  };
}
