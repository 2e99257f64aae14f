/**
 * Failover on silence (issue 12): a provider that accepts a message and then never reports
 * delivery is failed over like one that errors. After a send through a provider that reports
 * delivery, a receipt check goes on the queue, delayed by the type's window — no polling. When it
 * fires, it does nothing unless the message is still only `sent` through that provider; then it
 * takes the message back and walks the next providers. Repeated silence opens a breaker that puts
 * the provider last for a while, so later messages start with a healthy one.
 */
import { PROVIDERS } from "../channels/registry";
import { readProviderConfig } from "./provider-configs";
import { cachedLookup } from "../cache/tenant-config";
import type { Db } from "../db/client";
import { claimSilent, type CommunicationRow } from "../db/communications";
import type { ProviderConfigRow } from "../db/providers";
import { countSilence } from "../db/provider-health";
import type { TenantSettings } from "../db/schema";
import { dayOf } from "../db/stats";
import type { SendMessage } from "./queue-message";
import { own } from "../lib/own";

/** Where a late code hurts more than a duplicate. Tenants set their own per type. */
export const DEFAULT_RECEIPT_WINDOWS: Record<string, number> = { otp: 60, one_time_code: 60 };
/** Silent in a row before the breaker opens, and for how long it stays open. */
export const BREAKER_THRESHOLD = 3;
export const BREAKER_OPEN_MS = 5 * 60_000;

export function receiptWindowSeconds(c: Pick<CommunicationRow, "type" | "receiptWindowSeconds">, settings: TenantSettings | null | undefined): number {
  return c.receiptWindowSeconds ?? own(settings?.receiptWindows, c.type) ?? own(DEFAULT_RECEIPT_WINDOWS, c.type) ?? 0;
}

/**
 * Whether to wait for `config`'s receipt: a window, a provider that reports (which often depends
 * on a webhook secret among its credentials), and somewhere to go.
 */
export async function watchesReceipt(db: Db, encryptionKey: string, config: ProviderConfigRow, providersLeft: number, windowSeconds: number): Promise<boolean> {
  if (windowSeconds <= 0 || providersLeft === 0) return false;
  if (!PROVIDERS[config.provider].reportsDelivery) return false;
  // Opening the credentials is an AES-GCM decrypt: once per config edit and isolate, not per send.
  return cachedLookup(db, config.tenantId, `reports:${config.id}:${config.updatedAt.getTime()}`, async () => {
    try {
      const { definition, credentials, settings } = await readProviderConfig(encryptionKey, config);
      return definition.reportsDelivery?.(settings, credentials) ?? false;
    } catch {
      return false;
    }
  });
}

export const receiptCheck = (c: CommunicationRow, config: ProviderConfigRow, windowSeconds: number): { body: SendMessage; delaySeconds: number } => ({
  body: { v: 1, tenantId: c.tenantId, communicationId: c.id, check: { providerConfigId: config.id, windowSeconds } },
  delaySeconds: windowSeconds,
});

/** The providers to try after `silentId` went quiet: those after it in failover order. */
export function after(configs: ProviderConfigRow[], silentId: string): ProviderConfigRow[] {
  const index = configs.findIndex((c) => c.id === silentId);
  return index === -1 ? configs.filter((c) => c.id !== silentId) : configs.slice(index + 1);
}

/** Failover order with providers whose breaker is open moved to the end (stable otherwise). */
export function byHealth(configs: ProviderConfigRow[], now: Date): ProviderConfigRow[] {
  const open = (c: ProviderConfigRow) => (c.breakerOpenUntil !== null && c.breakerOpenUntil > now ? 1 : 0);
  return [...configs].sort((a, b) => open(a) - open(b));
}

/** Claims a communication still waiting on `providerConfigId`'s receipt, or nothing. */
export const claimForSilence = (db: Db, m: SendMessage & { check: NonNullable<SendMessage["check"]> }, now: Date) =>
  claimSilent(db, m.tenantId, m.communicationId, m.check.providerConfigId, now);

export const silenceStatements = (db: Db, c: CommunicationRow, silent: ProviderConfigRow, now: Date) =>
  countSilence(db, { tenantId: c.tenantId, day: dayOf(now), config: silent, threshold: BREAKER_THRESHOLD, openUntil: new Date(now.getTime() + BREAKER_OPEN_MS) });
