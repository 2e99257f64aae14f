/** Outbound HTTP helpers shared by provider adapters. */

/** fetch with a hard deadline: a provider that hangs must fail over, not hold the consumer. */
export async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Replaces scheme and host of a provider's default URL, keeping the documented path. */
export function joinBase(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, "") + path;
}
