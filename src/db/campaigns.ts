/**
 * Campaign rows and the reads over the communications they created. Every function that serves
 * a tenant filters by it; the cron's selections are the only cross-tenant reads, and they return
 * the tenant with each campaign.
 */
import { and, asc, count, desc, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Db } from "./client";
import type { MemberKey } from "./audiences";
import { audienceMember, campaign, campaignChunk, communication, type CampaignStatus } from "./schema";

export type CampaignRow = typeof campaign.$inferSelect;

export const insertCampaign = (db: Db, row: CampaignRow) => db.insert(campaign).values(row).returning().get();

export const getCampaign = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(campaign)
    .where(and(eq(campaign.tenantId, tenantId), eq(campaign.id, id)))
    .get();

/** The campaign, as a statement for a batch (fan-out reads it beside its next members). */
export const campaignOf = (db: Db, tenantId: string, id: string) =>
  db
    .select()
    .from(campaign)
    .where(and(eq(campaign.tenantId, tenantId), eq(campaign.id, id)));

/**
 * The campaign's next audience members after `after`, as a statement for the same batch as
 * campaignOf: the audience comes from a subquery, so a chunk needs no round trip to learn it.
 */
export const campaignMembersAfter = (db: Db, tenantId: string, campaignId: string, after: MemberKey | null, limit: number) =>
  db
    .select()
    .from(audienceMember)
    .where(
      and(
        eq(audienceMember.tenantId, tenantId),
        inArray(
          audienceMember.audienceId,
          db
            .select({ id: campaign.audienceId })
            .from(campaign)
            .where(and(eq(campaign.tenantId, tenantId), eq(campaign.id, campaignId))),
        ),
        after ? sql`(${audienceMember.recipientType}, ${audienceMember.recipientId}) > (${after.recipientType}, ${after.recipientId})` : undefined,
      ),
    )
    .orderBy(asc(audienceMember.recipientType), asc(audienceMember.recipientId))
    .limit(limit);

export async function listCampaigns(db: Db, tenantId: string, page: number, size: number) {
  const [results, total] = await db.batch([
    db.select().from(campaign).where(eq(campaign.tenantId, tenantId)).orderBy(desc(campaign.createdAt), desc(campaign.id)).limit(size).offset((page - 1) * size),
    db.select({ n: count() }).from(campaign).where(eq(campaign.tenantId, tenantId)),
  ]);
  return { results, count: total[0]?.n ?? 0 };
}

/** Changes a campaign only while it is in one of `from`: of two racing requests, one wins. */
export const moveCampaign = (db: Db, tenantId: string, id: string, from: CampaignStatus[], patch: Partial<CampaignRow>) =>
  db
    .update(campaign)
    .set(patch)
    .where(and(eq(campaign.tenantId, tenantId), eq(campaign.id, id), inArray(campaign.status, from)))
    .returning()
    .get();

const cursorIs = (after: MemberKey | null) =>
  after ? and(eq(campaign.cursorType, after.recipientType), eq(campaign.cursorId, after.recipientId)) : and(isNull(campaign.cursorType), isNull(campaign.cursorId));

/**
 * Moves the cursor past a chunk, only if the campaign is still in this phase where the chunk
 * started. Not conditional on the status: a chunk that commits while the campaign is being paused
 * still moves the cursor past what it created, so resuming starts after it.
 */
export const advanceCursor = (
  db: Db,
  c: Pick<CampaignRow, "tenantId" | "id" | "phase">,
  from: MemberKey | null,
  to: MemberKey,
  delta: { processed: number; skipped: number },
  patch: Partial<CampaignRow>,
) =>
  db
    .update(campaign)
    .set({
      cursorType: to.recipientType,
      cursorId: to.recipientId,
      processed: sql`${campaign.processed} + ${delta.processed}`,
      skipped: sql`${campaign.skipped} + ${delta.skipped}`,
      ...patch,
    })
    .where(and(eq(campaign.tenantId, c.tenantId), eq(campaign.id, c.id), eq(campaign.phase, c.phase), cursorIs(from)))
    .returning({ id: campaign.id });

