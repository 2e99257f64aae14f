/**
 * Outbound send rates, as the delivery consumer sees them: before calling a provider it asks the
 * tenant's limiter for a token for that provider config, and reports the provider's 429s so the
 * bucket backs off. The provider itself is called by the consumer, never inside the object.
 */
import type { ProviderConfigRow } from "../db/providers";
import { sendRateLimiter, type LimiterNamespace } from "./client";
import { providerRateLimit } from "./limits";

/** When the limiter cannot be reached we hold sends back rather than risk the tenant's account. */
const UNREACHABLE_WAIT_MS = 5_000;

export type ProviderThrottle = {
  /** Milliseconds before this config may send this communication; 0 means now. */
  take(config: ProviderConfigRow, communicationId: string): Promise<number>;
  /** The provider answered 429 (with its Retry-After, when it gave one). */
  slowDown(config: ProviderConfigRow, retryAfterSeconds: number | undefined): Promise<void>;
};

const bucketName = (config: ProviderConfigRow) => `provider:${config.id}`;

export function providerThrottle(ns: LimiterNamespace): ProviderThrottle {
  return {
    async take(config, communicationId) {
      const limit = providerRateLimit(config);
      if (!limit) return 0;
      try {
        return await sendRateLimiter(ns, config.tenantId).takeProvider(bucketName(config), limit, communicationId);
      } catch (error) {
        console.error(JSON.stringify({ msg: "send-rate limiter unreachable; holding the send back", providerConfigId: config.id, error: String(error) }));
        return UNREACHABLE_WAIT_MS;
      }
    },
    async slowDown(config, retryAfterSeconds) {
      const limit = providerRateLimit(config);
      if (!limit) return;
      try {
        await sendRateLimiter(ns, config.tenantId).slowProvider(bucketName(config), limit, retryAfterSeconds ?? null);
      } catch (error) {
        // The message that got the 429 is retried either way; only the back-off for others is lost.
        console.error(JSON.stringify({ msg: "could not slow the send rate down after a 429", providerConfigId: config.id, error: String(error) }));
      }
    },
  };
}
