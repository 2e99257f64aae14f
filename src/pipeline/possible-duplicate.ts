/**
 * Whether a failover may send a message twice. A call that hit its deadline may still have been
 * accepted by the provider after Herald stopped waiting (in a fault run 4.2% of messages reached a
 * provider twice this way): the next provider then sends it again. The failover's timeline entry
 * says so, so that a tenant asking "why did they get it twice" finds the answer.
 *
 * An idempotency key does not make a failover safe: only the provider that received the key can
 * recognise a repeat, and a failover goes to another config (another account, often another
 * vendor). What the key does make safe is sending to that same provider again, a later retry
 * included: Resend answers a repeated key with the first result instead of a second email. So
 * `possibleDuplicate` is true after every timeout, and `idempotencyKey` says whether the
 * provider that timed out got one. Of the providers Herald speaks to, only Resend takes one on
 * sends (`Idempotency-Key`); see docs/failover.md for the others.
 */
import { PROVIDERS } from "../channels/registry";
import type { SendOutcome } from "../channels/types";
import type { ProviderConfigRow } from "../db/providers";

export type DuplicateRisk = { afterTimeout: true; possibleDuplicate: true; idempotencyKey: boolean };

/** The provider kinds whose adapter sends the communication id as the provider's idempotency key. */
export const sendsIdempotencyKey = (provider: string): boolean => PROVIDERS[provider as keyof typeof PROVIDERS]?.idempotencyKey === true;

/** The detail for a failover from `from` after `outcome`: set only when that call timed out. */
export function duplicateRisk(outcome: SendOutcome, from: Pick<ProviderConfigRow, "provider">): DuplicateRisk | undefined {
  if (outcome.ok || !outcome.timedOut) return undefined;
  return { afterTimeout: true, possibleDuplicate: true, idempotencyKey: sendsIdempotencyKey(from.provider) };
}
