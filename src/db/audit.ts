/** The audit trail: one insert (to batch with the change it records) and a newest-first page. */
import { and, desc, eq, gte, lt, lte, type SQL } from "drizzle-orm";
import type { Db } from "./client";
import { auditLog } from "./schema";

export type AuditRow = typeof auditLog.$inferSelect;

export const insertAudit = (db: Db, row: AuditRow) => db.insert(auditLog).values(row);

export type AuditFilter = { action?: string; resourceType?: string; since?: Date; until?: Date; before?: string };

/** Newest first; `before` is the last id of the previous page. One row more than asked tells if there is a next page. */
export function listAudit(db: Db, tenantId: string, f: AuditFilter, limit: number) {
  const where: SQL[] = [eq(auditLog.tenantId, tenantId)];
  if (f.action) where.push(eq(auditLog.action, f.action));
  if (f.resourceType) where.push(eq(auditLog.resourceType, f.resourceType));
  if (f.since) where.push(gte(auditLog.createdAt, f.since));
  if (f.until) where.push(lte(auditLog.createdAt, f.until));
  if (f.before) where.push(lt(auditLog.id, f.before));
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(limit + 1)
    .all();
}
