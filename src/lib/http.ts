/** Outbound HTTP helpers shared by provider adapters. */

/**
 * A 3xx answer. Herald never follows redirects on outbound calls: a tenant's webhook endpoint or a
 * provider config's `baseUrl` could otherwise bounce a signed request (credentials included) to
 * loopback or any other host the URL guard would have refused.
 */
export class RedirectRefused extends Error {
  override name = "RedirectRefused";
  constructor(readonly status: number) {
    super(`answered ${status} (a redirect); Herald does not follow redirects, so give the final URL`);
  }
}

/**
 * fetch with a hard deadline (a provider that hangs must fail over, not hold the consumer) that
 * refuses redirects: a 3xx throws RedirectRefused, its body unread.
 */
export async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const res = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new RedirectRefused(res.status);
  }
  return res;
}

/**
 * `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3); fractional seconds
 * (Discord sends "1.337") are rounded up.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Replaces scheme and host of a provider's default URL, keeping the documented path. */
export function joinBase(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, "") + path;
}
