/**
 * Reaching a tenant's limiter. The object is named by the tenant id, so every Worker (the API and
 * the delivery consumer, which binds the same class with `script_name`) reaches the same one.
 */
import type { TenantLimiter } from "./tenant-limiter";

export type LimiterNamespace = DurableObjectNamespace<TenantLimiter>;

export const tenantLimiter = (ns: LimiterNamespace, tenantId: string) => ns.getByName(tenantId);
