import { beforeEach, describe, expect, it, vi } from "vitest";
import { costOf, countryOf, DEFAULT_PRICES } from "../src/channels/pricing";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts, TWILIO, twilioAccepts } from "./helpers";

let key: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
});

async function sendAndDeliver(body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body });
  expect(res.status, res.text).toBe(201);
  await runDelivery(queue.drain().map((m) => m.body));
  return (await call("GET", `/api/communications/${res.json.id}`, { key })).json;
}
const stats = async () => (await call("GET", "/api/communications/stats", { key })).json;
const sms = (to: string, content: string) => ({ channel: "sms", recipientContact: to, content });
const GSM_200 = "A".repeat(200); // two GSM-7 segments (153 + 47)

describe("the price of one send", () => {
  it("counts SMS segments and picks the destination country's rate, else the default", () => {
    const twilio = DEFAULT_PRICES.twilio!.sms!;
    expect(countryOf("+447700123456")).toBe("GB");
    expect(costOf(twilio, { channel: "sms", recipientContact: "+14155550123", content: "hi" })).toEqual({ micros: 8_300, currency: "USD" });
    expect(costOf(twilio, { channel: "sms", recipientContact: "+447700123456", content: GSM_200 })).toEqual({ micros: 104_800, currency: "USD" });
    // UCS-2: 71 characters with an emoji are two segments of 67 code units.
    expect(costOf(twilio, { channel: "sms", recipientContact: "+447700123456", content: "😀" + "a".repeat(69) })).toEqual({ micros: 104_800, currency: "USD" });
    // A country missing from the table (Japan) pays the default rate.
    expect(costOf(twilio, { channel: "sms", recipientContact: "+819012345678", content: "hi" })).toEqual({ micros: 80_000, currency: "USD" });
    expect(costOf(undefined, { channel: "sms", recipientContact: "+14155550123", content: "hi" })).toBeUndefined();
  });
});

describe("cost of delivered communications", () => {
  it("is stored on the detail and summed in stats, for email and SMS at default list prices", async () => {
    await addProvider(key, SENDGRID());
    await addProvider(key, TWILIO());
    mockProviders({ "https://sendgrid.mock": sendgridAccepts(), "https://twilio.mock": twilioAccepts() });

    const mail = await sendAndDeliver({ channel: "email", recipientContact: "ann@example.com", subject: "Hi", content: "Hello" });
    expect(mail).toMatchObject({ status: "sent", cost: { amount: 0.0004, micros: 400, currency: "USD" } });
    const us = await sendAndDeliver(sms("+14155550123", "Your code is 123456"));
    expect(us.cost).toEqual({ amount: 0.0083, micros: 8_300, currency: "USD" });
    const gb = await sendAndDeliver(sms("+447700123456", GSM_200));
    expect(gb.cost).toEqual({ amount: 0.1048, micros: 104_800, currency: "USD" });

    expect((await stats()).cost).toEqual([{ currency: "USD", amount: 0.1135, micros: 113_500, priced: 3, byChannel: { email: 0.0004, sms: 0.1131 } }]);
  });

  it("uses the provider config's own price, per country, and keeps currencies apart in stats", async () => {
    await addProvider(key, SENDGRID());
    await addProvider(key, TWILIO({ settings: { ...TWILIO().settings, price: { currency: "EUR", perSegment: 0.05, byCountry: { FR: { perSegment: 0.07 } } } } }));
    mockProviders({ "https://sendgrid.mock": sendgridAccepts(), "https://twilio.mock": twilioAccepts() });

    expect((await sendAndDeliver(sms("+33612345678", GSM_200))).cost).toEqual({ amount: 0.14, micros: 140_000, currency: "EUR" });
    expect((await sendAndDeliver(sms("+14155550123", "hi"))).cost).toEqual({ amount: 0.05, micros: 50_000, currency: "EUR" });
    await sendAndDeliver({ channel: "email", recipientContact: "ann@example.com", subject: "Hi", content: "Hello" });

    const cost = (await stats()).cost;
    expect(cost).toHaveLength(2);
    expect(cost).toEqual(
      expect.arrayContaining([
        { currency: "EUR", amount: 0.19, micros: 190_000, priced: 2, byChannel: { sms: 0.19 } },
        { currency: "USD", amount: 0.0004, micros: 400, priced: 1, byChannel: { email: 0.0004 } },
      ]),
    );
  });

  it("is not charged for a send that failed", async () => {
    await addProvider(key, TWILIO());
    mockProviders({ "https://twilio.mock": () => Response.json({ code: 21211, message: "invalid To" }, { status: 400 }) });
    const failed = await sendAndDeliver(sms("+14155550123", "hi"));
    expect(failed).toMatchObject({ status: "failed", cost: null });
    expect((await stats()).cost).toEqual([]);
  });

  it("refuses a malformed price with a 422 naming the field", async () => {
    const res = await call("POST", "/api/providers", { key, body: TWILIO({ settings: { ...TWILIO().settings, price: { currency: "euro", perSegment: -1 } } }) });
    expect(res.status).toBe(422);
    expect(res.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(["settings.price.currency", "settings.price.perSegment"]);
  });
});
