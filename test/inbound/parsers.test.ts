/**
 * The inbound parsers, each on a request in its vendor's own shape (Twilio's and Mailgun's
 * documented form fields, Meta's webhook examples, SendGrid Parse's multipart fields, Postmark's
 * inbound JSON, Telegram's Update), to the normalised `InboundMessage` receiveInbound threads.
 */
import { describe, expect, it } from "vitest";
import { parseTwilioInbound } from "../../src/channels/sms/twilio-inbound";
import { parseVonageInbound } from "../../src/channels/sms/vonage-inbound";
import { parseMetaWhatsappInbound } from "../../src/channels/whatsapp/meta-whatsapp-inbound";
import { parseMetaMessengerInbound } from "../../src/channels/messenger/meta-messenger-inbound";
import { parseSendgridInbound } from "../../src/channels/email/inbound-sendgrid";
import { parseMailgunInbound } from "../../src/channels/email/inbound-mailgun";
import { parsePostmarkInbound } from "../../src/channels/email/inbound-postmark";
import { fromParsedMime, parseMime, trimQuoted } from "../../src/channels/email/inbound-email";
import { parseTelegramInbound, telegramInbound } from "../../src/channels/telegram/telegram-inbound";
import type { InboundRequest } from "../../src/channels/inbound/types";
import { metaMessengerMessages, metaWhatsappMessages, replyMime, twilioWhatsappForm } from "./payloads";

const NOW = new Date("2026-12-02T10:00:00Z");
const CONFIG = "cfg-1";

async function formRequest(form: FormData): Promise<InboundRequest> {
  const req = new Request("https://herald.test/x", { method: "POST", body: form });
  const bytes = new Uint8Array(await req.arrayBuffer());
  return { url: req.url, rawBody: new TextDecoder().decode(bytes), bytes, headers: req.headers, now: NOW };
}

