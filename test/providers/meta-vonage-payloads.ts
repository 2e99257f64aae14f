/**
 * Webhook payloads as Meta and Vonage send them, for the provider tests (workerd) and the vendor
 * tests (Node), which also validate them against the providers' OpenAPI schemas.
 */
export const WABA_ID = "102290129340398";
export const PHONE_NUMBER_ID = "106540352242922";
export const DISPLAY_NUMBER = "15550783881";

type WaStatus = { id: string; status: string; recipient?: string; callback?: string; timestamp?: number; errors?: { code: number; title: string }[] };

const waChange = (value: Record<string, unknown>) => ({
  object: "whatsapp_business_account",
  entry: [{ id: WABA_ID, changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: DISPLAY_NUMBER, phone_number_id: PHONE_NUMBER_ID }, ...value } }] }],
});

/** A status webhook with one status object per entry of `statuses`. */
export const waStatuses = (statuses: WaStatus[]) =>
  waChange({
    statuses: statuses.map((s) => ({
      id: s.id,
      status: s.status,
      timestamp: String(s.timestamp ?? Math.floor(Date.now() / 1000)),
      recipient_id: s.recipient ?? "14155550123",
      ...(s.callback ? { biz_opaque_callback_data: s.callback } : {}),
      ...(s.status === "sent" ? { pricing: { billable: true, pricing_model: "PMP", category: "utility" } } : {}),
      ...(s.errors ? { errors: s.errors.map((e) => ({ ...e, message: e.title, error_data: { details: e.title } })) } : {}),
    })),
  });

/** An incoming text message from a customer. */
export const waText = (from: string, body: string) =>
  waChange({
    contacts: [{ profile: { name: "Ann" }, wa_id: from }],
    messages: [{ from, id: `wamid.in-${Math.random().toString(36).slice(2)}`, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body } }],
  });

export const PAGE_ID = "1096348207084150";

/** A Messenger delivery receipt for these message ids. */
export const messengerDelivery = (psid: string, mids: string[], watermark = Date.now()) => ({
  object: "page",
  entry: [{ id: PAGE_ID, time: watermark, messaging: [{ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: watermark, delivery: { mids, watermark } }] }],
});

export const messengerRead = (psid: string, watermark = Date.now()) => ({
  object: "page",
  entry: [{ id: PAGE_ID, time: watermark, messaging: [{ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: watermark, read: { watermark } }] }],
});

/** A Vonage delivery receipt's fields (before signing). */
export const vonageReceipt = (messageId: string, status: string, extra: Record<string, string> = {}): Record<string, string> => ({
  msisdn: "14155550123",
  to: "14155550100",
  "network-code": "310090",
  messageId,
  price: "0.00790000",
  status,
  scts: "2611231405",
  "err-code": "0",
  "api-key": "abcd1234",
  "message-timestamp": "2026-11-23 14:05:12",
  ...extra,
});

/** A Vonage inbound SMS's fields (before signing): each message has its own id, as Vonage gives it. */
export const vonageInbound = (msisdn: string, text: string, messageId = `0A${Array.from(crypto.getRandomValues(new Uint8Array(7)), (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase()}`): Record<string, string> => ({
  msisdn,
  to: "14155550100",
  messageId,
  text,
  type: "text",
  keyword: text.trim().split(/\s+/)[0]!.toUpperCase(),
  "api-key": "abcd1234",
  "message-timestamp": "2026-11-23 14:05:12",
});
