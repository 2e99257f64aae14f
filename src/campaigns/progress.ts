/**
 * What GET /api/campaigns/:id shows: the campaign, its progress counted from the communications
 * it created (one grouped, indexed query over the campaign's own rows), and per-variant results
 * with rates, so "did B beat A?" has an answer.
 */
import { iso } from "../api/dto";
import type { CampaignCounts, CampaignRow } from "../db/campaigns";
import { defaultMetric } from "./ab";

const ZERO: Omit<CampaignCounts, "variant"> = { targeted: 0, queued: 0, sent: 0, delivered: 0, opened: 0, clicked: 0, bounced: 0, suppressed: 0, failed: 0, cancelled: 0 };

const sum = (rows: CampaignCounts[]) =>
  rows.reduce<Omit<CampaignCounts, "variant">>((acc, r) => {
    const out = { ...acc };
    for (const k of Object.keys(ZERO) as (keyof typeof ZERO)[]) out[k] += Number(r[k]);
    return out;
  }, { ...ZERO });

const rate = (n: number, of: number) => (of ? Math.round((n / of) * 10_000) / 10_000 : 0);

export function campaignDto(c: CampaignRow, counts?: CampaignCounts[], members?: number) {
  const base = {
    id: c.id,
    name: c.name,
    audienceId: c.audienceId,
    channel: c.channel,
    type: c.type,
    status: c.status,
    phase: c.phase,
    variants: c.variants,
    templateVariables: c.templateVariables,
    sendRate: c.sendRate,
    scheduledAt: iso(c.scheduledAt),
    abTest: c.variants.length > 1 ? { testPercent: c.testPercent, testDurationMinutes: c.testDurationMinutes, winnerMetric: c.winnerMetric ?? defaultMetric(c.channel), winner: c.winner, pickedBy: c.winnerPickedBy, testEndsAt: iso(c.testEndsAt) } : null,
    lastError: c.lastError,
    startedAt: iso(c.startedAt),
    completedAt: iso(c.completedAt),
    cancelledAt: iso(c.cancelledAt),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
  if (!counts) return base;
  return {
    ...base,
    progress: { members: members ?? null, processed: c.processed, skipped: c.skipped, ...sum(counts) },
    results: c.variants.map((v) => {
      const own = sum(counts.filter((r) => r.variant === v.name));
      const reached = own.targeted - own.suppressed - own.cancelled;
      return { variant: v.name, ...own, rates: { delivered: rate(own.delivered, reached), opened: rate(own.opened, reached), clicked: rate(own.clicked, reached) } };
    }),
  };
}
