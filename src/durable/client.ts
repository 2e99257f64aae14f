/**
 * Reaching a tenant's limiter objects (one class, src/durable/tenant-limiter.ts). Both Workers
 * reach the same objects by name: the delivery Worker binds the API Worker's class with
 * `script_name`.
 */
import type { TenantLimiter } from "./tenant-limiter";

export type LimiterNamespace = DurableObjectNamespace<TenantLimiter>;

/** API ingress bucket, monthly usage and the operator's limits: named by the tenant id. */
export const tenantLimiter = (ns: LimiterNamespace, tenantId: string) => ns.getByName(tenantId);

/**
 * The send-rate buckets of the tenant's provider configs, in an object of their own: a backlog
 * draining through it never holds up the tenant's API requests, and each object keeps well under
 * the ~1,000 requests per second one object serves.
 */
export const sendRateLimiter = (ns: LimiterNamespace, tenantId: string) => ns.getByName(`send-rates:${tenantId}`);
