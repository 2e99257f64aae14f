/**
 * A tenant's provider configs. Credentials are validated against the provider's own schema,
 * sealed before they touch D1, and never returned.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { recordAudit, fieldsOf } from "../audit";
import { providerDto } from "../dto";
import { jsonBody, parseWith } from "../validate";
import { PROVIDERS } from "../../channels/registry";
import { unsafeConfigUrl } from "../../channels/settings";
import { ProviderKind } from "../../channels/kinds";
import { providerKindFields } from "../../channels/fields";
import { Channel } from "../../domain";
import {
  deleteProviderConfig,
  getProviderConfig,
  insertProviderConfig,
  listProviderConfigs,
  updateProviderConfigIfUnchanged,
  type ProviderConfigRow,
} from "../../db/providers";
import { AppError, notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { compareAndSet, nextStamp } from "../../lib/compare-and-set";
import { readProviderConfig, sealCredentials } from "../../pipeline/provider-configs";
import type { ConfigInput, ProviderDefinition } from "../../channels/types";

/** What Herald fills in for the tenant before validation (a Web Push VAPID key pair). */
async function completed(definition: ProviderDefinition, input: ConfigInput): Promise<ConfigInput> {
  if (!definition.complete) return input;
  const done = await definition.complete(input);
  if ("issues" in done) throw new AppError("validation_failed", `invalid request: ${done.issues.map((i) => i.field).join(", ")}`, done.issues);
  return done;
}

export const CreateProvider = z
  .object({
    channel: Channel,
    provider: ProviderKind,
    priority: z.number().int().min(0).max(1000).default(1),
    credentials: z.record(z.string(), z.unknown()).default({}),
    settings: z.record(z.string(), z.unknown()).default({}),
    enabled: z.boolean().default(true),
  })
  .strict();

export const UpdateProvider = z
  .object({
    priority: z.number().int().min(0).max(1000).optional(),
    credentials: z.record(z.string(), z.unknown()).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

/** A baseUrl, relay or token endpoint on a private network (or loopback, outside development) is a 422. */
function checkCalledUrls(config: { settings?: unknown; credentials?: unknown }, allowLoopback: boolean) {
  const bad = unsafeConfigUrl(config, allowLoopback);
  if (bad) throw new AppError("validation_failed", `${bad.field} ${bad.message}`, [bad]);
}

/** The columns a PATCH changes on this stored config, validated against its provider's schemas. */
async function providerPatch(secret: string, existing: ProviderConfigRow, given: z.infer<typeof UpdateProvider>): Promise<Partial<ProviderConfigRow>> {
  const body = { ...given };
  const definition = PROVIDERS[existing.provider];
  const patch: Partial<ProviderConfigRow> = { updatedAt: nextStamp(existing.updatedAt) };
  if (definition.complete && (body.settings !== undefined || body.credentials !== undefined)) {
    // The halves must still go together: check the new one against the stored other.
    const input = await completed(definition, {
      credentials: body.credentials ?? ((await readProviderConfig(secret, existing)).credentials as Record<string, unknown>),
      settings: body.settings ?? (existing.settings as Record<string, unknown>),
    });
    Object.assign(body, input);
  }
  if (body.priority !== undefined) patch.priority = body.priority;
  if (body.enabled !== undefined) patch.enabled = body.enabled;
  if (body.settings !== undefined) {
    parseWith(definition.settings, body.settings, "settings.");
    patch.settings = body.settings;
  }
  if (body.credentials !== undefined) {
    const credentials = parseWith(definition.credentials, body.credentials, "credentials.");
    patch.credentials = await sealCredentials(secret, existing.tenantId, existing.id, credentials);
  }
  return patch;
}

export const providers = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateProvider);
    const definition = PROVIDERS[body.provider];
    if (!definition.channels.includes(body.channel)) {
      throw new AppError("validation_failed", `${body.provider} does not serve ${body.channel}`, [
        { field: "channel", message: `${body.provider} serves: ${definition.channels.join(", ")}` },
      ]);
    }
    const input = await completed(definition, { credentials: body.credentials, settings: body.settings });
    const credentials = parseWith(definition.credentials, input.credentials, "credentials.");
    // Stored as given (defaults are applied when used), after checking it is valid.
    parseWith(definition.settings, input.settings, "settings.");
    const { tenantId, config } = c.var;
    checkCalledUrls(input, config.allowLoopbackUrls);
    const now = new Date();
    const id = uuidv7();
    const row: ProviderConfigRow = {
      id,
      tenantId,
      channel: body.channel,
      provider: body.provider,
      priority: body.priority,
      credentials: await sealCredentials(config.encryptionKey, tenantId, id, credentials),
      settings: input.settings,
      enabled: body.enabled,
      silentStreak: 0,
      failureStreak: 0,
      breakerOpenUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    await insertProviderConfig(c.var.db, row);
    await recordAudit(c, "provider.created", {
      resourceId: id,
      detail: { channel: row.channel, provider: row.provider, priority: row.priority, enabled: row.enabled, credentials: fieldsOf(body.credentials) },
    });
    return c.json(providerDto(row, config.publicUrl), 201);
  })
  .get("/", async (c) => {
    const rows = await listProviderConfigs(c.var.db, c.var.tenantId);
    return c.json({ results: rows.map((r) => providerDto(r, c.var.config.publicUrl)) });
  })
  // Before "/:id": the fields a form asks for, per provider kind.
  .get("/kinds", (c) => c.json({ results: providerKindFields() }))
  .get("/:id", async (c) => {
    const row = await getProviderConfig(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!row) throw notFound("provider config");
    return c.json(providerDto(row, c.var.config.publicUrl));
  })
  .patch("/:id", async (c) => {
    const { db, tenantId, config } = c.var;
    const id = c.req.param("id");
    if (!(await getProviderConfig(db, tenantId, id))) throw notFound("provider config");
    const body = await jsonBody(c, UpdateProvider);
    checkCalledUrls(body, config.allowLoopbackUrls);
    // A Web Push PATCH is checked against the stored other half of its key pair, so it is written
    // only onto the version it was checked against; a concurrent PATCH makes it check again.
    const outcome = await compareAndSet(
      () => getProviderConfig(db, tenantId, id),
      async (existing) => updateProviderConfigIfUnchanged(db, tenantId, id, existing.updatedAt, await providerPatch(config.encryptionKey, existing, body)),
    );
    if (outcome.kind === "missing") throw notFound("provider config");
    if (outcome.kind === "contended") throw new AppError("conflict", "provider config: changed by other requests throughout; try again");
    const row = outcome.value;
    await recordAudit(c, "provider.updated", { resourceId: row.id, detail: { provider: row.provider, fields: fieldsOf(body) } });
    return c.json(providerDto(row, config.publicUrl));
  })
  .delete("/:id", async (c) => {
    if (!(await deleteProviderConfig(c.var.db, c.var.tenantId, c.req.param("id")))) throw notFound("provider config");
    await recordAudit(c, "provider.deleted", { resourceId: c.req.param("id") });
    return c.body(null, 204);
  });
