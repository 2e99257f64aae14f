/**
 * API keys as both the operator (/admin/tenants/:id/api-keys) and a tenant itself (/api/keys)
 * manage them: minting (the secret exists only in the answer), the key's public view, rotation
 * with an overlap, and the rule that a key can hand out only scopes it holds.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "./context";
import { audit, recordAudit } from "./audit";
import { forgetApiKey } from "./middleware/api-key";
import { Scope, SCOPES } from "./scopes";
import { insertApiKey, revokeApiKey, rotateApiKey, type ApiKeyRow } from "../db/tenants";
import { sha256Hex } from "../lib/crypto";
import { newApiKey, uuidv7 } from "../lib/ids";

export const CreateKey = z
  .object({
    name: z.string().trim().min(1).max(100).default("default"),
    /** Least privilege: give a key only what its holder does. Default: full access. */
    scopes: z.array(Scope).min(1).max(SCOPES.length).default(["*"]),
    expiresInHours: z.number().positive().max(24 * 3650).optional(),
  })
  .strict();
export const RotateKey = z
  .object({ overlapHours: z.number().min(0).max(24 * 30).default(24) })
  .strict();

export async function mintKey(
  tenantId: string,
  name: string,
  now: Date,
  o: { scopes?: string[]; expiresAt?: Date | null } = {},
): Promise<{ row: ApiKeyRow; secret: string }> {
  const secret = newApiKey();
  return {
    secret,
    row: {
      id: uuidv7(),
      tenantId,
      name,
      prefix: secret.slice(0, 8),
      hash: await sha256Hex(secret),
      scopes: o.scopes ?? ["*"],
      createdAt: now,
      expiresAt: o.expiresAt ?? null,
      lastUsedAt: null,
      revokedAt: null,
    },
  };
}

export const keyDto = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  createdAt: k.createdAt.toISOString(),
  expiresAt: k.expiresAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

/** The scopes of `wanted` that `held` cannot give: `*` gives everything, nothing else gives `*`. */
export const scopesBeyond = (held: readonly string[], wanted: readonly string[]) => (held.includes("*") ? [] : wanted.filter((s) => !held.includes(s)));

/**
 * A new secret for an existing key: same name, scopes and lifetime; the old one keeps working for
 * the overlap (never past its own expiry), so callers can swap without downtime.
 */
export async function rotateKey(c: Context<AppEnv>, old: ApiKeyRow, overlapHours: number) {
  const now = new Date();
  const key = await mintKey(old.tenantId, old.name, now, { scopes: old.scopes, expiresAt: old.expiresAt });
  const overlapEnds = new Date(now.getTime() + overlapHours * 3600_000);
  const oldEnds = old.expiresAt && old.expiresAt < overlapEnds ? old.expiresAt : overlapEnds;
  await rotateApiKey(c.var.db, key.row, old, oldEnds);
  forgetApiKey(old.id);
  await recordAudit(c, "key.rotated", { tenantId: old.tenantId, resourceId: old.id, detail: { name: old.name, newKeyId: key.row.id, overlapHours } });
  return { ...keyDto(key.row), apiKey: key.secret, replaces: { id: old.id, expiresAt: oldEnds.toISOString() } };
}

/** Mints a key and stores it with its audit entry in one batch; the answer is the only place the secret appears. */
export async function issueKey(c: Context<AppEnv>, tenantId: string, { name, scopes, expiresInHours }: z.infer<typeof CreateKey>) {
  const now = new Date();
  const expiresAt = expiresInHours ? new Date(now.getTime() + expiresInHours * 3600_000) : null;
  const key = await mintKey(tenantId, name, now, { scopes, expiresAt });
  await c.var.db.batch([
    insertApiKey(c.var.db, key.row),
    audit(c, "key.created", { tenantId, resourceId: key.row.id, detail: { name, scopes, expiresAt: expiresAt?.toISOString() ?? null } }),
  ]);
  return { ...keyDto(key.row), apiKey: key.secret };
}

/** Revokes a live key (false if there is none) and forgets it in this isolate at once. */
export async function revokeKey(c: Context<AppEnv>, tenantId: string, keyId: string) {
  const revoked = await revokeApiKey(c.var.db, tenantId, keyId, new Date());
  forgetApiKey(keyId);
  if (revoked) await recordAudit(c, "key.revoked", { tenantId, resourceId: keyId });
  return revoked;
}
