/**
 * The providers that forward what customers send, by provider kind. Twilio serves SMS, WhatsApp
 * and Messenger; Meta's two APIs post replies to the delivery webhook's URL and here alike.
 * `telegram` and `slack` are read once a provider of that kind is configured (the chat channels).
 */
import type { InboundHandler } from "./types";
import { twilioInbound } from "../sms/twilio-inbound";
import { vonageInbound } from "../sms/vonage-inbound";
import { metaWhatsappInbound } from "../whatsapp/meta-whatsapp-inbound";
import { metaMessengerInbound } from "../messenger/meta-messenger-inbound";
import { sendgridInbound } from "../email/inbound-sendgrid";
import { mailgunInbound } from "../email/inbound-mailgun";
import { postmarkInbound } from "../email/inbound-postmark";
import { telegramInbound } from "../telegram/telegram-inbound";
import { slackInbound } from "../slack/slack-inbound";

/** Each handler's credentials and settings are its provider's, read by readProviderConfig. */
const erase = <C, S>(handler: InboundHandler<C, S>) => handler as unknown as InboundHandler<Record<string, unknown>, Record<string, unknown>>;

export const INBOUND: Readonly<Record<string, ReturnType<typeof erase>>> = {
  twilio: erase(twilioInbound),
  vonage: erase(vonageInbound),
  meta_whatsapp: erase(metaWhatsappInbound),
  meta_messenger: erase(metaMessengerInbound),
  sendgrid: erase(sendgridInbound),
  mailgun: erase(mailgunInbound),
  postmark: erase(postmarkInbound),
  telegram: erase(telegramInbound),
  slack: erase(slackInbound),
};
