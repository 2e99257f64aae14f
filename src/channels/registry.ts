/** Every provider Herald knows, by kind. */
import type { ProviderKind } from "./kinds";
import type { ProviderDefinition } from "./types";
import { sendgrid } from "./email/sendgrid";
import { twilio } from "./sms/twilio";
import { sandbox } from "./sandbox/sandbox";

export const PROVIDERS: Record<ProviderKind, ProviderDefinition> = { sendgrid, twilio, sandbox };
