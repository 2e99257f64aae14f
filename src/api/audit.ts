/**
 * Writing the audit trail from routes. An entry names the actor (the API key, or the operator's
 * admin token), the action, the resource, a small detail and the request id. Details carry field
 * names and masked contacts only: never credentials, secrets, tokens or content.
 */
import type { Context } from "hono";
import type { AppEnv } from "./context";
import { insertAudit, type AuditRow } from "../db/audit";
import { uuidv7 } from "../lib/ids";

export const AUDIT_ACTIONS = [
  "tenant.created",
  "tenant.limits_updated",
  "key.created",
  "key.rotated",
  "key.revoked",
  "provider.created",
  "provider.updated",
  "provider.deleted",
  "template.created",
  "template.updated",
  "template.deleted",
  "template.version_activated",
  "preference.updated",
  "consent.recorded",
  "suppression.added",
  "suppression.removed",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "settings.updated",
  "recipient.erased",
  "trigger.created",
  "trigger.updated",
  "trigger.deleted",
  "workflow.created",
  "workflow.updated",
  "workflow.deleted",
  "workflow.version_activated",
  "workflow.runs_cancelled",
  "workflow.run_cancelled",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The resource type is the action's first word: `provider.created` → `provider`. */
export const resourceTypeOf = (action: AuditAction) => action.slice(0, action.indexOf("."));

export type AuditFacts = { tenantId?: string; resourceId?: string | null; detail?: Record<string, unknown> };

/** The entry for this request; the tenant comes from the API key, or is named by an admin route. */
export function auditEntry(c: Context<AppEnv>, action: AuditAction, facts: AuditFacts = {}): AuditRow {
  const byKey = !!c.var.apiKeyId;
  const now = new Date();
  return {
    id: uuidv7(now.getTime()),
    tenantId: facts.tenantId ?? c.var.tenantId,
    actorType: byKey ? "api_key" : "admin",
    actorId: byKey ? c.var.apiKeyId : null,
    actorName: byKey ? c.var.apiKeyName : "admin",
    action,
    resourceType: resourceTypeOf(action),
    resourceId: facts.resourceId ?? null,
    detail: facts.detail && Object.keys(facts.detail).length ? facts.detail : null,
    requestId: c.var.requestId ?? null,
    createdAt: now,
  };
}

/** The insert, to run in the same D1 batch as the change it records. */
export const audit = (c: Context<AppEnv>, action: AuditAction, facts?: AuditFacts) => insertAudit(c.var.db, auditEntry(c, action, facts));

/** Records right after the change, where the change is not one batch we can join. */
export async function recordAudit(c: Context<AppEnv>, action: AuditAction, facts?: AuditFacts) {
  await audit(c, action, facts).run();
}

/** The names of the fields a request set (never their values, which may be secrets). */
export const fieldsOf = (body: Record<string, unknown>) => Object.keys(body).filter((k) => body[k] !== undefined).sort();
