/**
 * `GET /api/audit-log` (scope `audit:read`): the tenant's audit trail, newest first, filtered by
 * action, resource type and time, paged with an opaque cursor. The operator reads any tenant's
 * through `GET /admin/tenants/:id/audit-log` (src/api/routes/admin.ts), with the same query.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { AUDIT_ACTIONS, resourceTypeOf } from "../audit";
import { queryOf } from "../validate";
import { listAudit, type AuditRow } from "../../db/audit";
import type { Db } from "../../db/client";
import { AppError } from "../../lib/errors";

const RESOURCE_TYPES = [...new Set(AUDIT_ACTIONS.map(resourceTypeOf))] as [string, ...string[]];

export const AuditQuery = z
  .object({
    action: z.enum(AUDIT_ACTIONS).optional(),
    resourceType: z.enum(RESOURCE_TYPES).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    /** `nextCursor` of the previous page. */
    cursor: z.string().regex(/^[0-9a-f-]{36}$/, "must be a nextCursor from an earlier page").optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type AuditQuery = z.infer<typeof AuditQuery>;

export const auditDto = (a: AuditRow) => ({
  id: a.id,
  action: a.action,
  resourceType: a.resourceType,
  resourceId: a.resourceId,
  actor: { type: a.actorType, id: a.actorId, name: a.actorName },
  detail: a.detail ?? {},
  requestId: a.requestId,
  createdAt: a.createdAt.toISOString(),
});

export async function auditPage(db: Db, tenantId: string, q: AuditQuery) {
  const since = q.since ? new Date(q.since) : undefined;
  const until = q.until ? new Date(q.until) : undefined;
  if (since && until && since > until) throw new AppError("validation_failed", "since is after until", [{ field: "since", message: "must not be after until" }]);
  const rows = await listAudit(db, tenantId, { action: q.action, resourceType: q.resourceType, since, until, before: q.cursor }, q.limit);
  const page = rows.slice(0, q.limit);
  return { results: page.map(auditDto), nextCursor: rows.length > q.limit ? page.at(-1)!.id : null };
}

export const auditLog = new Hono<AppEnv>().get("/", async (c) => c.json(await auditPage(c.var.db, c.var.tenantId, queryOf(c, AuditQuery))));
