/**
 * The send routes' one trip to the tenant's limiter object: the request's API tokens and its
 * quota charge together (TenantLimiter.admitSend), made once the rows are planned and before
 * anything is stored. The rate-limit middleware left the tokens to this call (see `deferredAt`
 * in middleware/rate-limit.ts) and puts the answer into the response headers.
 */
import type { Context } from "hono";
import type { AppEnv } from "./context";
import type { CommunicationRow } from "../db/communications";
import { tenantLimiter } from "../durable/client";
import { quotaExceeded, quotaRequest, refundingOnFailure, withinQuota } from "../durable/quota";
import { admitOrThrow } from "./middleware/rate-limit";

/** Runs `store` if the request is within its rate limit and the rows within the quotas. */
export async function admitted<T>(c: Context<AppEnv>, rows: CommunicationRow[], store: () => Promise<T>): Promise<T> {
  const { tenantId, admission } = c.var;
  const ns = c.env.LIMITER;
  // The middleware already took the tokens (a route mounted without deferral): only the quota is left.
  if (!admission || admission.allowance) return withinQuota(ns, tenantId, rows, store);
  const requested = quotaRequest(rows);
  const { api, quota } = await tenantLimiter(ns, tenantId).admitSend(admission.cost, requested);
  admission.allowance = api;
  admitOrThrow(admission.cost, api);
  if (quota && !quota.ok) throw quotaExceeded(quota);
  return quota ? refundingOnFailure(ns, tenantId, quota.period, requested, store) : store();
}
