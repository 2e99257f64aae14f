/** The seed's four workflows (§6.1–6.4), each enabled as a preset and driven by the event that triggers it. */
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { communications, cron, DAY, deliver, event, postEvent, processEvents, sandboxTenant, trigger, type Capture } from "./fixtures";

let key: string;
let q: Capture;

beforeEach(async () => {
  ({ key, q } = await sandboxTenant(["email", "sms", "whatsapp"]));
});

it("lists the four presets", async () => {
  const res = await call("GET", "/api/triggers/presets", { key });
  expect(res.json.results.map((p: { code: string }) => p.code)).toEqual(["invoice_email_on_sale", "payment_link", "collection_reminders", "low_stock_alert"]);
});

describe("invoice email on sale (§6.1)", () => {
  it("emails the invoice with the PDF from the event attached, linked to the sale", async () => {
    await trigger(key, { preset: "invoice_email_on_sale" });
    await postEvent(key, {
      type: "sale.created",
      entityType: "sale",
      entityId: "sale-42",
      recipient: { type: "customer", id: "cus-1", name: "Jane Doe", email: "Jane@Example.com" },
      data: { invoiceNumber: "INV-42", amount: 120.5, businessName: "Acme", invoicePdfUrl: "https://files.acme.test/inv-42.pdf" },
    });
    await processEvents(q);
    const [c] = await communications(key);
    expect(c).toMatchObject({
      channel: "email",
      type: "invoice",
      recipientContact: "jane@example.com",
      subject: "Invoice INV-42 from Acme",
      templateId: "system:invoice_email:email:en",
      entityType: "sale",
      entityId: "sale-42",
      attachments: [{ filename: "invoice-INV-42.pdf", fileUrl: "https://files.acme.test/inv-42.pdf", mimeType: "application/pdf" }],
    });
    expect(c!.content).toContain("Dear Jane Doe");
    expect(c!.content).toContain("$120.50");
    await deliver(q);
    expect((await communications(key))[0]!.status).toBe("delivered");
  });
});

describe("payment link (§6.2)", () => {
  it("goes by WhatsApp to a customer who prefers it, and by SMS to one Herald knows nothing about", async () => {
    await call("PATCH", "/api/communication-preferences/customer/cus-wa", {
      key,
      body: { preferredWhatsapp: "+14155550111", preferences: { payment_link: ["whatsapp"] } },
    });
    await trigger(key, { preset: "payment_link" });
    const data = { invoiceNumber: "INV-7", paymentLink: "https://pay.acme.test/p/abc" };
    await postEvent(key, { type: "payment_link.requested", entityType: "invoice", entityId: "inv-7", recipient: { id: "cus-wa", name: "Wanda", phone: "+14155550111" }, data });
    await postEvent(key, { type: "payment_link.requested", entityType: "invoice", entityId: "inv-8", recipient: { id: "cus-sms", name: "Sam", phone: "+14155550122" }, data: { ...data, invoiceNumber: "INV-8" } });
    await processEvents(q);
    const sent = await communications(key);
    expect(sent.map((c) => [c.recipientId, c.channel, c.recipientContact]).sort()).toEqual([
      ["cus-sms", "sms", "+14155550122"],
      ["cus-wa", "whatsapp", "+14155550111"],
    ]);
    expect(sent.find((c) => c.channel === "sms")!.content).toBe("Hi Sam, pay your invoice INV-8 here: https://pay.acme.test/p/abc");
  });
});