describe("Twilio", () => {
  it("an SMS reply", () => {
    const body = new URLSearchParams({ MessageSid: "SM1", AccountSid: "AC1", From: "+14155550199", To: "+14155550100", Body: "Can I pay next week?", NumMedia: "0", NumSegments: "1" });
    expect(parseTwilioInbound(body.toString(), CONFIG, NOW)).toEqual({
      channel: "sms",
      providerConfigId: CONFIG,
      providerMessageId: "SM1",
      from: "+14155550199",
      to: "+14155550100",
      text: "Can I pay next week?",
      receivedAt: NOW.toISOString(),
    });
  });

  it("a WhatsApp reply with media, a quick-reply button and the message it answers", () => {
    expect(parseTwilioInbound(twilioWhatsappForm().toString(), CONFIG, NOW)).toEqual({
      channel: "whatsapp",
      providerConfigId: CONFIG,
      providerMessageId: "MM800f449d0399ed014aae2bcc0cc2f2ec",
      from: "+14155550199",
      to: "+14155238886",
      text: "Pay now",
      media: [
        { url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM8/Media/ME1", contentType: "image/jpeg", size: 0 },
        { url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM8/Media/ME2", contentType: "application/pdf", size: 0 },
      ],
      button: { text: "Pay now", payload: "pay_invoice_INV-1" },
      inReplyTo: "SM1a2b3c",
      receivedAt: NOW.toISOString(),
    });
  });

  it("a Messenger message names the PSID and the page", () => {
    const body = new URLSearchParams({ MessageSid: "SM2", From: "messenger:2416498911737584", To: "messenger:106781412345678", Body: "hi" });
    expect(parseTwilioInbound(body.toString(), CONFIG, NOW)).toMatchObject({ channel: "messenger", from: "2416498911737584", to: "106781412345678", text: "hi" });
  });

  it("a body that is not an inbound message throws", () => {
    expect(() => parseTwilioInbound("MessageStatus=delivered", CONFIG, NOW)).toThrow();
  });
});

describe("Vonage", () => {
  it("an inbound SMS (form)", () => {
    const body = new URLSearchParams({ msisdn: "14155550199", to: "14155550100", messageId: "0A0000001234", text: "PAID", type: "text", keyword: "PAID", "message-timestamp": "2026-12-02 10:00:00" });
    expect(parseVonageInbound(body.toString(), new Headers({ "content-type": "application/x-www-form-urlencoded" }), CONFIG, NOW)).toEqual({
      channel: "sms",
      providerConfigId: CONFIG,
      providerMessageId: "0A0000001234",
      from: "+14155550199",
      to: "+14155550100",
      text: "PAID",
      receivedAt: NOW.toISOString(),
    });
  });
});

describe("Meta WhatsApp Cloud API", () => {
  it("text with context, image, document, audio, button_reply, list_reply and template button", () => {
    const messages = parseMetaWhatsappInbound(JSON.stringify(metaWhatsappMessages()), CONFIG);
    expect(messages.map((m) => m.providerMessageId)).toEqual(["wamid.text", "wamid.image", "wamid.doc", "wamid.audio", "wamid.btn", "wamid.list", "wamid.tpl"]);
    expect(messages[0]).toEqual({
      channel: "whatsapp",
      providerConfigId: CONFIG,
      providerMessageId: "wamid.text",
      from: "+16315551181",
      to: "+15550001234",
      text: "Can I pay next week?",
      inReplyTo: "wamid.ours",
      receivedAt: new Date(1_796_000_000_000).toISOString(),
    });
    expect(messages[1]).toMatchObject({ text: "the receipt", media: [{ contentType: "image/jpeg", size: 0, url: "meta-media:1003383421387256" }] });
    expect(messages[2]).toMatchObject({ media: [{ contentType: "application/pdf", filename: "invoice.pdf", url: "meta-media:doc-id" }] });
    expect(messages[3]).toMatchObject({ media: [{ contentType: "audio/ogg; codecs=opus", url: "meta-media:audio-id" }] });
    expect(messages[4]).toMatchObject({ button: { payload: "pay_now", text: "Pay now" }, inReplyTo: "wamid.ours" });
    expect(messages[5]).toMatchObject({ button: { payload: "slot_2", text: "Tuesday" } });
    expect(messages[6]).toMatchObject({ button: { payload: "STOP_PROMOS", text: "Stop promotions" } });
  });

  it("a status-only payload has no messages", () => {
    const statuses = { object: "whatsapp_business_account", entry: [{ id: "1", changes: [{ field: "messages", value: { metadata: { display_phone_number: "15550001234" }, statuses: [] } }] }] };
    expect(parseMetaWhatsappInbound(JSON.stringify(statuses), CONFIG)).toEqual([]);
  });
});

describe("Meta Messenger", () => {
  it("text, quick reply, attachment and postback; echoes and deliveries skipped", () => {
    const messages = parseMetaMessengerInbound(JSON.stringify(metaMessengerMessages()), CONFIG);
    expect(messages).toHaveLength(4);
    expect(messages[0]).toEqual({ channel: "messenger", providerConfigId: CONFIG, providerMessageId: "m_text", from: "2416498911737584", to: "106781412345678", text: "hello", inReplyTo: "m_ours", receivedAt: new Date(1_796_000_000_000).toISOString() });
    expect(messages[1]).toMatchObject({ providerMessageId: "m_qr", text: "Yes", button: { payload: "CONFIRM_YES", text: "Yes" } });
    expect(messages[2]).toMatchObject({ providerMessageId: "m_img", media: [{ contentType: "image/*", size: 0, url: "https://scontent.xx.fbcdn.net/v/photo.jpg" }] });
    expect(messages[3]).toMatchObject({ providerMessageId: "m_pb", button: { payload: "PAY", text: "Pay" } });
  });
});

describe("email", () => {
  it("trims the quoted history of a reply", () => {
    expect(trimQuoted("Next week please.\n\nOn Tue, 1 Dec 2026 at 10:00, Acme <billing@acme.test> wrote:\n> Invoice INV-1\n> Total $10\n")).toBe("Next week please.");
    expect(trimQuoted("Fine\n\n> quoted\n> more")).toBe("Fine");
  });

  it("a raw MIME reply (postal-mime) with In-Reply-To, References, reply token and attachment", async () => {
    const message = fromParsedMime(await parseMime(replyMime()), CONFIG, NOW);
    expect(message).toMatchObject({
      channel: "email",
      providerMessageId: "CAF=reply-1@mail.example.com",
      from: "ann@example.com",
      to: "reply+tok_abcdefgh12345678@replies.acme.test",
      subject: "Re: Invoice INV-1",
      text: "Can I pay next week?",
      inReplyTo: "0193-invoice@herald.acme.test 0193-first@herald.acme.test",
      replyToken: "tok_abcdefgh12345678",
    });
    expect(message.media).toHaveLength(1);
    expect(message.media![0]).toMatchObject({ contentType: "application/pdf", filename: "remittance.pdf", size: 9 });
    expect(new TextDecoder().decode(message.media![0]!.bytes)).toBe("%PDF-1.4\n");
  });

  it("SendGrid Inbound Parse (default mode): fields, headers, envelope and attachments", async () => {
    const form = new FormData();
    form.set("headers", "Message-ID: <sg-reply@mail.example.com>\r\nIn-Reply-To:\r\n <0193-invoice@herald.acme.test>\r\nSubject: Re: Invoice\r\n");
    form.set("from", "Ann Lee <Ann@Example.com>");
    form.set("to", "reply+tok_abcdefgh12345678@parse.acme.test");
    form.set("subject", "Re: Invoice");
    form.set("text", "Paid!\n\nOn Mon, Acme wrote:\n> Invoice");
    form.set("envelope", JSON.stringify({ to: ["reply+tok_abcdefgh12345678@parse.acme.test"], from: "ann@example.com" }));
    form.set("attachments", "1");
    form.set("attachment-info", JSON.stringify({ attachment1: { filename: "r.txt", name: "r.txt", type: "text/plain" } }));
    form.set("attachment1", new File(["receipt"], "r.txt", { type: "text/plain" }));
    const message = await parseSendgridInbound(await formRequest(form), CONFIG);
    expect(message).toMatchObject({
      providerMessageId: "sg-reply@mail.example.com",
      from: "ann@example.com",
      to: "reply+tok_abcdefgh12345678@parse.acme.test",
      text: "Paid!",
      inReplyTo: "0193-invoice@herald.acme.test",
      replyToken: "tok_abcdefgh12345678",
      media: [{ contentType: "text/plain", filename: "r.txt", size: 7 }],
    });
  });

  it("SendGrid Inbound Parse (raw mode): the `email` field is parsed as MIME", async () => {
    const form = new FormData();
    form.set("email", replyMime());
    form.set("envelope", JSON.stringify({ to: ["reply+tok_abcdefgh12345678@replies.acme.test"], from: "ann@example.com" }));
    expect(await parseSendgridInbound(await formRequest(form), CONFIG)).toMatchObject({ providerMessageId: "CAF=reply-1@mail.example.com", text: "Can I pay next week?" });
  });

  it("a Mailgun route post", async () => {
    const form = new FormData();
    for (const [k, v] of Object.entries({
      recipient: "reply+tok_abcdefgh12345678@mg.acme.test",
      sender: "ann@example.com",
      from: "Ann Lee <ann@example.com>",
      subject: "Re: Invoice INV-1",
      "body-plain": "Next week\n\nOn Tue, Acme wrote:\n> hi",
      "stripped-text": "Next week",
      "Message-Id": "<mg-reply@mail.example.com>",
      "In-Reply-To": "<0193-invoice@herald.acme.test>",
      References: "<0193-invoice@herald.acme.test>",
      "attachment-count": "1",
      timestamp: "1796000000",
      token: "tok",
      signature: "sig",
    }))
      form.set(k, v);
    form.set("attachment-1", new File(["abc"], "a.png", { type: "image/png" }));
    expect(await parseMailgunInbound(await formRequest(form), CONFIG)).toMatchObject({
      providerMessageId: "mg-reply@mail.example.com",
      from: "ann@example.com",
      to: "reply+tok_abcdefgh12345678@mg.acme.test",
      text: "Next week",
      inReplyTo: "0193-invoice@herald.acme.test",
      replyToken: "tok_abcdefgh12345678",
      media: [{ contentType: "image/png", filename: "a.png", size: 3 }],
    });
  });

  it("a Postmark inbound message", () => {
    const body = {
      FromName: "Ann Lee",
      MessageStream: "inbound",
      From: "ann@example.com",
      FromFull: { Email: "Ann@Example.com", Name: "Ann Lee", MailboxHash: "" },
      To: "reply+tok_abcdefgh12345678@inbound.postmarkapp.com",
      ToFull: [{ Email: "reply+tok_abcdefgh12345678@inbound.postmarkapp.com", Name: "", MailboxHash: "tok_abcdefgh12345678" }],
      CcFull: [],
      OriginalRecipient: "reply+tok_abcdefgh12345678@inbound.postmarkapp.com",
      Subject: "Re: Invoice",
      MessageID: "73e6d360-66eb-11e1-8e72-a8904824019b",
      Date: "Wed, 2 Dec 2026 10:00:00 +0000",
      MailboxHash: "tok_abcdefgh12345678",
      TextBody: "Thanks\n\nOn Tue, Acme wrote:\n> hi",
      StrippedTextReply: "Thanks",
      Headers: [
        { Name: "Message-ID", Value: "<pm-reply@mail.example.com>" },
        { Name: "In-Reply-To", Value: "<0193-invoice@herald.acme.test>" },
      ],
      Attachments: [{ Name: "a.txt", Content: btoa("hello"), ContentType: "text/plain", ContentLength: 5 }],
    };
    expect(parsePostmarkInbound(JSON.stringify(body), CONFIG, NOW)).toMatchObject({
      providerMessageId: "pm-reply@mail.example.com",
      from: "ann@example.com",
      text: "Thanks",
      subject: "Re: Invoice",
      inReplyTo: "0193-invoice@herald.acme.test",
      replyToken: "tok_abcdefgh12345678",
      media: [{ contentType: "text/plain", filename: "a.txt", size: 5 }],
    });
  });
});

describe("Telegram", () => {
  it("the secret token header must equal the config's webhookSecret", async () => {
    const req = (headers: Record<string, string>): InboundRequest => ({ url: "https://herald.test/x", rawBody: "{}", bytes: new Uint8Array(), headers: new Headers(headers), now: NOW });
    const secret = { webhookSecret: "bot-secret_0123456789" };
    expect(await telegramInbound.verify(req({ "x-telegram-bot-api-secret-token": "bot-secret_0123456789" }), secret, undefined)).toEqual({ ok: true });
    expect(await telegramInbound.verify(req({ "x-telegram-bot-api-secret-token": "another-bots-secret" }), secret, undefined)).toEqual({ ok: false, reason: "wrong secret token" });
    expect(await telegramInbound.verify(req({}), secret, undefined)).toMatchObject({ ok: false, reason: expect.stringMatching(/^missing/) });
    expect(await telegramInbound.verify(req({ "x-telegram-bot-api-secret-token": "x" }), {}, undefined)).toMatchObject({ ok: false });
  });

  it("a text reply to one of the bot's messages, a photo and stickers", () => {
    const update = { update_id: 10000, message: { message_id: 1365, from: { id: 1111111, is_bot: false, first_name: "Ann" }, chat: { id: 1111111, type: "private" }, date: 1796000000, text: "/start", reply_to_message: { message_id: 1300, chat: { id: 1111111 }, date: 1795999000 } } };
    expect(parseTelegramInbound(JSON.stringify(update), CONFIG, "sms")[0]).toMatchObject({ providerMessageId: "1111111:1365", from: "1111111", text: "/start", inReplyTo: "1111111:1300" });
    const photo = { update_id: 10001, message: { message_id: 1366, chat: { id: -100123, type: "group" }, date: 1796000000, caption: "receipt", photo: [{ file_id: "small", file_unique_id: "s", width: 90, height: 90, file_size: 1000 }, { file_id: "big", file_unique_id: "b", width: 800, height: 800, file_size: 64000 }] } };
    expect(parseTelegramInbound(JSON.stringify(photo), CONFIG, "sms")[0]).toMatchObject({ from: "-100123", text: "receipt", media: [{ contentType: "image/jpeg", size: 64000, url: "telegram-file:big" }] });
    const sticker = (flags: object) => ({ update_id: 10002, message: { message_id: 1367, chat: { id: 5, type: "private" }, date: 1796000000, sticker: { file_id: "st", file_unique_id: "u", type: "regular", width: 512, height: 512, file_size: 7000, ...flags } } });
    expect(parseTelegramInbound(JSON.stringify(sticker({ is_animated: false, is_video: false })), CONFIG, "sms")[0]!.media).toEqual([{ contentType: "image/webp", size: 7000, url: "telegram-file:st" }]);
    expect(parseTelegramInbound(JSON.stringify(sticker({ is_animated: false, is_video: true })), CONFIG, "sms")[0]!.media).toMatchObject([{ contentType: "video/webm" }]);
    expect(parseTelegramInbound(JSON.stringify(sticker({ is_animated: true, is_video: false })), CONFIG, "sms")[0]!.media).toMatchObject([{ contentType: "application/x-tgsticker" }]);
    expect(parseTelegramInbound(JSON.stringify({ update_id: 3, my_chat_member: {} }), CONFIG, "sms")).toEqual([]);
  });
});
