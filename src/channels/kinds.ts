/** Provider kinds Herald can deliver through. Adding one: its adapter file plus a registry line. */
import { z } from "zod";

export const PROVIDER_KINDS = ["sendgrid", "twilio", "sandbox", "mailgun", "ses", "postmark", "resend", "vonage", "meta_whatsapp", "meta_messenger", "fcm", "apns", "webpush", "slack", "teams", "discord", "telegram"] as const;
export const ProviderKind = z.enum(PROVIDER_KINDS);
export type ProviderKind = z.infer<typeof ProviderKind>;
