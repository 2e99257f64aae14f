/**
 * Trigger rules (`/api/triggers`): event type + conditions → a send, a digest or a reminder
 * sequence. `GET /presets` lists the seed's workflows; `POST { "preset": code, …overrides }`
 * enables one as an ordinary rule (the overrides' `action` fields replace the preset's one by one).
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { recordAudit } from "../audit";
import { parseWith, readJson } from "../validate";
import { deleteTriggerRule, getTriggerRule, insertTriggerRule, listTriggerRules, updateTriggerRuleIfUnchanged, type TriggerRuleRow } from "../../db/business-events";
import { AppError, notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { compareAndSet, nextStamp } from "../../lib/compare-and-set";
import { PRESETS, presetByCode } from "../../automation/presets";
import { TriggerRuleInput } from "../../automation/rule";

const iso = (d: Date) => d.toISOString();

export const triggerDto = (r: TriggerRuleRow) => ({
  id: r.id,
  name: r.name,
  preset: r.preset,
  eventType: r.eventType,
  conditions: r.conditions,
  action: r.action,
  enabled: r.enabled,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
});

export const Overrides = z
  .object({
    name: z.unknown().optional(),
    eventType: z.unknown().optional(),
    conditions: z.unknown().optional(),
    enabled: z.unknown().optional(),
    action: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export const FromPreset = Overrides.extend({ preset: z.string() }).strict();

/** Overrides on top of a base rule; `action` merges field by field. */
function merged(base: Record<string, unknown>, overrides: z.infer<typeof Overrides>) {
  const { action, ...rest } = overrides;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return { ...base, ...defined, action: { ...(base.action as Record<string, unknown>), ...(action ?? {}) } };
}

export const triggers = new Hono<AppEnv>()
  // Deprecated in favour of workflows with triggerEvents (docs/workflows-migration.md); still fully working.
  .use(async (c, next) => {
    await next();
    c.header("Deprecation", "true");
    c.header("Link", '</docs/workflows-migration.md>; rel="deprecation"');
  })
  .get("/presets", (c) => c.json({ results: PRESETS.map((p) => ({ code: p.code, description: p.description, rule: p.rule })) }))
  .get("/", async (c) => c.json({ results: (await listTriggerRules(c.var.db, c.var.tenantId)).map(triggerDto) }))
  .post("/", async (c) => {
    const { json } = await readJson(c);
    let preset: string | null = null;
    let input: TriggerRuleInput;
    if (json !== null && typeof json === "object" && "preset" in json) {
      const { preset: code, ...overrides } = parseWith(FromPreset, json);
      const found = presetByCode(code);
      if (!found) {
        throw new AppError("validation_failed", `preset: no preset "${code}"`, [{ field: "preset", message: `one of ${PRESETS.map((p) => p.code).join(", ")}` }]);
      }
      preset = code;
      input = parseWith(TriggerRuleInput, merged(found.rule, overrides));
    } else {
      input = parseWith(TriggerRuleInput, json);
    }
    const now = new Date();
    const row = await insertTriggerRule(c.var.db, { id: uuidv7(now.getTime()), tenantId: c.var.tenantId, preset, ...input, createdAt: now, updatedAt: now });
    await recordAudit(c, "trigger.created", { resourceId: row.id, detail: { eventType: row.eventType, preset } });
    return c.json(triggerDto(row), 201);
  })
  .get("/:id", async (c) => {
    const row = await getTriggerRule(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!row) throw notFound("trigger rule");
    return c.json(triggerDto(row));
  })
  .patch("/:id", async (c) => {
    const { db, tenantId } = c.var;
    const id = c.req.param("id");
    if (!(await getTriggerRule(db, tenantId, id))) throw notFound("trigger rule");
    const overrides = parseWith(Overrides, (await readJson(c)).json);
    // The whole rule is validated after the merge, so the merge happens in code, and is written
    // only onto the version it was made from: a concurrent PATCH makes this one merge again.
    const outcome = await compareAndSet(
      () => getTriggerRule(db, tenantId, id),
      (existing) => {
        const { name, eventType, conditions, action, enabled } = existing;
        const input = parseWith(TriggerRuleInput, merged({ name, eventType, conditions, action, enabled }, overrides));
        return updateTriggerRuleIfUnchanged(db, tenantId, id, existing.updatedAt, { ...input, updatedAt: nextStamp(existing.updatedAt) });
      },
    );
    if (outcome.kind === "missing") throw notFound("trigger rule");
    if (outcome.kind === "contended") throw new AppError("conflict", "trigger rule: changed by other requests throughout; try again");
    const row = outcome.value;
    await recordAudit(c, "trigger.updated", { resourceId: row.id, detail: { fields: Object.keys(overrides).sort() } });
    return c.json(triggerDto(row));
  })
  .delete("/:id", async (c) => {
    const row = await deleteTriggerRule(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!row) throw notFound("trigger rule");
    await recordAudit(c, "trigger.deleted", { resourceId: c.req.param("id") });
    return c.body(null, 204);
  });
