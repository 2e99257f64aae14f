/**
 * A/B tests: who is in the test share and which variant they get (a hash of the campaign and the
 * recipient, so every replay and resume assigns the same), and which variant won.
 */
import type { CampaignCounts } from "../db/campaigns";
import type { MemberKey } from "../db/audiences";
import type { Channel } from "../domain";
import type { WinnerMetric } from "../db/schema";

/** FNV-1a, 32 bits: stable, fast, evenly spread for this use. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** 0–99: members below the campaign's testPercent are in the test share. */
export const bucketOf = (campaignId: string, m: MemberKey) => fnv1a(`${campaignId}\u0000${m.recipientType}\u0000${m.recipientId}`) % 100;

/** Which variant a test-share member gets; a second hash, so the split is independent of the share. */
export const variantIndexOf = (campaignId: string, m: MemberKey, variants: number) =>
  fnv1a(`${m.recipientType}\u0000${m.recipientId}\u0000${campaignId}`) % variants;

/** Email is judged by opens unless told otherwise; channels without opens by deliveries. */
export const defaultMetric = (channel: Channel | "auto"): WinnerMetric => (channel === "email" || channel === "auto" ? "opened" : "delivered");

export type VariantResult = { variant: string; reached: number; hits: number; rate: number };

/**
 * The variant with the best rate of `metric` among the messages that could reach someone (not
 * suppressed or cancelled); ties go to the earlier variant. Undefined when nothing was sent.
 */
export function pickWinner(variants: string[], counts: CampaignCounts[], metric: WinnerMetric): { winner?: string; results: VariantResult[] } {
  const results = variants.map((variant) => {
    const c = counts.find((row) => row.variant === variant);
    const reached = c ? c.targeted - c.suppressed - c.cancelled : 0;
    const hits = c ? c[metric] : 0;
    return { variant, reached, hits, rate: reached ? hits / reached : 0 };
  });
  const sent = results.filter((r) => r.reached > 0);
  if (sent.length === 0) return { results };
  const best = sent.reduce((a, b) => (b.rate > a.rate ? b : a));
  return { winner: best.variant, results };
}
