/**
 * The render step of accepting a send: a request names a template (by id, or by code for its
 * channel and locale) or brings its own content. Rendering happens here, once, so the stored
 * communication holds exactly what the recipient gets and which template version produced it.
 * Missing variables refuse the send with the names, instead of delivering "Dear ,".
 */
import type { Db } from "../db/client";
import type { CommunicationRow } from "../db/communications";
import { AppError } from "../lib/errors";
import { templateByCode, templateById, type TemplateView } from "../templates/catalog";
import { cachedLookup } from "../cache/tenant-config";
import { renderContent } from "../templates/content";
import { formatOptions } from "../templates/format";
import { MAX_CONTENT, type ConcreteSend } from "./send-request";

export type ResolvedContent = Pick<CommunicationRow, "subject" | "content" | "textContent" | "templateId" | "templateVersion" | "locale">;

const invalid = (field: string, message: string) => new AppError("validation_failed", `${field}: ${message}`, [{ field, message }]);

/**
 * Returns a resolver whose template look-ups are answered from the tenant's per-isolate snapshot
 * (src/cache/tenant-config.ts): any template write moves the config version and drops them. Within
 * one request (a batch) each look-up is made once, so every item sees the same version.
 */
export function contentResolver(db: Db, tenantId: string) {
  const lookups = new Map<string, Promise<TemplateView | undefined>>();
  const cached = (key: string, load: () => Promise<TemplateView | undefined>) => {
    let hit = lookups.get(key);
    if (!hit) lookups.set(key, (hit = cachedLookup(db, tenantId, `template:${key}`, load)));
    return hit;
  };

  return async function resolve(req: ConcreteSend, prefix = ""): Promise<ResolvedContent> {
    if (!req.templateId && !req.templateCode) {
      return { subject: req.subject ?? null, content: req.content!, textContent: null, templateId: null, templateVersion: null, locale: req.locale ?? null };
    }
    const field = prefix + (req.templateId ? "templateId" : "templateCode");
    const template = req.templateId
      ? await cached(`id:${req.templateId}`, () => templateById(db, tenantId, req.templateId!))
      : await cached(`code:${req.templateCode}:${req.channel}:${req.locale ?? ""}`, () => templateByCode(db, tenantId, req.templateCode!, req.channel, req.locale));
    if (!template) {
      throw invalid(field, req.templateId ? "no such template" : `no active template "${req.templateCode}" for ${req.channel}`);
    }
    if (template.channel !== req.channel) throw invalid(field, `is a ${template.channel} template; this send is ${req.channel}`);
    if (!template.isActive) throw invalid(field, "the template is inactive");

    const variables = req.templateVariables ?? {};
    const locale = req.locale ?? template.locale;
    const result = renderContent(template.channel, template.content, variables, formatOptions(locale, variables), true);
    if (!result.ok) throw invalid(prefix + "templateVariables", result.error ?? `missing ${result.missing.join(", ")}`);
    const r = result.value;
    if (r.body.length > MAX_CONTENT[req.channel]) {
      throw invalid(prefix + "templateVariables", `the rendered message is ${r.body.length} characters; ${req.channel} allows ${MAX_CONTENT[req.channel]}`);
    }
    const subject = req.subject ?? r.subject;
    if (req.channel === "email" && !subject) throw invalid(prefix + "subject", "the template has no subject; give one");
    return {
      subject,
      content: r.body,
      // Kept only when the template wrote its own; the email adapter derives one from the HTML otherwise.
      textContent: r.html ? r.text : null,
      templateId: template.id,
      templateVersion: template.version,
      locale,
    };
  };
}
