/**
 * What a provider send costs. Defaults are the providers' public pay-as-you-go list prices in USD
 * (late 2025, rounded; volume plans and contracts differ), per email, per SMS segment or per
 * WhatsApp message, with a table of the common destination countries and a default for the rest.
 * A provider config overrides them with `settings.price`. The destination country comes from the
 * E.164 number (libphonenumber-js, its small metadata build). Amounts are kept as integer
 * millionths of the currency unit so that sums never drift.
 */
import { z } from "zod";
import parsePhoneNumber from "libphonenumber-js/min";
import type { Channel } from "../domain";
import type { ProviderKind } from "./kinds";
import { smsSegments } from "../templates/sms-segments";
import { own } from "../lib/own";

const amount = z.number().min(0).max(1000);
const Rate = z.object({ perMessage: amount.optional(), perSegment: amount.optional() }).strict();

/** A provider config's own prices (settings.price); byCountry keys are ISO 3166 alpha-2 codes. */
export const Price = Rate.extend({
  currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code such as USD or EUR"),
  byCountry: z.record(z.string().regex(/^[A-Z]{2}$/, "an ISO 3166 alpha-2 country code such as US"), Rate).optional(),
}).strict();
export type Price = z.infer<typeof Price>;
type Rate = z.infer<typeof Rate>;

export type Cost = { micros: number; currency: string };

const usd = (base: Rate, byCountry?: Record<string, Rate>): Price => ({ currency: "USD", ...base, ...(byCountry ? { byCountry } : {}) });
const perSegment = (table: Record<string, number>) => Object.fromEntries(Object.entries(table).map(([c, p]) => [c, { perSegment: p }]));
const perMessage = (table: Record<string, number>) => Object.fromEntries(Object.entries(table).map(([c, p]) => [c, { perMessage: p }]));

/** Default list prices per provider kind and channel; a channel missing here is not priced. */
export const DEFAULT_PRICES: Partial<Record<ProviderKind, Partial<Record<Channel, Price>>>> = {
  // Email: the per-message price of the providers' entry plans (e.g. SES $0.10 per 1,000).
  sendgrid: { email: usd({ perMessage: 0.0004 }) },
  mailgun: { email: usd({ perMessage: 0.0008 }) },
  ses: { email: usd({ perMessage: 0.0001 }) },
  postmark: { email: usd({ perMessage: 0.0012 }) },
  resend: { email: usd({ perMessage: 0.0004 }) },
  twilio: {
    sms: usd({ perSegment: 0.08 }, perSegment({ US: 0.0083, CA: 0.0083, GB: 0.0524, IE: 0.0853, DE: 0.0983, FR: 0.0798, ES: 0.0865, IT: 0.0878, NL: 0.1069, AU: 0.0515, IN: 0.0832, BR: 0.0525, MX: 0.057 })),
    // Twilio's own fee per WhatsApp message; Meta's template fee comes on top of it.
    whatsapp: usd({ perMessage: 0.005 }),
  },
  vonage: {
    sms: usd({ perSegment: 0.07 }, perSegment({ US: 0.0081, CA: 0.0081, GB: 0.0457, DE: 0.0857, FR: 0.0785, ES: 0.0722, IT: 0.0761, NL: 0.0968, AU: 0.0462, IN: 0.0739 })),
  },
  // Meta's utility-template rate per delivered message; replies inside the 24-hour window are free.
  meta_whatsapp: { whatsapp: usd({ perMessage: 0.01 }, perMessage({ US: 0.004, CA: 0.004, GB: 0.022, DE: 0.055, FR: 0.03, ES: 0.02, IT: 0.03, NL: 0.05, IN: 0.0014, BR: 0.008, MX: 0.01 })) },
  meta_messenger: { messenger: usd({ perMessage: 0 }) },
  // The chat platforms charge nothing per message.
  slack: { slack: usd({ perMessage: 0 }) },
  teams: { teams: usd({ perMessage: 0 }) },
  discord: { discord: usd({ perMessage: 0 }) },
  telegram: { telegram: usd({ perMessage: 0 }) },
  sandbox: { email: usd({ perMessage: 0 }), sms: usd({ perSegment: 0 }), whatsapp: usd({ perMessage: 0 }), messenger: usd({ perMessage: 0 }) },
};

/**
 * The destination country of a phone number, or undefined for anything else. A number that fits
 * no country's pattern exactly (new ranges, test numbers) counts as its calling code's main one.
 */
export function countryOf(contact: string): string | undefined {
  const parsed = parsePhoneNumber(contact);
  return parsed ? (parsed.country ?? parsed.getPossibleCountries()[0]) : undefined;
}

/** A provider config's price for a channel: its own setting, else the default, else none. */
export const priceFor = (kind: ProviderKind, channel: Channel, configured: Price | undefined): Price | undefined => configured ?? DEFAULT_PRICES[kind]?.[channel];

/** The cost of one send of `content` to `contact`, or undefined when there is no price. */
export function costOf(price: Price | undefined, message: { channel: Channel; recipientContact: string; content: string }): Cost | undefined {
  if (!price) return undefined;
  const country = message.channel === "sms" || message.channel === "whatsapp" ? countryOf(message.recipientContact) : undefined;
  const rate: Rate = (country && own(price.byCountry, country)) || price;
  const segments = message.channel === "sms" ? Math.max(1, smsSegments(message.content).segments) : 1;
  const total = (rate.perMessage ?? 0) + (rate.perSegment ?? 0) * segments;
  return { micros: Math.round(total * 1_000_000), currency: price.currency };
}
