/**
 * Tenant authentication for /api: `Authorization: Bearer <apiKey>`. The key is hashed and looked
 * up; only live keys match. Sets `tenantId`, `apiKeyId` and `apiKeyName` for the routes.
 *
 * Known keys are remembered per isolate for KEY_TTL_MS, which takes a D1 round trip off nearly
 * every request. The price: a key revoked through another isolate keeps working there for at most
 * that long (the isolate that revokes it forgets it at once). Sooner, usually: a revocation moves
 * the tenant's config version, and once this isolate's tenant snapshot (src/cache/tenant-config.ts,
 * refreshed every few seconds by the tenant's sends) has seen a newer version than the one a key
 * was read at, the key is looked up again. Unknown keys are never cached, so a new key works
 * immediately.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { findActiveKeyByHash, touchApiKey } from "../../db/tenants";
import { seenConfigVersion } from "../../cache/tenant-config";
import { allows, requiredScope } from "../scopes";
import { sha256Hex } from "../../lib/crypto";
import { AppError } from "../../lib/errors";

export const bearerToken = (header: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];

const KEY_TTL_MS = 30_000;
const MAX_KEYS = 10_000;
type Known = { id: string; tenantId: string; name: string; scopes: string[]; expiresAt: number | null; until: number; configVersion: number };
// Isolate-wide on purpose (see above); bounded so it cannot grow without limit.
const known = new Map<string, Known>();

/** Forgets a key at once in this isolate (called when it is revoked). */
export function forgetApiKey(keyId: string) {
  for (const [hash, k] of known) if (k.id === keyId) known.delete(hash);
}

async function lookUp(c: Parameters<MiddlewareHandler<AppEnv>>[0], hash: string): Promise<Known | undefined> {
  const now = Date.now();
  const hit = known.get(hash);
  if (hit && hit.until > now && (hit.expiresAt === null || hit.expiresAt > now) && (seenConfigVersion(hit.tenantId) ?? -1) <= hit.configVersion) return hit;
  const row = await findActiveKeyByHash(c.var.db, hash, new Date(now));
  if (!row) {
    known.delete(hash);
    return undefined;
  }
  // lastUsedAt moves when the key is (re)looked up: at most once per KEY_TTL_MS per isolate.
  c.executionCtx.waitUntil(touchApiKey(c.var.db, row.id, new Date(now)).run());
  if (known.size >= MAX_KEYS) known.delete(known.keys().next().value!);
  const entry = { id: row.id, tenantId: row.tenantId, name: row.name, scopes: row.scopes, expiresAt: row.expiresAt?.getTime() ?? null, until: now + KEY_TTL_MS, configVersion: row.configVersion };
  known.set(hash, entry);
  return entry;
}

/**
 * `scopes: "route"` (the default, for /api) refuses a key that lacks the scope its route needs.
 * `scopes: "per-call"` only authenticates: the endpoint (/mcp) makes in-process /api calls with
 * the same key, and each of those is checked against its own route.
 */
export function apiKeyAuth(options: { scopes: "route" | "per-call" } = { scopes: "route" }): MiddlewareHandler<AppEnv> {
  const byRoute = options.scopes === "route";
  return async function apiKeyAuth(c, next) {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw new AppError("unauthorized", "missing API key: send Authorization: Bearer <apiKey>");
    const key = await lookUp(c, await sha256Hex(token));
    if (!key) throw new AppError("unauthorized", "invalid or revoked API key");
    const needed = requiredScope(c.req.method, c.req.path);
    if (byRoute && !allows(key.scopes, needed)) {
      throw new AppError("forbidden", `this API key lacks the scope "${needed}"`, [{ field: "scope", message: `requires ${needed}` }]);
    }
    c.set("tenantId", key.tenantId);
    c.set("apiKeyId", key.id);
    c.set("apiKeyName", key.name);
    await next();
  };
}
