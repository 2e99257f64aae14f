/**
 * The circuit breaker on failed calls (issue 6): during a provider's outage every message would
 * otherwise pay that provider's timeout before failing over. After FAILURE_THRESHOLD failed calls
 * in a row (retryable or provider failures: timeouts, 5xx, 429, refused credentials — not a
 * message's own permanent rejection), the breaker opens: the provider goes last in failover order
 * (byHealth) for the cool-down. When the cool-down ends it is tried again in its place (half-open):
 * an accepted send closes the breaker, one more failure opens it again at once, since the streak
 * is still at the threshold. The state is per tenant provider config, in D1, so every consumer
 * isolate sees it; several messages may probe a half-open provider at once, which costs a few
 * failovers, not an outage's worth.
 *
 * Tenants tune it per provider config with `settings.breaker: { failures, cooldownSeconds }`.
 */
import type { Db } from "../db/client";
import type { ProviderConfigRow } from "../db/providers";
import { countFailure, resetFailures } from "../db/provider-health";
import type { FailureKind } from "../channels/types";
import { commonSettingsOf } from "../channels/settings";
import { BREAKER_THRESHOLD as SILENCE_THRESHOLD } from "./silent-failover";

/** Whether a failure of this kind says something about the provider's health. */
export const countsAgainstProvider = (failure: FailureKind) => failure !== "permanent";

/**
 * The statement recording a failed call, and whether, as far as this attempt knows, it opens the
 * breaker (for the timeline; concurrent attempts may open it first).
 */
export function failureStatement(db: Db, config: ProviderConfigRow, now: Date) {
  const { failures, cooldownSeconds } = commonSettingsOf(config.settings).breaker;
  const statement = countFailure(db, { tenantId: config.tenantId, config, threshold: failures, openUntil: new Date(now.getTime() + cooldownSeconds * 1000) });
  return { statement, opens: config.failureStreak + 1 >= failures, failures, cooldownSeconds };
}

/** After an accepted send: close the breaker, or nothing when there was no streak to reset. */
export const successStatements = (db: Db, config: ProviderConfigRow) =>
  config.failureStreak > 0 ? [resetFailures(db, config.tenantId, config, SILENCE_THRESHOLD)] : [];
