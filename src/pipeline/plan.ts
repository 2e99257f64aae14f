/**
 * The preferences step of accepting a send: who exactly gets what, on which channel, when.
 * A request may name a channel and contact, or only a recipient (the contact comes from their
 * preferred fields), or let Herald route it (`channel: "auto"` or `channels`). Each resulting
 * send is checked against the recipient's preferences — blocked ones are recorded as
 * `suppressed` with the reason, never dropped — and held past the recipient's quiet hours.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { runBatch } from "../db/client";
import { preferencesOf, type PreferenceRow, type RecipientKey } from "../db/preferences";
import { cachedReadyChannels, cachedSettings } from "../cache/tenant-config";
import { noProviderError } from "./accept";
import { CHANNELS, type Channel } from "../domain";
import { AppError } from "../lib/errors";
import { chunk } from "../lib/chunk";
import { blockedBecause, inboxAddress, policyOf, preferredContact, quietHold, routeChannels, type Policy } from "../preferences/policy";
import { openContacts } from "../preferences/contact-sealing";
import { channelIssues, type ConcreteSend, type SendRequest } from "./send-request";

export type PlannedSend = { req: ConcreteSend; blocked?: string; held?: { until: Date; reason: string } };
export type Recipients = { policy: Policy; preferences: Map<string, PreferenceRow>; ready: Set<Channel> };

const keyOf = (r: RecipientKey) => `${r.entityType}\u0000${r.entityId}`;
/** D1 allows 100 bound parameters; each recipient takes two. */
const RECIPIENTS_PER_QUERY = 45;

/**
 * The statements that read the named recipients' preferences (none when no recipient is named),
 * for a caller that sends them in one batch with reads of its own (campaign fan-out).
 */
export function preferenceReads(db: Db, tenantId: string, reqs: Pick<SendRequest, "recipientType" | "recipientId">[]): BatchItem<"sqlite">[] {
  const keys = new Map<string, RecipientKey>();
  for (const r of reqs) if (r.recipientId) keys.set(keyOf({ entityType: r.recipientType, entityId: r.recipientId }), { entityType: r.recipientType, entityId: r.recipientId });
  return chunk([...keys.values()], RECIPIENTS_PER_QUERY).map((c) => preferencesOf(db, tenantId, c));
}

/** The tenant's policy and ready channels (from the snapshot) with preferences already read. */
export async function recipientsFrom(db: Db, secret: string, tenantId: string, found: PreferenceRow[]): Promise<Recipients> {
  const [settings, ready, preferences] = await Promise.all([
    cachedSettings(db, tenantId),
    cachedReadyChannels(db, tenantId),
    Promise.all(found.map((p) => openContacts(secret, p))),
  ]);
  return {
    policy: policyOf(settings),
    preferences: new Map(preferences.map((p) => [keyOf(p), p])),
    // The in-app inbox is Herald's own: it needs no provider.
    ready: new Set<Channel>([...ready, "in_app"]),
  };
}

/**
 * The tenant's policy (from the per-isolate snapshot) and the named recipients' preferences (one
 * D1 round trip, none when no recipient is named), with their contacts opened (`secret` is
 * config.encryptionKey; see contact-sealing.ts).
 */
export async function loadRecipients(db: Db, secret: string, tenantId: string, reqs: SendRequest[]): Promise<Recipients> {
  // The snapshot loads (when cold) beside the preferences read, not after it.
  const [found] = await Promise.all([runBatch(db, preferenceReads(db, tenantId, reqs)) as Promise<PreferenceRow[][]>, cachedSettings(db, tenantId)]);
  return recipientsFrom(db, secret, tenantId, found.flat());
}

const invalid = (field: string, message: string) => new AppError("validation_failed", `${field}: ${message}`, [{ field, message }]);

export function planSend(req: SendRequest, recipients: Recipients, now: Date, prefix = ""): PlannedSend[] {
  const { policy } = recipients;
  const pref = req.recipientId ? recipients.preferences.get(keyOf({ entityType: req.recipientType, entityId: req.recipientId })) : undefined;

  let channels: Channel[];
  if (req.channel && req.channel !== "auto") {
    if (!recipients.ready.has(req.channel)) throw noProviderError(req.channel, prefix + "channel");
    channels = [req.channel];
  } else {
    const candidates = (req.channels ?? [...CHANNELS]).filter((c) => recipients.ready.has(c));
    if (candidates.length === 0) throw noProviderError((req.channels ?? CHANNELS)[0]!, prefix + (req.channels ? "channels" : "channel"));
    channels = routeChannels(pref, policy, req.type, candidates);
    // Nothing allowed: record why on the first channel we could have used, rather than nothing.
    if (channels.length === 0) {
      const reachable = candidates.find((c) => preferredContact(pref, c));
      if (!reachable) throw invalid(prefix + (req.channels ? "channels" : "channel"), `the recipient has no preferred contact on ${candidates.join(", ")}`);
      channels = [reachable];
    }
    if (req.strategy === "first") channels = channels.slice(0, 1);
  }

  return channels.map((channel) => {
    const raw =
      channel === "in_app" || channel === "push"
        ? req.recipientId && inboxAddress(req.recipientType, req.recipientId)
        : (req.recipientContact ?? preferredContact(pref, channel));
    if (!raw) throw invalid(prefix + "recipientContact", `no recipientContact given and the recipient has no preferred ${channel} contact`);
    const { contact, issues } = channelIssues({ ...req, channel, recipientContact: raw }, prefix);
    if (issues.length) throw new AppError("validation_failed", `invalid request: ${issues.map((i) => i.field).join(", ")}`, issues);
    const { channels: _c, strategy: _s, ...rest } = req;
    const concrete: ConcreteSend = { ...rest, channel, recipientContact: contact, locale: req.locale ?? pref?.locale ?? undefined };

    const blocked = blockedBecause(pref, policy, channel, req.type);
    if (blocked) return { req: concrete, blocked };
    const held = quietHold(pref, policy, req.priority, req.scheduledAt ? new Date(req.scheduledAt) : now);
    return held ? { req: { ...concrete, scheduledAt: held.until.toISOString() }, held } : { req: concrete };
  });
}
