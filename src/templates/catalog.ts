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

/** What every variant has, wherever it is kept. */
const identity = (t: Pick<TemplateView, "id" | "code" | "name" | "description" | "channel" | "type" | "locale" | "availableVariables">) => ({
  id: t.id,
  code: t.code,
  name: t.name,
  description: t.description,
  channel: t.channel,
  type: t.type,
  locale: t.locale,
  availableVariables: t.availableVariables,
});

const contentOf = (c: TemplateContent): TemplateContent => ({
  subjectTemplate: c.subjectTemplate,
  bodyTemplate: c.bodyTemplate,
  htmlTemplate: c.htmlTemplate,
  textTemplate: c.textTemplate,
});

export const fromStored = ({ template: t, version: v }: TemplateWithVersion): TemplateView => ({
  ...identity(t),
  isActive: t.isActive,
  isSystem: false,
  version: v.version,
  content: contentOf(v),
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
});

export const fromSystem = (t: SystemTemplate): TemplateView => ({
  ...identity(t),
  isActive: true,
  isSystem: true,
  version: 1,
  content: contentOf(t),
  createdAt: null,
  updatedAt: null,
});

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
