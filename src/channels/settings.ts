/** Settings every provider config accepts, and how HTTP answers map to failure kinds. */
import { z } from "zod";
import { RateLimit } from "../durable/limits";
import type { FailureKind } from "./types";
import { Price } from "./pricing";
import type { FieldError } from "../lib/errors";
import { unsafeUrlReason } from "../lib/url-guard";

/** The circuit breaker on failed calls (src/pipeline/circuit-breaker.ts): when it opens, for how long. */
export const FAILURE_THRESHOLD = 5;
export const COOLDOWN_SECONDS = 60;
export const BreakerSettings = z
  .object({
    failures: z.number().int().min(1).max(1000).default(FAILURE_THRESHOLD),
    cooldownSeconds: z.number().int().min(1).max(24 * 3600).default(COOLDOWN_SECONDS),
  })
  .strict();
export type BreakerSettings = z.output<typeof BreakerSettings>;

export const baseSettings = z.object({
  /** Replaces the provider's scheme and host (EU regions, proxies, local mocks). */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  fromName: z.string().max(200).refine((v) => !/[\r\n]/.test(v), "must not contain line breaks").optional(),
  /** Per-call deadline; a hang counts as a retryable failure. */
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  /** Our own send rate for this config (see src/durable/limits.ts for the defaults). */
  rateLimit: RateLimit.optional(),
  breaker: BreakerSettings.optional(),
  /** This config's own prices, replacing the defaults in src/channels/pricing.ts. */
  price: Price.optional(),
  /** Share of first attempts under the channel's `weighted` routing (0: failover only). */
  weight: z.number().int().min(0).max(10_000).optional(),
});

const DEFAULT_BREAKER: BreakerSettings = { failures: FAILURE_THRESHOLD, cooldownSeconds: COOLDOWN_SECONDS };

/**
 * The settings every config has that the pipeline reads without building the adapter (prices,
 * routing weight, circuit breaker). Settings are stored as the tenant gave them, so each field
 * is read on its own: one that no longer parses falls back to its default without taking the
 * others with it.
 */
export function commonSettingsOf(raw: unknown): { price?: Price; weight?: number; breaker: BreakerSettings } {
  const settings = (raw ?? {}) as Record<string, unknown>;
  const read = <T>(schema: z.ZodType<T>, value: unknown): T | undefined => {
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  };
  return {
    price: read(baseSettings.shape.price, settings.price),
    weight: read(baseSettings.shape.weight, settings.weight),
    breaker: read(BreakerSettings, settings.breaker ?? {}) ?? DEFAULT_BREAKER,
  };
}

/**
 * The parts of a config that name a host Herald calls with the tenant's credentials: a proxy or
 * region (`baseUrl`), the APNs relay, FCM's token endpoint. Each must pass the URL guard, like a
 * webhook endpoint: public https, loopback only in local development, never a private network.
 */
const CALLED_URLS = [
  ["settings", "baseUrl"],
  ["settings", "relayUrl"],
  ["credentials", "token_uri"],
] as const;

export function unsafeConfigUrl(config: { settings?: unknown; credentials?: unknown }, allowLoopback: boolean): FieldError | undefined {
  for (const [part, key] of CALLED_URLS) {
    const value = (config[part] as Record<string, unknown> | undefined)?.[key];
    if (typeof value !== "string") continue;
    const reason = unsafeUrlReason(value, allowLoopback);
    if (reason) return { field: `${part}.${key}`, message: reason };
  }
  return undefined;
}

export function classifyHttpStatus(status: number): FailureKind {
  if (status === 429 || status >= 500) return "retryable";
  if (status === 401 || status === 403) return "provider";
  return "permanent";
}