/** Which of the members in (from, to] already have a message from this campaign. */
/** Who in a member range already has a communication of the campaign, as a statement for a batch. */
export const campaignRecipientsBetween = (db: Db, tenantId: string, campaignId: string, from: MemberKey | null, to: MemberKey) =>
  db
    .select({ recipientType: communication.recipientType, recipientId: communication.recipientId })
    .from(communication)
    .where(
      and(
        eq(communication.campaignId, campaignId),
        eq(communication.tenantId, tenantId),
        from ? sql`(${communication.recipientType}, ${communication.recipientId}) > (${from.recipientType}, ${from.recipientId})` : undefined,
        sql`(${communication.recipientType}, ${communication.recipientId}) <= (${to.recipientType}, ${to.recipientId})`,
      ),
    );

const countIf = (cond: ReturnType<typeof sql>) => sql<number>`coalesce(sum(case when ${cond} then 1 else 0 end), 0)`;

/**
 * Progress per variant, counted from the campaign's communications: one indexed scan of its own
 * rows (the unique index leads with campaign_id). `sent` and later are counted by timestamp, so
 * a delivered message also counts as sent.
 */
export const campaignCounts = (db: Db, tenantId: string, campaignId: string) =>
  db
    .select({
      variant: communication.campaignVariant,
      targeted: count(),
      queued: countIf(sql`${communication.status} in ('queued', 'scheduled', 'sending')`),
      sent: countIf(sql`${communication.sentAt} is not null`),
      delivered: countIf(sql`${communication.deliveredAt} is not null`),
      opened: countIf(sql`${communication.openedAt} is not null`),
      clicked: countIf(sql`${communication.clickedAt} is not null`),
      bounced: countIf(sql`${communication.status} = 'bounced'`),
      suppressed: countIf(sql`${communication.status} = 'suppressed'`),
      failed: countIf(sql`${communication.status} = 'failed'`),
      cancelled: countIf(sql`${communication.status} = 'cancelled'`),
    })
    .from(communication)
    .where(and(eq(communication.campaignId, campaignId), eq(communication.tenantId, tenantId)))
    .groupBy(communication.campaignVariant)
    .all();
export type CampaignCounts = Awaited<ReturnType<typeof campaignCounts>>[number];

/** Cancels up to `limit` of the campaign's messages still waiting to be sent. */
export const cancelWaiting = (db: Db, tenantId: string, campaignId: string, now: Date, limit: number) =>
  db
    .update(communication)
    .set({ status: "cancelled", cancelledAt: now, updatedAt: now })
    .where(
      inArray(
        communication.id,
        db
          .select({ id: communication.id })
          .from(communication)
          .where(and(eq(communication.campaignId, campaignId), eq(communication.tenantId, tenantId), inArray(communication.status, ["queued", "scheduled"])))
          .limit(limit),
      ),
    )
    .returning()
    .all();

/** Campaigns the cron must act on: due to start, chain overdue, or A/B test over. */
export const dueCampaigns = (db: Db, now: Date, stalledBefore: Date, limit: number) =>
  db.batch([
    db.select().from(campaign).where(and(eq(campaign.status, "scheduled"), lte(campaign.scheduledAt, now))).orderBy(asc(campaign.scheduledAt)).limit(limit),
    db.select().from(campaign).where(and(eq(campaign.status, "sending"), lte(campaign.nextChunkAt, stalledBefore))).orderBy(asc(campaign.nextChunkAt)).limit(limit),
    db.select().from(campaign).where(and(eq(campaign.status, "testing"), lte(campaign.testEndsAt, now))).orderBy(asc(campaign.testEndsAt)).limit(limit),
  ]);

export const insertChunk = (db: Db, row: typeof campaignChunk.$inferInsert) => db.insert(campaignChunk).values(row);
