/** Every provider Herald knows, by kind. */
import type { ProviderKind } from "./kinds";
import type { ProviderDefinition } from "./types";
import { sendgrid } from "./email/sendgrid";
import { mailgun } from "./email/mailgun";
import { ses } from "./email/ses";
import { postmark } from "./email/postmark";
import { resend } from "./email/resend";
import { twilio } from "./sms/twilio";
import { vonage } from "./sms/vonage";
import { metaWhatsapp } from "./whatsapp/meta-whatsapp";
import { metaMessenger } from "./messenger/meta-messenger";
import { sandbox } from "./sandbox/sandbox";
import { fcm } from "./push/fcm";
import { apns } from "./push/apns";
import { webpush } from "./push/webpush";
import { slack } from "./chat/slack";
import { teams } from "./chat/teams";
import { discord } from "./chat/discord";
import { telegram } from "./chat/telegram";

export const PROVIDERS: Record<ProviderKind, ProviderDefinition> = { sendgrid, twilio, sandbox, mailgun, ses, postmark, resend, vonage, meta_whatsapp: metaWhatsapp, meta_messenger: metaMessenger, fcm, apns, webpush, slack, teams, discord, telegram };
