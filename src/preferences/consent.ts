/** Preference rows as consent changes them. */
import type { PreferenceChange, PreferenceRow, RecipientKey } from "../db/preferences";
import type { Channel } from "../domain";

export const blankPreference = (tenantId: string, r: RecipientKey, now: Date): PreferenceRow => ({
  tenantId,
  entityType: r.entityType,
  entityId: r.entityId,
  emailEnabled: null,
  smsEnabled: null,
  whatsappEnabled: null,
  messengerEnabled: null,
  pushEnabled: null,
  inAppEnabled: null,
  slackEnabled: null,
  teamsEnabled: null,
  discordEnabled: null,
  telegramEnabled: null,
  preferences: null,
  preferredEmail: null,
  preferredPhone: null,
  preferredWhatsapp: null,
  preferredMessengerId: null,
  preferredSlack: null,
  preferredTeams: null,
  preferredDiscord: null,
  preferredTelegram: null,
  marketingRevoked: null,
  optedOutAt: null,
  optedOutReason: null,
  locale: null,
  timezone: null,
  quietHours: null,
  createdAt: now,
  updatedAt: now,
});

/** The column that turns each channel on or off (read by policy.ts, written by consents here). */
export const ENABLED = {
  email: "emailEnabled",
  sms: "smsEnabled",
  whatsapp: "whatsappEnabled",
  messenger: "messengerEnabled",
  push: "pushEnabled",
  in_app: "inAppEnabled",
  slack: "slackEnabled",
  teams: "teamsEnabled",
  discord: "discordEnabled",
  telegram: "telegramEnabled",
} as const satisfies Record<Channel, keyof PreferenceRow>;

/**
 * What a consent record changes on the preference it belongs to, as a change the database applies
 * to the row as it is at write time (never a row read earlier and written back).
 */
export function consentChange(c: { channel: Channel; scope: "all" | "marketing"; status: "granted" | "revoked" }): PreferenceChange {
  if (c.scope === "all") return { set: { [ENABLED[c.channel]]: c.status === "granted" } };
  return { marketing: { channel: c.channel, revoked: c.status === "revoked" } };
}
