/**
 * Tenant authentication for /api: `Authorization: Bearer <apiKey>`. The key is hashed and looked
 * up; only live keys match. Sets `tenantId` and `apiKeyId` for the routes.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { findActiveKeyByHash } from "../../db/tenants";
import { sha256Hex } from "../../lib/crypto";
import { AppError } from "../../lib/errors";

export const bearerToken = (header: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];

export function apiKeyAuth(): MiddlewareHandler<AppEnv> {
  return async function apiKeyAuth(c, next) {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw new AppError("unauthorized", "missing API key: send Authorization: Bearer <apiKey>");
    const key = await findActiveKeyByHash(c.var.db, await sha256Hex(token));
    if (!key) throw new AppError("unauthorized", "invalid or revoked API key");
    c.set("tenantId", key.tenantId);
    c.set("apiKeyId", key.id);
    await next();
  };
}
