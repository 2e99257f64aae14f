/**
 * One view over a tenant's templates and Herald's system templates: look up by id, or resolve a
 * code for a channel and locale (the tenant's variant wins over the system one at each locale of
 * the fallback chain).
 */
import type { Db } from "../db/client";
import { findVariants, getTemplate, type TemplateWithVersion } from "../db/templates";
import type { Channel } from "../domain";
import type { TemplateContent } from "./content";
import { localeChain } from "./locale";
import { systemTemplate, systemTemplatesFor, type SystemTemplate } from "./system";

export type TemplateView = {
  id: string;
  code: string;
  name: string;
  description: string | null;
  channel: Channel;
  type: string;
  locale: string;
  availableVariables: string[] | null;
  isActive: boolean;
  isSystem: boolean;
  version: number;
  content: TemplateContent;
  createdAt: Date | null;
  updatedAt: Date | null;
};

export function fromStored({ template: t, version: v }: TemplateWithVersion): TemplateView {
  return {
    id: t.id,
    code: t.code,
    name: t.name,
    description: t.description,
    channel: t.channel,
    type: t.type,
    locale: t.locale,
    availableVariables: t.availableVariables,
    isActive: t.isActive,
    isSystem: false,
    version: v.version,
    content: { subjectTemplate: v.subjectTemplate, bodyTemplate: v.bodyTemplate, htmlTemplate: v.htmlTemplate, textTemplate: v.textTemplate },
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export function fromSystem(t: SystemTemplate): TemplateView {
  const { subjectTemplate, bodyTemplate, htmlTemplate, textTemplate } = t;
  return {
    id: t.id,
    code: t.code,
    name: t.name,
    description: t.description,
    channel: t.channel,
    type: t.type,
    locale: t.locale,
    availableVariables: t.availableVariables,
    isActive: true,
    isSystem: true,
    version: 1,
    content: { subjectTemplate, bodyTemplate, htmlTemplate, textTemplate },
    createdAt: null,
    updatedAt: null,
  };
}

export async function templateById(db: Db, tenantId: string, id: string): Promise<TemplateView | undefined> {
  const system = systemTemplate(id);
  if (system) return fromSystem(system);
  const stored = await getTemplate(db, tenantId, id);
  return stored && fromStored(stored);
}

export async function templateByCode(db: Db, tenantId: string, code: string, channel: Channel, locale: string | undefined): Promise<TemplateView | undefined> {
  const chain = localeChain(locale);
  const stored = await findVariants(db, tenantId, code, channel, chain);
  const system = systemTemplatesFor(code, channel);
  for (const l of chain) {
    const own = stored.find((s) => s.template.locale === l);
    if (own) return fromStored(own);
    const sys = system.find((s) => s.locale === l);
    if (sys) return fromSystem(sys);
  }
  return undefined;
}
