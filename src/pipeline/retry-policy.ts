/** When to try a failed delivery again (seed §8.1: about 1 min, 5 min, 15 min, 1 h). */
export const RETRY_DELAYS_SECONDS = [60, 300, 900, 3600] as const;
export const DEFAULT_MAX_RETRIES = RETRY_DELAYS_SECONDS.length;

/** Delay before retry number `retry` (1-based), stretched to honour a provider's Retry-After. */
export function retryDelaySeconds(retry: number, retryAfterSeconds?: number): number {
  const base = RETRY_DELAYS_SECONDS[Math.min(retry, RETRY_DELAYS_SECONDS.length) - 1]!;
  return Math.max(base, Math.min(retryAfterSeconds ?? 0, 12 * 3600));
}
