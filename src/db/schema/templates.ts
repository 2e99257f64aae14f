/**
 * Templates (seed §2.2) and their immutable versions. A template is one variant of a `code`: one
 * channel, one locale. Content lives only in versions; `activeVersion` says which one sends.
 * Herald's own system templates are shipped in code (src/templates/system.ts), not stored here.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Channel } from "../../domain";
import { tenant } from "./tenants";

export const template = sqliteTable(
  "template",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenant.id),
    code: text("code").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    channel: text("channel").$type<Channel>().notNull(),
    type: text("type").notNull(),
    locale: text("locale").notNull(),
    availableVariables: text("available_variables", { mode: "json" }).$type<string[]>(),
    isActive: integer("is_active", { mode: "boolean" }).notNull(),
    activeVersion: integer("active_version").notNull(),
    createdBy: text("created_by"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("uq_template_variant").on(t.tenantId, t.code, t.channel, t.locale),
    index("idx_template_tenant_channel_type").on(t.tenantId, t.channel, t.type),
  ],
);

export const templateVersion = sqliteTable(
  "template_version",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    templateId: text("template_id")
      .notNull()
      .references(() => template.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    subjectTemplate: text("subject_template"),
    bodyTemplate: text("body_template"),
    htmlTemplate: text("html_template"),
    textTemplate: text("text_template"),
    createdBy: text("created_by"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("uq_template_version").on(t.templateId, t.version)],
);