describe("collection reminders (§6.3)", () => {
  it("remind on schedule until payment.received for the invoice cancels the sequence", async () => {
    await trigger(key, { preset: "collection_reminders" });
    const t0 = Date.now();
    const dueDate = new Date(t0 - 3 * DAY).toISOString();
    const invoice = { entityType: "accountsReceivableInvoice", entityId: "inv-9" };
    const { id } = await postEvent(key, {
      type: "invoice.overdue",
      ...invoice,
      recipient: { id: "cus-1", name: "Jane", email: "jane@example.com" },
      data: { invoiceNumber: "INV-9", amount: 300, dueDate, businessName: "Acme", paymentLink: "https://pay.acme.test/9" },
    });
    await processEvents(q);
    expect((await event(key, id)).outcome.rules[0].outcome).toMatch(/reminder sequence .* started/);
    const [seq] = (await call("GET", `/api/reminders?entityType=${invoice.entityType}&entityId=inv-9`, { key })).json.results;
    expect(seq).toMatchObject({ name: "collection", status: "active", stepsSent: 0, stepCount: 3 });

    await cron(t0 + 60_000);
    let sent = await communications(key, "&entityType=accountsReceivableInvoice&entityId=inv-9");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: "collection_notice", subject: "Overdue: invoice INV-9 (3 days)" });

    await cron(t0 + 60_000 + 7 * DAY);
    sent = await communications(key, "&entityType=accountsReceivableInvoice&entityId=inv-9");
    expect(sent).toHaveLength(2);
    expect(sent.map((c) => c.subject)).toContain("Overdue: invoice INV-9 (10 days)");

    const paid = await postEvent(key, { type: "payment.received", ...invoice, data: { amount: 300 } });
    await processEvents(q);
    expect((await event(key, paid.id)).outcome.rules[0].outcome).toMatch(/cancelled/);
    expect((await call("GET", `/api/reminders/${seq.id}`, { key })).json).toMatchObject({ status: "cancelled", cancelReason: "cancelled by payment.received", stepsSent: 2, nextAt: null });

    await cron(t0 + 60_000 + 14 * DAY);
    expect(await communications(key, "&entityType=accountsReceivableInvoice&entityId=inv-9")).toHaveLength(2);
  });

  it("start once per invoice however often invoice.overdue arrives", async () => {
    await trigger(key, { preset: "collection_reminders" });
    const body = { type: "invoice.overdue", entityType: "invoice", entityId: "inv-1", recipient: { id: "c", email: "c@example.com" }, data: { invoiceNumber: "1", amount: 1, daysOverdue: 1, businessName: "A" } };
    const a = await postEvent(key, body);
    await processEvents(q);
    const b = await postEvent(key, body);
    await processEvents(q);
    expect((await event(key, a.id)).outcome.rules[0].outcome).toMatch(/started/);
    expect((await event(key, b.id)).outcome.rules[0].outcome).toMatch(/already running/);
    expect((await call("GET", "/api/reminders?entityId=inv-1", { key })).json.results).toHaveLength(1);
  });
});

describe("low-stock alerts (§6.4)", () => {
  it("reach every recipient with the role, on their channel, and no one else", async () => {
    await trigger(key, { preset: "low_stock_alert" });
    const { id } = await postEvent(key, {
      type: "stock.low",
      entityType: "lowStockAlert",
      entityId: "alert-1",
      recipients: [
        { type: "user", id: "u1", name: "Ines", email: "ines@acme.test", roles: ["inventory_manager"] },
        { type: "user", id: "u2", name: "Carl", email: "carl@acme.test", roles: ["cashier"] },
        { type: "user", id: "u3", name: "Mo", phone: "+14155550133", roles: ["inventory_manager", "owner"] },
      ],
      data: { locationName: "Main St", itemCount: 2, items: [{ name: "Flour", quantity: 3 }, { name: "Salt", quantity: 1 }] },
    });
    await processEvents(q);
    const sent = await communications(key);
    expect(sent.map((c) => [c.recipientId, c.channel]).sort()).toEqual([
      ["u1", "email"],
      ["u3", "sms"],
    ]);
    expect(sent.find((c) => c.channel === "email")!.content).toContain("<li>Flour: 3 left</li>");
    expect(sent.find((c) => c.channel === "sms")!.content).toBe("Low stock at Main St: 2 items are running low.");
    expect((await event(key, id)).outcome.communications).toHaveLength(2);
  });
});
