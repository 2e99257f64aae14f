/**
 * What a recipient's preferences allow, as a pure function of their stored preferences, the
 * tenant's defaults and the message. The same verdict is reached when a send is accepted and
 * again just before it goes out, so a later opt-out still stops a scheduled message.
 */
import type { Channel, Priority } from "../domain";
import type { PreferenceRow } from "../db/preferences";
import type { TenantSettings } from "../db/schema";
import { quietUntil, type QuietHours } from "./quiet-hours";
import { own } from "../lib/own";
import { ENABLED } from "./consent";

/** Seed §2.1 types that are transactional by nature and that people expect to get. */
export const DEFAULT_REQUIRED_TYPES = ["password_reset", "otp", "one_time_code", "security_alert"];
export const DEFAULT_MARKETING_TYPES = ["marketing", "newsletter", "promotion"];

export type Policy = {
  requiredTypes: string[];
  marketingTypes: string[];
  timezone: string;
  quietHours: QuietHours | null;
};

export function policyOf(settings: TenantSettings | null | undefined): Policy {
  const p = settings?.preferences ?? {};
  return {
    requiredTypes: p.requiredTypes ?? DEFAULT_REQUIRED_TYPES,
    marketingTypes: p.marketingTypes ?? DEFAULT_MARKETING_TYPES,
    timezone: p.timezone ?? "UTC",
    quietHours: p.quietHours ?? null,
  };
}

export const isMarketing = (policy: Policy, type: string) => policy.marketingTypes.includes(type);

/** Why this message must not go to this recipient on this channel, or undefined if it may. */
export function blockedBecause(pref: PreferenceRow | undefined, policy: Policy, channel: Channel, type: string): string | undefined {
  if (!pref) return undefined;
  // A legal opt-out stops everything, required types included.
  if (pref.optedOutAt) return `recipient opted out${pref.optedOutReason ? `: ${pref.optedOutReason}` : ""}`;
  if (isMarketing(policy, type) && pref.marketingRevoked?.includes(channel)) return `recipient unsubscribed from marketing on ${channel}`;
  if (policy.requiredTypes.includes(type)) return undefined;
  if (pref[ENABLED[channel]] === false) return `recipient disabled ${channel}`;
  const wanted = own(pref.preferences, type);
  if (wanted && !wanted.includes(channel)) return `recipient does not want ${type} on ${channel} (prefers ${wanted.join(", ") || "none"})`;
  return undefined;
}

/** A recipient's in-app inbox address, and push's: the recipient itself (push goes to their registered devices). */
export const inboxAddress = (recipientType: string, recipientId: string) => `${recipientType}/${recipientId}`;

/** The recipient's preferred address for a channel. */
export function preferredContact(pref: PreferenceRow | undefined, channel: Channel): string | null {
  if (!pref) return null;
  switch (channel) {
    case "email":
      return pref.preferredEmail;
    case "sms":
      return pref.preferredPhone;
    case "whatsapp":
      return pref.preferredWhatsapp ?? pref.preferredPhone;
    case "messenger":
      return pref.preferredMessengerId;
    case "push":
    case "in_app":
      return inboxAddress(pref.entityType, pref.entityId);
    case "slack":
      return pref.preferredSlack;
    case "teams":
      return pref.preferredTeams;
    case "discord":
      return pref.preferredDiscord;
    case "telegram":
      return pref.preferredTelegram;
  }
}

/**
 * Channels to route a message to when the sender lets Herald choose: the recipient's channels for
 * this type, else every channel they have an address for, in a fixed order, minus blocked ones.
 */
export function routeChannels(pref: PreferenceRow | undefined, policy: Policy, type: string, candidates: Channel[]): Channel[] {
  const wanted = own(pref?.preferences, type);
  const ordered = wanted ? wanted.filter((c) => candidates.includes(c)) : candidates;
  return ordered.filter((c) => preferredContact(pref, c) !== null && !blockedBecause(pref, policy, c, type));
}

/**
 * Whether the recipient's quiet hours (theirs, else the tenant's) hold a message at `at`: when
 * the window ends and why, or undefined. Urgent messages go through.
 */
export function quietHold(pref: PreferenceRow | undefined, policy: Policy, priority: Priority, at: Date): { until: Date; reason: string } | undefined {
  const window = pref?.quietHours ?? policy.quietHours;
  if (!window || priority === "urgent") return undefined;
  const timeZone = pref?.timezone ?? policy.timezone;
  const until = quietUntil(at, window, timeZone);
  return until && { until, reason: `held for quiet hours (${window.start}–${window.end} ${timeZone}) until ${until.toISOString()}` };
}
