/**
 * What the hosted preference center reads for one recipient, in one D1 batch: the tenant (name,
 * settings), the recipient's preferences, and the message types and channels the tenant actually
 * uses (its templates and providers, and what it has sent this recipient).
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "./client";
import { getPreference, type RecipientKey } from "./preferences";
import { communication, providerConfig, template, tenant } from "./schema";

/** A recipient's history can be long; the distinct pairs it holds are few. */
const SENT_PAIRS = 200;

/** What the page shows of the tenant: its name and settings (branding, preference defaults). */
export const tenantBrand = (db: Db, tenantId: string) => db.select({ name: tenant.name, settings: tenant.settings }).from(tenant).where(eq(tenant.id, tenantId));

export const centerReads = (db: Db, tenantId: string, r: RecipientKey) =>
  db.batch([
    tenantBrand(db, tenantId),
    getPreference(db, tenantId, r),
    db.selectDistinct({ type: template.type, channel: template.channel }).from(template).where(eq(template.tenantId, tenantId)),
    db
      .selectDistinct({ channel: providerConfig.channel })
      .from(providerConfig)
      .where(and(eq(providerConfig.tenantId, tenantId), eq(providerConfig.enabled, true))),
    db
      .selectDistinct({ type: communication.type, channel: communication.channel })
      .from(communication)
      .where(and(eq(communication.tenantId, tenantId), eq(communication.recipientId, r.entityId), eq(communication.recipientType, r.entityType)))
      .limit(SENT_PAIRS),
  ]);

export type CenterReads = Awaited<ReturnType<typeof centerReads>>;
