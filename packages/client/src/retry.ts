/**
 * When and how long to wait before trying a request again: network errors, 429 (honouring
 * Retry-After) and 5xx, with capped exponential back-off and full jitter, so many clients that
 * failed together do not come back together.
 */
export type RetryOptions = {
  /** Attempts after the first; 0 turns retrying off. Default 3. */
  retries?: number;
  /** The first back-off, doubled on each retry. Default 250 ms. */
  baseDelayMs?: number;
  /** No wait is longer than this, Retry-After included. Default 20 s. */
  maxDelayMs?: number;
  /** Random in [0, 1); tests pass their own. */
  random?: () => number;
  /** How to wait; tests pass their own. Default setTimeout, cut short by the call's signal. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
};

export type RetryPolicy = Required<RetryOptions>;

export const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

export function retryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  const o = options === false ? { retries: 0 } : (options ?? {});
  return {
    retries: Math.max(0, o.retries ?? 3),
    baseDelayMs: o.baseDelayMs ?? 250,
    maxDelayMs: o.maxDelayMs ?? 20_000,
    random: o.random ?? Math.random,
    sleep: o.sleep ?? defaultSleep,
  };
}

/** A status worth trying again: the request was refused for now (429) or the server failed (5xx). */
export const retryableStatus = (status: number) => status === 429 || status >= 500;

/**
 * The wait before retry number `retry` (1-based): full jitter over base·2^(retry-1), capped; a
 * Retry-After the server sent is the floor (still capped, so a long one ends the retrying early
 * instead of hanging the caller — see `exceedsCap`).
 */
export function backoffMs(policy: RetryPolicy, retry: number, retryAfterSeconds: number | null): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = Math.floor(policy.random() * ceiling);
  const floor = retryAfterSeconds === null ? 0 : retryAfterSeconds * 1000;
  return Math.min(policy.maxDelayMs, Math.max(jittered, floor));
}

/** A Retry-After longer than the cap: waiting less would be refused again, so give up now. */
export const exceedsCap = (policy: RetryPolicy, retryAfterSeconds: number | null) =>
  retryAfterSeconds !== null && retryAfterSeconds * 1000 > policy.maxDelayMs;
