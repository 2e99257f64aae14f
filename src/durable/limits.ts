/**
 * The vocabulary of limits: a rate limit (a token bucket: tokens per second and the most that can
 * pile up), monthly quotas per channel, and the defaults that apply when nobody set one. The API
 * ingress default lets a full 1,000-item batch through; the provider defaults are the seed's §8.2
 * table, keyed by provider and channel. Schemas live here because both the admin API and the
 * provider settings read them.
 */
import { z } from "zod";
import { Channel } from "../domain";
import type { ProviderKind } from "../channels/kinds";

export const RateLimit = z
  .object({
    /** Sustained rate; fractions allowed (0.5 = one every two seconds). */
    perSecond: z.number().positive().max(100_000),
    /** Bucket size: how many can go at once after a quiet spell. */
    burst: z.number().int().min(1).max(1_000_000),
  })
  .strict();
export type RateLimit = z.infer<typeof RateLimit>;

/** A channel's monthly cap; null or absent means no cap. 0 closes the channel. */
export const Quotas = z.partialRecord(Channel, z.number().int().min(0).max(1_000_000_000).nullable());
export type Quotas = z.infer<typeof Quotas>;

/** What a tenant gets until an operator says otherwise: a full batch (1,000 items) fits in the burst. */
export const DEFAULT_API_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 2000 };

// Seed §8.2. The sandbox sends nothing anywhere, so it is not throttled unless its settings ask.
const PROVIDER_DEFAULTS: Partial<Record<`${ProviderKind}:${Channel}`, RateLimit>> = {
  "sendgrid:email": { perSecond: 10, burst: 100 },
  "twilio:sms": { perSecond: 5, burst: 50 },
  "twilio:whatsapp": { perSecond: 4, burst: 40 },
  "twilio:messenger": { perSecond: 4, burst: 40 },
  // Conservative starting points from each vendor's documented defaults (providers.md); a tenant
  // whose account allows more sets settings.rateLimit on the config.
  "mailgun:email": { perSecond: 50, burst: 100 },
  "ses:email": { perSecond: 14, burst: 14 }, // SES's default production sending rate
  "postmark:email": { perSecond: 50, burst: 100 },
  "resend:email": { perSecond: 2, burst: 2 }, // Resend's default API rate
  "vonage:sms": { perSecond: 30, burst: 30 },
  "meta_whatsapp:whatsapp": { perSecond: 80, burst: 80 }, // Cloud API default throughput
  "meta_messenger:messenger": { perSecond: 40, burst: 40 },
  // Push services take thousands a second; these only keep one tenant from flooding a project.
  "fcm:push": { perSecond: 500, burst: 1000 },
  "apns:push": { perSecond: 500, burst: 1000 },
  "webpush:push": { perSecond: 200, burst: 500 },
  // Chat platforms limit per channel or webhook (Slack about 1 a second per channel, Discord 5 per
  // 2 seconds per webhook, Teams 4 a second, Telegram 30 a second per bot); their 429s say the rest.
  "slack:slack": { perSecond: 10, burst: 20 },
  "teams:teams": { perSecond: 4, burst: 8 },
  "discord:discord": { perSecond: 5, burst: 10 },
  "telegram:telegram": { perSecond: 30, burst: 30 },
};
/** The seed's fallback for a provider and channel it does not list. */
const UNLISTED_PROVIDER: RateLimit = { perSecond: 1, burst: 10 };

const ProviderSettings = z.object({ rateLimit: RateLimit.optional() });

/**
 * The send rate for one provider config: `settings.rateLimit` when valid, else the default for its
 * provider and channel. null means unthrottled (the sandbox). Provider settings are stored as the
 * tenant gave them, so an invalid value falls back to the default rather than stopping delivery.
 */
export function providerRateLimit(row: { provider: ProviderKind; channel: Channel; settings: unknown }): RateLimit | null {
  const parsed = ProviderSettings.safeParse(row.settings ?? {});
  if (parsed.success && parsed.data.rateLimit) return parsed.data.rateLimit;
  if (row.provider === "sandbox") return null;
  return PROVIDER_DEFAULTS[`${row.provider}:${row.channel}`] ?? UNLISTED_PROVIDER;
}

/** Quota periods are calendar months in UTC: "2026-11" runs from Nov 1 00:00Z to Dec 1 00:00Z. */
export function quotaPeriod(nowMs: number) {
  const now = new Date(nowMs);
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const resetsAt = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return { id: new Date(start).toISOString().slice(0, 7), start, resetsAt };
}
export type QuotaPeriod = ReturnType<typeof quotaPeriod>;
