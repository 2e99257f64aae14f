/** Template queries, always filtered by tenant. A template row is read with its active version. */
import { and, asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { uuidv7 } from "../lib/ids";
import type { Channel } from "../domain";
import type { Db } from "./client";
import { template, templateVersion } from "./schema";

export type TemplateRow = typeof template.$inferSelect;
export type TemplateVersionRow = typeof templateVersion.$inferSelect;
export type TemplateWithVersion = { template: TemplateRow; version: TemplateVersionRow };

const withActiveVersion = (db: Db) =>
  db
    .select({ template, version: templateVersion })
    .from(template)
    .innerJoin(templateVersion, and(eq(templateVersion.templateId, template.id), eq(templateVersion.version, template.activeVersion)));

export const insertTemplate = (db: Db, row: TemplateRow, version: TemplateVersionRow) =>
  db.batch([db.insert(template).values(row), db.insert(templateVersion).values(version)]);

export const getTemplate = (db: Db, tenantId: string, id: string): Promise<TemplateWithVersion | undefined> =>
  withActiveVersion(db)
    .where(and(eq(template.tenantId, tenantId), eq(template.id, id)))
    .get();

export type TemplateFilters = { channel?: Channel; type?: string; isActive?: boolean; code?: string };

export function listTemplates(db: Db, tenantId: string, f: TemplateFilters) {
  const conditions: SQL[] = [eq(template.tenantId, tenantId)];
  if (f.channel) conditions.push(eq(template.channel, f.channel));
  if (f.type) conditions.push(eq(template.type, f.type));
  if (f.isActive !== undefined) conditions.push(eq(template.isActive, f.isActive));
  if (f.code) conditions.push(eq(template.code, f.code));
  return withActiveVersion(db)
    .where(and(...conditions))
    .orderBy(asc(template.code), asc(template.channel), asc(template.locale))
    .all();
}

/** Active variants of a code on a channel in any of these locales. */
export const findVariants = (db: Db, tenantId: string, code: string, channel: Channel, locales: string[]) =>
  withActiveVersion(db)
    .where(
      and(
        eq(template.tenantId, tenantId),
        eq(template.code, code),
        eq(template.channel, channel),
        eq(template.isActive, true),
        inArray(template.locale, locales),
      ),
    )
    .all();

export const updateTemplate = (db: Db, tenantId: string, id: string, patch: Partial<TemplateRow>) =>
  db
    .update(template)
    .set(patch)
    .where(and(eq(template.tenantId, tenantId), eq(template.id, id)));

export const listVersions = (db: Db, tenantId: string, templateId: string) =>
  db
    .select()
    .from(templateVersion)
    .where(and(eq(templateVersion.tenantId, tenantId), eq(templateVersion.templateId, templateId)))
    .orderBy(desc(templateVersion.version))
    .all();

export const getVersion = (db: Db, tenantId: string, templateId: string, version: number) =>
  db
    .select()
    .from(templateVersion)
    .where(and(eq(templateVersion.tenantId, tenantId), eq(templateVersion.templateId, templateId), eq(templateVersion.version, version)))
    .get();

export type ContentField = "subjectTemplate" | "bodyTemplate" | "htmlTemplate" | "textTemplate";
const CONTENT_COLUMNS = { subjectTemplate: "subject_template", bodyTemplate: "body_template", htmlTemplate: "html_template", textTemplate: "text_template" } as const;

/**
 * A new version of a template, made active, in one D1 batch (one transaction). Its number is
 * allocated by the INSERT itself (max + 1), and the fields the edit does not name are copied from
 * the version active at that moment, so concurrent edits each get their own number and none is
 * built on a version another edit has already replaced. Returns the version's number.
 */
export async function addActiveVersion(
  db: Db,
  tenantId: string,
  templateId: string,
  edit: { content: Partial<Record<ContentField, string | null>>; createdBy: string | null; patch: Partial<TemplateRow> },
  now: Date,
) {
  const content = (Object.keys(CONTENT_COLUMNS) as ContentField[]).map((f) =>
    edit.content[f] !== undefined ? sql`${edit.content[f]}` : sql.raw(`active.${CONTENT_COLUMNS[f]}`),
  );
  // Columns in the table's order: id, tenant, template, version, subject, body, html, text, created by, created at.
  const insert = db
    .insert(templateVersion)
    .select(
      sql`SELECT ${uuidv7(now.getTime())}, ${tenantId}, ${templateId},
                 (SELECT coalesce(max(v.version), 0) + 1 FROM template_version AS v WHERE v.template_id = ${templateId}),
                 ${sql.join(content, sql`, `)}, ${edit.createdBy}, ${now.getTime()}
          FROM template AS t JOIN template_version AS active ON active.template_id = t.id AND active.version = t.active_version
          WHERE t.tenant_id = ${tenantId} AND t.id = ${templateId}`,
    )
    .returning({ version: templateVersion.version });
  const activate = db
    .update(template)
    .set({
      ...edit.patch,
      activeVersion: sql`(SELECT max(v.version) FROM template_version AS v WHERE v.template_id = ${templateId})`,
    })
    .where(and(eq(template.tenantId, tenantId), eq(template.id, templateId)));
  const [[added]] = await db.batch([insert, activate]);
  return added?.version;
}

export const deleteTemplate = (db: Db, tenantId: string, id: string) =>
  db.batch([
    db.delete(templateVersion).where(and(eq(templateVersion.tenantId, tenantId), eq(templateVersion.templateId, id))),
    db.delete(template).where(and(eq(template.tenantId, tenantId), eq(template.id, id))).returning({ id: template.id }),
  ]);
