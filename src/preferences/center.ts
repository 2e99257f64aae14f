/**
 * The hosted preference center's logic, free of HTTP and HTML: which message types and channels
 * a recipient is offered, what the page shows for them, and what a submitted form changes —
 * as the same patch and consent records the API takes (src/api/preference-writes.ts). Only what
 * the form changed is written, so saving an untouched page records nothing.
 */
import { CHANNELS, type Channel } from "../domain";
import type { PreferenceRow } from "../db/preferences";
import type { FieldError } from "../lib/errors";
import { own } from "../lib/own";
import { ENABLED } from "./consent";
import type { Policy } from "./policy";
import type { QuietHours } from "./quiet-hours";

export type Used = { type?: string; channel: Channel }[];
export type CenterChoices = { types: string[]; channels: Channel[] };

const SLUG = /^[a-z][a-z0-9_.-]{0,63}$/;
const isChannel = (v: string): v is Channel => (CHANNELS as readonly string[]).includes(v);

export const channelEnabled = (pref: PreferenceRow | undefined, channel: Channel) => pref?.[ENABLED[channel]] !== false;

/**
 * Types and channels the tenant uses (templates, providers, what it sent this recipient) plus
 * whatever the recipient's own preferences name. Required types are left out: preferences do
 * not apply to them. A tenant that uses nothing yet is offered email.
 */
export function centerChoices(pref: PreferenceRow | undefined, policy: Policy, used: Used): CenterChoices {
  const types = new Set<string>(Object.keys(pref?.preferences ?? {}));
  const channels = new Set<Channel>(Object.values(pref?.preferences ?? {}).flat());
  for (const u of used) {
    if (u.type) types.add(u.type);
    channels.add(u.channel);
  }
  for (const ch of CHANNELS) if (pref?.[ENABLED[ch]] === false) channels.add(ch);
  const ordered = CHANNELS.filter((ch) => channels.has(ch));
  return { types: [...types].filter((t) => !policy.requiredTypes.includes(t)).sort(), channels: ordered.length ? ordered : ["email"] };
}

/** A type's channels, or null for "any": a list that covers every offered channel is "any". */
function normalised(value: Channel[] | null | undefined, offered: Channel[]): string {
  if (!value || offered.every((ch) => value.includes(ch))) return "any";
  return offered.filter((ch) => value.includes(ch)).join(",");
}

export type CenterView = {
  channels: { channel: Channel; enabled: boolean }[];
  types: { type: string; channels: { channel: Channel; checked: boolean }[] }[];
  optedOut: boolean;
  timezone: string;
  quietHours: QuietHours | null;
};

export function centerView(pref: PreferenceRow | undefined, policy: Policy, choices: CenterChoices): CenterView {
  return {
    channels: choices.channels.map((channel) => ({ channel, enabled: channelEnabled(pref, channel) })),
    types: choices.types.map((type) => {
      const wanted = own(pref?.preferences, type);
      return { type, channels: choices.channels.map((channel) => ({ channel, checked: !wanted || wanted.includes(channel) })) };
    }),
    optedOut: !!pref?.optedOutAt,
    timezone: pref?.timezone ?? policy.timezone,
    quietHours: pref?.quietHours ?? null,
  };
}

/** A submitted form: each name with every value it was sent with. */
export type FormFields = Record<string, string | File | (string | File)[]>;

export type CenterPatch = {
  optedOut?: boolean;
  optedOutReason?: string | null;
  preferences?: Record<string, Channel[] | null>;
  timezone?: string;
  quietHours?: QuietHours | null;
};
export type CenterConsent = { channel: Channel; status: "granted" | "revoked" };
export type CenterChange = { ok: true; patch: CenterPatch; consents: CenterConsent[] } | { ok: false; errors: FieldError[] };

const valuesOf = (form: FormFields, name: string) =>
  [form[name] ?? []].flat().filter((v): v is string => typeof v === "string");
const valueOf = (form: FormFields, name: string) => valuesOf(form, name)[0]?.trim() ?? "";

/**
 * What the form changes against the row as read. The page lists what it offered in hidden
 * `shown.*` fields, so an unticked box (which a browser does not send) still counts as a choice.
 * Values are checked again by the API's own schema before anything is written.
 */
export function centerChange(form: FormFields, pref: PreferenceRow | undefined, policy: Policy): CenterChange {
  const offered = valuesOf(form, "shown.channel").filter(isChannel);
  const wasOut = !!pref?.optedOutAt;
  if (valueOf(form, "optOut") === "on") {
    if (wasOut) return { ok: true, patch: {}, consents: [] };
    // Unsubscribing from everything is a legal opt-out; the record names each channel it covers.
    return { ok: true, patch: { optedOut: true, optedOutReason: "unsubscribed from everything in the preference center" }, consents: offered.map((channel) => ({ channel, status: "revoked" })) };
  }
  const patch: CenterPatch = wasOut ? { optedOut: false } : {};
  const ticked = valuesOf(form, "channels");
  const consents: CenterConsent[] = offered
    .filter((ch) => ticked.includes(ch) !== channelEnabled(pref, ch))
    .map((channel) => ({ channel, status: ticked.includes(channel) ? "granted" : "revoked" }));

  for (const type of valuesOf(form, "shown.type").filter((t) => SLUG.test(t))) {
    const chosen = offered.filter((ch) => valuesOf(form, `type.${type}`).includes(ch));
    const value = chosen.length === offered.length ? null : chosen;
    if (normalised(value, offered) !== normalised(own(pref?.preferences, type), offered)) patch.preferences = { ...patch.preferences, [type]: value };
  }

  const errors: FieldError[] = [];
  const start = valueOf(form, "quietHours.start");
  const end = valueOf(form, "quietHours.end");
  if (!start !== !end) errors.push({ field: start ? "quietHours.end" : "quietHours.start", message: "give both a start and an end, or neither" });
  const quiet = start && end ? { start, end } : null;
  if (JSON.stringify(quiet) !== JSON.stringify(pref?.quietHours ?? null)) patch.quietHours = quiet;
  const timezone = valueOf(form, "timezone");
  if (!timezone) errors.push({ field: "timezone", message: "choose a time zone" });
  else if (timezone !== (pref?.timezone ?? policy.timezone)) patch.timezone = timezone;
  return errors.length ? { ok: false, errors } : { ok: true, patch, consents };
}

/** The page as the recipient filled it in, to show again with what was wrong: nothing is lost. */
export function viewOfForm(view: CenterView, form: FormFields): CenterView {
  const ticked = valuesOf(form, "channels");
  const start = valueOf(form, "quietHours.start");
  const end = valueOf(form, "quietHours.end");
  return {
    channels: view.channels.map((c) => ({ ...c, enabled: ticked.includes(c.channel) })),
    types: view.types.map((t) => ({ ...t, channels: t.channels.map((c) => ({ ...c, checked: valuesOf(form, `type.${t.type}`).includes(c.channel) })) })),
    optedOut: valueOf(form, "optOut") === "on",
    timezone: valueOf(form, "timezone") || view.timezone,
    quietHours: start || end ? { start, end } : null,
  };
}

/** "payment_reminder" → "Payment reminder". */
export const typeLabel = (type: string) => {
  const words = type.replace(/[_.-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export const CHANNEL_LABELS: Record<Channel, string> = {
  email: "Email",
  sms: "Text message (SMS)",
  whatsapp: "WhatsApp",
  messenger: "Messenger",
  push: "Push notifications",
  in_app: "In-app notifications",
  slack: "Slack",
  teams: "Microsoft Teams",
  discord: "Discord",
  telegram: "Telegram",
};
