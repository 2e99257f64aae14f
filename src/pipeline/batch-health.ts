/**
 * The circuit breaker inside one queue batch. The breaker's counters are read once when a batch
 * opens and written once when it is recorded, so without this every message in a batch of 30
 * would call a provider that the batch's first messages already found down. Each failed or
 * accepted call the batch has seen adjusts the provider's streak here the way the stored counter
 * will move once the batch is written (src/pipeline/circuit-breaker.ts), and each message starts
 * its walk from that view.
 */
import type { ProviderConfigRow } from "../db/providers";
import { commonSettingsOf } from "../channels/settings";
import { BREAKER_THRESHOLD as SILENCE_THRESHOLD } from "./silent-failover";

export type BatchHealth = ReturnType<typeof batchHealth>;

export function batchHealth() {
  /** Failure streaks as the batch has moved them, by provider config id. */
  const streaks = new Map<string, number>();
  return {
    /** The configs with this batch's failures and successes applied to their breakers. */
    view(configs: ProviderConfigRow[], now: Date): ProviderConfigRow[] {
      return configs.map((c) => {
        const streak = streaks.get(c.id);
        if (streak === undefined) return c;
        if (streak === 0) return { ...c, failureStreak: 0, breakerOpenUntil: c.silentStreak >= SILENCE_THRESHOLD ? c.breakerOpenUntil : null };
        const { failures, cooldownSeconds } = commonSettingsOf(c.settings).breaker;
        const openUntil = streak >= failures ? new Date(now.getTime() + cooldownSeconds * 1000) : c.breakerOpenUntil;
        return { ...c, failureStreak: streak, breakerOpenUntil: openUntil };
      });
    },
    /** A call through `config` failed in a way that counts against the provider. */
    failed: (config: ProviderConfigRow) => void streaks.set(config.id, (streaks.get(config.id) ?? config.failureStreak) + 1),
    accepted: (config: ProviderConfigRow) => void streaks.set(config.id, 0),
  };
}
