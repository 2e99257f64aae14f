/**
 * Communication templates (seed §4.2): CRUD over a tenant's templates, merged with Herald's
 * read-only system templates; immutable versions with rollback; previews with SMS segment counts.
 */
import { iso } from "../dto";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { audit, fieldsOf, recordAudit } from "../audit";
import { jsonBody, queryOf } from "../validate";
import { isUniqueViolation } from "../../db/client";
import {
  deleteTemplate,
  getVersion,
  insertTemplate,
  addActiveVersion,
  listTemplates,
  listVersions,
  updateTemplate,
  type TemplateRow,
  type TemplateVersionRow,
} from "../../db/templates";
import { Channel } from "../../domain";
import { AppError, notFound, type FieldError } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { fromStored, fromSystem, templateById, type TemplateView } from "../../templates/catalog";
import { renderContent, type TemplateContent } from "../../templates/content";
import { htmlToText } from "../../channels/email/content";
import { formatOptions } from "../../templates/format";
import { DEFAULT_LOCALE, LOCALE_PATTERN } from "../../templates/locale";
import { checkSyntax, usedVariables } from "../../templates/render";
import { smsSegments } from "../../templates/sms-segments";
import { SYSTEM_TEMPLATES } from "../../templates/system";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, "must be a lowercase slug (a-z, 0-9, _ . -)");
const source = z.string().max(100_000);
const CONTENT_FIELDS = ["subjectTemplate", "bodyTemplate", "htmlTemplate", "textTemplate"] as const;

export const CreateTemplate = z
  .object({
    name: z.string().trim().min(1).max(255),
    code: slug,
    description: z.string().max(2000).optional(),
    channel: Channel,
    type: slug,
    locale: z.string().regex(LOCALE_PATTERN, "must be a locale such as en, fr or fr-CA").default(DEFAULT_LOCALE),
    subjectTemplate: z.string().max(500).optional(),
    bodyTemplate: source.optional(),
    htmlTemplate: source.optional(),
    textTemplate: source.optional(),
    availableVariables: z.array(z.string().min(1).max(100)).max(200).optional(),
    isActive: z.boolean().default(true),
  })
  .strict();

export const UpdateTemplate = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    description: z.string().max(2000).nullable().optional(),
    type: slug.optional(),
    subjectTemplate: z.string().max(500).nullable().optional(),
    bodyTemplate: source.nullable().optional(),
    htmlTemplate: source.nullable().optional(),
    textTemplate: source.nullable().optional(),
    availableVariables: z.array(z.string().min(1).max(100)).max(200).nullable().optional(),
    isActive: z.boolean().optional(),
  })
  .strict();

export const TemplateListQuery = z
  .object({
    channel: Channel.optional(),
    type: z.string().optional(),
    code: z.string().optional(),
    isActive: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
  })
  .strict();

export const Preview = z
  .object({
    variables: z.record(z.string(), z.unknown()).default({}),
    locale: z.string().regex(LOCALE_PATTERN).optional(),
  })
  .strict();

/** Syntax errors are refused with their line; undeclared variables only warn. */
function checkContent(channel: Channel, content: TemplateContent, availableVariables: string[] | null | undefined): string[] {
  const errors: FieldError[] = [];
  if (channel !== "email" && (content.htmlTemplate || content.textTemplate)) {
    errors.push({ field: content.htmlTemplate ? "htmlTemplate" : "textTemplate", message: "only email templates have HTML and text parts" });
  }
  if (!content.bodyTemplate && !(channel === "email" && (content.htmlTemplate || content.textTemplate))) {
    errors.push({ field: "bodyTemplate", message: "a template needs a body" });
  }
  for (const field of CONTENT_FIELDS) {
    const text = content[field];
    const problem = text ? checkSyntax(text) : undefined;
    if (problem) errors.push({ field, message: `line ${problem.line}, column ${problem.column}: ${problem.message}` });
  }
  if (errors.length) throw new AppError("validation_failed", `invalid template: ${errors.map((e) => e.field).join(", ")}`, errors);
  if (!availableVariables) return [];
  const declared = new Set(availableVariables);
  const used = new Set(CONTENT_FIELDS.flatMap((f) => (content[f] ? usedVariables(content[f]!) : [])));
  return [...used].filter((v) => !declared.has(v)).map((v) => `"${v}" is used but not listed in availableVariables`);
}

export const templateDto = ({ content, createdAt, updatedAt, ...rest }: TemplateView) => ({
  ...rest,
  ...content,
  createdAt: iso(createdAt),
  updatedAt: iso(updatedAt),
});

const readOnly = () => new AppError("forbidden", "system templates are read-only; create a template with the same code, channel and locale to override it");

async function ownTemplate(c: { var: AppEnv["Variables"] }, id: string): Promise<TemplateView> {
  const t = await templateById(c.var.db, c.var.tenantId, id);
  if (!t) throw notFound("template");
  if (t.isSystem) throw readOnly();
  return t;
}

