/**
 * Inbound payloads in the vendors' shapes: Twilio's "incoming message" parameters (WhatsApp, with
 * media and a quick-reply button), Meta's WhatsApp Cloud API and Messenger webhook examples, and a
 * raw MIME reply as a mail client sends it.
 */
export const twilioWhatsappForm = (overrides: Record<string, string> = {}) =>
  new URLSearchParams({
    SmsMessageSid: "MM800f449d0399ed014aae2bcc0cc2f2ec",
    NumMedia: "2",
    ProfileName: "Ann",
    MessageType: "button",
    SmsSid: "MM800f449d0399ed014aae2bcc0cc2f2ec",
    WaId: "14155550199",
    SmsStatus: "received",
    Body: "Pay now",
    ButtonText: "Pay now",
    ButtonPayload: "pay_invoice_INV-1",
    OriginalRepliedMessageSid: "SM1a2b3c",
    To: "whatsapp:+14155238886",
    NumSegments: "1",
    MessageSid: "MM800f449d0399ed014aae2bcc0cc2f2ec",
    AccountSid: "AC0123456789abcdef0123456789abcdef",
    From: "whatsapp:+14155550199",
    MediaContentType0: "image/jpeg",
    MediaUrl0: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM8/Media/ME1",
    MediaContentType1: "application/pdf",
    MediaUrl1: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM8/Media/ME2",
    ApiVersion: "2010-04-01",
    ...overrides,
  });

const waMessage = (id: string, type: string, extra: object) => ({ from: "16315551181", id, timestamp: "1796000000", type, ...extra });

export const metaWhatsappMessages = (displayNumber = "15550001234") => ({
  object: "whatsapp_business_account",
  entry: [
    {
      id: "102290129340398",
      changes: [
        {
          field: "messages",
          value: {
            messaging_product: "whatsapp",
            metadata: { display_phone_number: displayNumber, phone_number_id: "106540352242922" },
            contacts: [{ profile: { name: "Ann" }, wa_id: "16315551181" }],
            messages: [
              waMessage("wamid.text", "text", { text: { body: "Can I pay next week?" }, context: { from: displayNumber, id: "wamid.ours" } }),
              waMessage("wamid.image", "image", { image: { caption: "the receipt", mime_type: "image/jpeg", sha256: "abc", id: "1003383421387256" } }),
              waMessage("wamid.doc", "document", { document: { filename: "invoice.pdf", mime_type: "application/pdf", sha256: "def", id: "doc-id" } }),
              waMessage("wamid.audio", "audio", { audio: { mime_type: "audio/ogg; codecs=opus", sha256: "ghi", id: "audio-id", voice: true } }),
              waMessage("wamid.btn", "interactive", { interactive: { type: "button_reply", button_reply: { id: "pay_now", title: "Pay now" } }, context: { from: displayNumber, id: "wamid.ours" } }),
              waMessage("wamid.list", "interactive", { interactive: { type: "list_reply", list_reply: { id: "slot_2", title: "Tuesday", description: "10:00" } } }),
              waMessage("wamid.tpl", "button", { button: { payload: "STOP_PROMOS", text: "Stop promotions" }, context: { from: displayNumber, id: "wamid.tpl-ours" } }),
            ],
          },
        },
      ],
    },
  ],
});

const psid = "2416498911737584";
const page = "106781412345678";
const event = (extra: object) => ({ sender: { id: psid }, recipient: { id: page }, timestamp: 1_796_000_000_000, ...extra });

export const metaMessengerMessages = () => ({
  object: "page",
  entry: [
    {
      id: page,
      time: 1_796_000_000_000,
      messaging: [
        event({ message: { mid: "m_text", text: "hello", reply_to: { mid: "m_ours" } } }),
        event({ message: { mid: "m_qr", text: "Yes", quick_reply: { payload: "CONFIRM_YES" } } }),
        event({ message: { mid: "m_img", attachments: [{ type: "image", payload: { url: "https://scontent.xx.fbcdn.net/v/photo.jpg" } }] } }),
        event({ postback: { mid: "m_pb", title: "Pay", payload: "PAY" } }),
        event({ message: { mid: "m_echo", is_echo: true, text: "our own" } }),
        event({ delivery: { mids: ["m_ours"], watermark: 1_796_000_000_000 } }),
      ],
    },
  ],
});

/** A reply from a mail client: multipart/mixed with a plain-text part (quoting the original) and a PDF. */
export const replyMime = (opts: { to?: string; messageId?: string; inReplyTo?: string } = {}) =>
  [
    "From: Ann Lee <Ann@Example.com>",
    `To: ${opts.to ?? "reply+tok_abcdefgh12345678@replies.acme.test"}`,
    "Subject: Re: Invoice INV-1",
    "Date: Wed, 2 Dec 2026 10:00:00 +0000",
    `Message-ID: <${opts.messageId ?? "CAF=reply-1@mail.example.com"}>`,
    `In-Reply-To: <${opts.inReplyTo ?? "0193-invoice@herald.acme.test"}>`,
    `References: <0193-first@herald.acme.test> <${opts.inReplyTo ?? "0193-invoice@herald.acme.test"}>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=UTF-8",
    "",
    "Can I pay next week?",
    "",
    "On Tue, 1 Dec 2026 at 09:00, Acme Billing <billing@acme.test> wrote:",
    "> Your invoice INV-1 is due.",
    "",
    "--b1",
    'Content-Type: application/pdf; name="remittance.pdf"',
    'Content-Disposition: attachment; filename="remittance.pdf"',
    "Content-Transfer-Encoding: base64",
    "",
    btoa("%PDF-1.4\n"),
    "--b1--",
    "",
  ].join("\r\n");
