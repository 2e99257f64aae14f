/** Preference rows as consent changes them. */
import type { PreferenceRow, RecipientKey } from "../db/preferences";
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
  preferences: null,
  preferredEmail: null,
  preferredPhone: null,
  preferredWhatsapp: null,
  preferredMessengerId: null,
  marketingRevoked: null,
  optedOutAt: null,
  optedOutReason: null,
  locale: null,
  timezone: null,
  quietHours: null,
  createdAt: now,
  updatedAt: now,
});

const ENABLED = { email: "emailEnabled", sms: "smsEnabled", whatsapp: "whatsappEnabled", messenger: "messengerEnabled", push: "pushEnabled", in_app: "inAppEnabled" } as const;

/** What a consent record changes on the preference it belongs to. */
export function applyConsent(p: PreferenceRow, c: { channel: Channel; scope: "all" | "marketing"; status: "granted" | "revoked" }): PreferenceRow {
  if (c.scope === "all") return { ...p, [ENABLED[c.channel]]: c.status === "granted" };
  const revoked = new Set(p.marketingRevoked ?? []);
  if (c.status === "revoked") revoked.add(c.channel);
  else revoked.delete(c.channel);
  return { ...p, marketingRevoked: [...revoked] };
}

