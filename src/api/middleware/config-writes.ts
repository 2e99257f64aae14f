/**
 * A write to a tenant's control plane is seen at once in the isolate that made it: after any
 * non-GET request under these routes, the tenant's cached snapshot here is forgotten. (Other
 * isolates notice within the snapshot's TTL: triggers moved tenant.config_version in the write's
 * own transaction; see src/cache/tenant-config.ts.) One place instead of a call in every handler,
 * so a new write route under these paths cannot forget to.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { forgetTenantConfig } from "../../cache/tenant-config";

const CONTROL_PLANE = /^\/api\/(providers|communication-templates|webhooks|settings)(\/|$)/;

export function forgetConfigOnWrite(): MiddlewareHandler<AppEnv> {
  return async function forgetConfigOnWrite(c, next) {
    await next();
    // Failed writes too: cheaper than knowing whether a failure wrote anything.
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && CONTROL_PLANE.test(c.req.path)) forgetTenantConfig(c.var.tenantId);
  };
}
