/**
 * `/api/keys` (scope `keys:manage`): a tenant mints, rotates and revokes its own API keys, as the
 * operator does through /admin/tenants/:id/api-keys (src/api/keys.ts holds what both share).
 * A key can hand out, rotate or revoke only keys whose scopes it holds itself, so `keys:manage`
 * never becomes a way up to `*`. Secrets appear once, in the answer that creates them.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../context";
import { jsonBody, optionalJson } from "../validate";
import { CreateKey, issueKey, keyDto, revokeKey, RotateKey, rotateKey, scopesBeyond } from "../keys";
import { SCOPES } from "../scopes";
import { getApiKey, listApiKeys, type ApiKeyRow } from "../../db/tenants";
import { AppError, notFound } from "../../lib/errors";

/** The calling key's own scopes (the middleware proved it live a moment ago). */
async function callerScopes(c: Context<AppEnv>) {
  return (await getApiKey(c.var.db, c.var.tenantId, c.var.apiKeyId))?.scopes ?? [];
}

function refuseEscalation(held: readonly string[], wanted: readonly string[], field: string) {
  const beyond = scopesBeyond(held, wanted);
  if (beyond.length) {
    throw new AppError("forbidden", `this API key cannot grant scopes it does not hold: ${beyond.join(", ")}`, [{ field, message: `not held by the calling key: ${beyond.join(", ")}` }]);
  }
}

/** A live key of this tenant that the caller may manage; another tenant's key is "not found". */
async function manageable(c: Context<AppEnv>): Promise<ApiKeyRow> {
  // Both reads at once: the target key and the caller's own scopes do not depend on each other.
  const [key, held] = await Promise.all([getApiKey(c.var.db, c.var.tenantId, c.req.param("id")!), callerScopes(c)]);
  if (!key || key.revokedAt) throw notFound("API key");
  refuseEscalation(held, key.scopes, "scopes");
  return key;
}

export const apiKeys = new Hono<AppEnv>()
  .get("/", async (c) => {
    const keys = await listApiKeys(c.var.db, c.var.tenantId);
    const held = keys.find((k) => k.id === c.var.apiKeyId)?.scopes ?? [];
    return c.json({
      results: keys.map((k) => ({ ...keyDto(k), current: k.id === c.var.apiKeyId })),
      // What a new key from this caller may hold (a form's checkboxes).
      grantableScopes: SCOPES.filter((s) => scopesBeyond(held, [s]).length === 0),
    });
  })
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateKey);
    refuseEscalation(await callerScopes(c), body.scopes, "scopes");
    return c.json(await issueKey(c, c.var.tenantId, body), 201);
  })
  .post("/:id/rotate", async (c) => {
    const { overlapHours } = await optionalJson(c, RotateKey, { overlapHours: 24 });
    return c.json(await rotateKey(c, await manageable(c), overlapHours), 201);
  })
  .delete("/:id", async (c) => {
    const key = await manageable(c);
    if (!(await revokeKey(c, c.var.tenantId, key.id))) throw notFound("API key");
    // Revoking the key you call with is allowed; the answer says so, since the next call will get a 401.
    const self = key.id === c.var.apiKeyId;
    return c.json({
      ...keyDto({ ...key, revokedAt: new Date() }),
      revokedCallingKey: self,
      ...(self ? { detail: "this was the API key making this request: it no longer works, so further calls with it answer 401" } : {}),
    });
  });
