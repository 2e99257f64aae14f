/**
 * Weighted round-robin (a tenant's `routing.<channel> = "weighted"`): the first provider is drawn
 * by the configs' `weight` settings (1 when unset; 0 only ever fails over), the rest follow in
 * priority order as failover. The draw is a hash of the communication id, not a random number,
 * so a message delivered twice (a queue redelivery, a retry) starts with the same provider.
 * The circuit breaker's reordering (byHealth) applies after this.
 */
import type { ProviderConfigRow } from "../db/providers";
import type { TenantSettings } from "../db/schema";
import type { Channel } from "../domain";
import { commonSettingsOf } from "../channels/settings";

export type RoutingStrategy = "priority" | "weighted";

export const strategyFor = (settings: TenantSettings | null | undefined, channel: Channel): RoutingStrategy => settings?.routing?.[channel] ?? "priority";

/** A well-spread 32-bit hash of a string: FNV-1a, then murmur3's finaliser to mix the low bits. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Failover order for one communication under `strategy`; `configs` come in priority order. */
export function routeOrder(configs: ProviderConfigRow[], strategy: RoutingStrategy, communicationId: string): ProviderConfigRow[] {
  if (strategy !== "weighted" || configs.length < 2) return configs;
  const weights = configs.map((c) => commonSettingsOf(c.settings).weight ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return configs;
  let ticket = hash32(communicationId) % total;
  const first = weights.findIndex((w) => (ticket -= w) < 0);
  return [configs[first]!, ...configs.filter((_, i) => i !== first)];
}