export const templates = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateTemplate);
    const content: TemplateContent = {
      subjectTemplate: body.subjectTemplate ?? null,
      bodyTemplate: body.bodyTemplate ?? null,
      htmlTemplate: body.htmlTemplate ?? null,
      textTemplate: body.textTemplate ?? null,
    };
    const warnings = checkContent(body.channel, content, body.availableVariables);
    const { db, tenantId, apiKeyId } = c.var;
    const now = new Date();
    const row: TemplateRow = {
      id: uuidv7(),
      tenantId,
      code: body.code,
      name: body.name,
      description: body.description ?? null,
      channel: body.channel,
      type: body.type,
      locale: body.locale,
      availableVariables: body.availableVariables ?? null,
      isActive: body.isActive,
      activeVersion: 1,
      createdBy: apiKeyId,
      createdAt: now,
      updatedAt: now,
    };
    const version: TemplateVersionRow = { id: uuidv7(), tenantId, templateId: row.id, version: 1, ...content, createdBy: apiKeyId, createdAt: now };
    try {
      await insertTemplate(db, row, version);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppError("conflict", `a ${body.channel} template "${body.code}" in locale ${body.locale} already exists`);
      }
      throw error;
    }
    await recordAudit(c, "template.created", { resourceId: row.id, detail: { code: row.code, channel: row.channel, locale: row.locale } });
    return c.json({ ...templateDto(fromStored({ template: row, version })), warnings }, 201);
  })
  .get("/", async (c) => {
    const f = queryOf(c, TemplateListQuery);
    const own = (await listTemplates(c.var.db, c.var.tenantId, f)).map(fromStored);
    const system = SYSTEM_TEMPLATES.map(fromSystem).filter(
      (s) =>
        (!f.channel || s.channel === f.channel) &&
        (!f.type || s.type === f.type) &&
        (!f.code || s.code === f.code) &&
        (f.isActive === undefined || f.isActive),
    );
    return c.json({ results: [...own, ...system].map(templateDto) });
  })
  .get("/:id", async (c) => {
    const t = await templateById(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!t) throw notFound("template");
    return c.json(templateDto(t));
  })
  .patch("/:id", async (c) => {
    const current = await ownTemplate(c, c.req.param("id"));
    const body = await jsonBody(c, UpdateTemplate);
    const { db, tenantId, apiKeyId } = c.var;
    const now = new Date();
    const content: TemplateContent = { ...current.content };
    for (const field of CONTENT_FIELDS) if (body[field] !== undefined) content[field] = body[field];
    const availableVariables = body.availableVariables !== undefined ? body.availableVariables : current.availableVariables;
    const warnings = checkContent(current.channel, content, availableVariables);
    const changed = CONTENT_FIELDS.some((f) => content[f] !== current.content[f]);
    const patch: Partial<TemplateRow> = { updatedAt: now };
    if (body.name !== undefined) patch.name = body.name;
    if (body.description !== undefined) patch.description = body.description;
    if (body.type !== undefined) patch.type = body.type;
    if (body.isActive !== undefined) patch.isActive = body.isActive;
    if (body.availableVariables !== undefined) patch.availableVariables = body.availableVariables;
    const facts = { resourceId: current.id, detail: { code: current.code, fields: fieldsOf(body) } };
    if (changed) {
      // Each content change is a new immutable version, made active at once.
      const named = Object.fromEntries(CONTENT_FIELDS.filter((f) => body[f] !== undefined).map((f) => [f, body[f]]));
      const version = await addActiveVersion(db, tenantId, current.id, { content: named, createdBy: apiKeyId, patch }, now);
      if (version === undefined) throw notFound("template");
      await recordAudit(c, "template.updated", { ...facts, detail: { ...facts.detail, version } });
    } else {
      await db.batch([updateTemplate(db, tenantId, current.id, patch), audit(c, "template.updated", facts)]);
    }
    const updated = await templateById(db, tenantId, current.id);
    return c.json({ ...templateDto(updated!), warnings });
  })
  .delete("/:id", async (c) => {
    const current = await ownTemplate(c, c.req.param("id"));
    await deleteTemplate(c.var.db, c.var.tenantId, current.id);
    await recordAudit(c, "template.deleted", { resourceId: current.id, detail: { code: current.code } });
    return c.body(null, 204);
  })
  .get("/:id/versions", async (c) => {
    const t = await templateById(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!t) throw notFound("template");
    if (t.isSystem) return c.json({ results: [{ version: 1, active: true, ...t.content, createdAt: null }] });
    const versions = await listVersions(c.var.db, c.var.tenantId, t.id);
    return c.json({
      results: versions.map((v) => ({
        version: v.version,
        active: v.version === t.version,
        subjectTemplate: v.subjectTemplate,
        bodyTemplate: v.bodyTemplate,
        htmlTemplate: v.htmlTemplate,
        textTemplate: v.textTemplate,
        createdBy: v.createdBy,
        createdAt: v.createdAt.toISOString(),
      })),
    });
  })
  .post("/:id/versions/:version/activate", async (c) => {
    const t = await ownTemplate(c, c.req.param("id"));
    const number = Number(c.req.param("version"));
    const version = Number.isInteger(number) ? await getVersion(c.var.db, c.var.tenantId, t.id, number) : undefined;
    if (!version) throw notFound("template version");
    await c.var.db.batch([
      updateTemplate(c.var.db, c.var.tenantId, t.id, { activeVersion: version.version, updatedAt: new Date() }),
      audit(c, "template.version_activated", { resourceId: t.id, detail: { code: t.code, version: version.version } }),
    ]);
    return c.json(templateDto((await templateById(c.var.db, c.var.tenantId, t.id))!));
  })
  .post("/:id/preview", async (c) => {
    const t = await templateById(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!t) throw notFound("template");
    const { variables, locale } = await jsonBody(c, Preview);
    const result = renderContent(t.channel, t.content, variables, formatOptions(locale ?? t.locale, variables), false);
    if (!result.ok) throw new AppError("validation_failed", `variables: ${result.error}`, [{ field: "variables", message: result.error ?? "cannot be rendered" }]);
    const { subject, body, html } = result.value;
    const text = result.value.text ?? (html !== null ? await htmlToText(html) : null);
    return c.json({
      subject,
      body,
      html,
      text,
      warnings: result.missing.map((name) => `missing variable "${name}" rendered empty`),
      ...(t.channel === "sms" ? { sms: smsSegments(text ?? body) } : {}),
    });
  });
