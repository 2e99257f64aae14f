/**
 * API ingress limit: every /api request takes tokens from its tenant's bucket in the tenant's
 * limiter object before any work is done (the send routes ask later, once, with their quota
 * charge: see `deferredAt`); a batch send takes one per item. Admitted or not, the
 * response says where the client stands, in the IETF RateLimit fields
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "api";q=<burst>;w=<seconds to refill
 * from empty>` and `RateLimit: "api";r=<tokens left>;t=<seconds until full>`. A refusal is a 429
 * problem with `Retry-After`: the seconds until this request's cost is available.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { tenantLimiter } from "../../durable/client";
import type { ApiAllowance } from "../../durable/tenant-limiter";
import { AppError } from "../../lib/errors";

/** Tokens a request costs; at least 1. */
export type RequestCost = (c: Context<AppEnv>) => number | Promise<number>;

/**
 * Set on requests whose route takes the tokens itself, together with its quota charge, in one
 * call to the limiter object (src/api/admission.ts): `allowance` is the object's answer.
 */
export type Admission = { cost: number; allowance?: ApiAllowance };

/**
 * `deferredAt`: POST paths (the send routes) whose route asks the limiter object once for both
 * the tokens and the quota, after planning the request; no D1 read comes before that ask when
 * the caches are warm, so nothing costly runs ahead of the limit. A request that ends before it
 * asks (a 4xx, an idempotent replay) takes its tokens here afterwards, so it costs and is
 * refused exactly as it would be up front.
 */
export function rateLimit(options: { cost: RequestCost; deferredAt?: string[] }): MiddlewareHandler<AppEnv> {
  const { cost } = options;
  const deferred = new Set(options.deferredAt ?? []);
  return async function rateLimit(c, next) {
    const n = Math.max(1, Math.ceil(await cost(c)));
    const take = async () => admitOrThrow(n, await tenantLimiter(c.env.LIMITER, c.var.tenantId).takeApi(n));
    if (c.req.method === "POST" && deferred.has(c.req.path)) {
      const admission: Admission = { cost: n };
      c.set("admission", admission);
      await next();
      const allowance = admission.allowance ?? (await take());
      for (const [name, value] of Object.entries(rateLimitHeaders(allowance))) c.header(name, value);
      return;
    }
    const headers = rateLimitHeaders(await take());
    await next();
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  };
}

/** The allowance when it admitted `n` tokens; the 422 (more than the bucket holds) or 429 if not. */
export function admitOrThrow(n: number, allowance: ApiAllowance): ApiAllowance {
  const headers = rateLimitHeaders(allowance);
  if (allowance.exceedsBurst) {
    throw new AppError("validation_failed", `this request needs ${n} tokens but the tenant's bucket holds at most ${allowance.limit.burst}`, [
      { field: "items", message: `send at most ${allowance.limit.burst} items per batch` },
    ], headers);
  }
  if (!allowance.ok) {
    const { perSecond, burst } = allowance.limit;
    throw new AppError(
      "rate_limited",
      `rate limit exceeded (${perSecond} requests per second, bursts of ${burst}); ${n > 1 ? `these ${n} items fit` : "retry"} in ${allowance.retryAfterSeconds} s`,
      undefined,
      { ...headers, "retry-after": String(allowance.retryAfterSeconds) },
    );
  }
  return allowance;
}

export function rateLimitHeaders(a: Pick<ApiAllowance, "limit" | "remaining" | "resetSeconds">): Record<string, string> {
  const window = Math.max(1, Math.ceil(a.limit.burst / a.limit.perSecond));
  return {
    "ratelimit-policy": `"api";q=${a.limit.burst};w=${window}`,
    ratelimit: `"api";r=${a.remaining};t=${a.resetSeconds}`,
  };
}

/**
 * One token per request, or one per item for a POST to `path` whose body has an `items` array of
 * 1..max entries (anything else is left for the route to refuse, at one token). Hono caches the
 * body, so the route reads it again without a second read from the network.
 */
export const perItem = (path: string, max: number): RequestCost => async (c) => {
  if (c.req.method !== "POST" || c.req.path !== path) return 1;
  try {
    const items = (JSON.parse(await c.req.text()) as { items?: unknown })?.items;
    return Array.isArray(items) && items.length >= 1 && items.length <= max ? items.length : 1;
  } catch (error) {
    if (error instanceof SyntaxError) return 1;
    throw error;
  }
};
