/**
 * The seed's four workflows (§6.1–6.4), shipped as ready-made trigger rules. A tenant enables one
 * with `POST /api/triggers { "preset": "<code>" }`, optionally overriding the event type,
 * conditions or action; the result is an ordinary rule it can edit or disable.
 */
import type { TriggerRuleInput } from "./rule";

export type Preset = { code: string; description: string; rule: TriggerRuleInput };

export const PRESETS: Preset[] = [
  {
    code: "invoice_email_on_sale",
    description: "§6.1: on sale.created, email the customer the invoice with its PDF attached (data.invoicePdfUrl).",
    rule: {
      name: "Invoice email after a sale",
      eventType: "sale.created",
      conditions: [],
      enabled: true,
      action: {
        kind: "send",
        templateCode: "invoice_email",
        channels: ["email"],
        routing: "fixed",
        strategy: "all",
        type: "invoice",
        priority: "normal",
        delaySeconds: 0,
        attachments: [{ urlField: "invoicePdfUrl", filename: "invoice-{{invoiceNumber}}.pdf", mimeType: "application/pdf" }],
      },
    },
  },
  {
    code: "payment_link",
    description: "§6.2: on payment_link.requested, text the customer a payment link by SMS or WhatsApp, whichever they prefer.",
    rule: {
      name: "Payment link by SMS or WhatsApp",
      eventType: "payment_link.requested",
      conditions: [],
      enabled: true,
      action: {
        kind: "send",
        templateCode: "payment_link",
        channels: ["sms", "whatsapp"],
        routing: "preferences",
        strategy: "first",
        type: "payment_link",
        priority: "normal",
        delaySeconds: 0,
      },
    },
  },
  {
    code: "collection_reminders",
    description: "§6.3: on invoice.overdue, email collection notices every 7 days, at most 3, until payment.received for the invoice.",
    rule: {
      name: "Collection reminders for overdue invoices",
      eventType: "invoice.overdue",
      conditions: [],
      enabled: true,
      action: {
        kind: "reminder",
        name: "collection",
        firstDelaySeconds: 0,
        schedule: { everyDays: 7, maxSteps: 3 },
        steps: [{ templateCode: "collection_notice", channels: ["email"], routing: "preferences", strategy: "all", type: "collection_notice", priority: "normal" }],
        cancelOn: ["payment.received", "invoice.paid", "invoice.voided"],
      },
    },
  },
  {
    code: "low_stock_alert",
    description: "§6.4: on stock.low, alert every recipient the event carries with the inventory_manager role, on their preferred channels (email otherwise).",
    rule: {
      name: "Low-stock alerts to inventory managers",
      eventType: "stock.low",
      conditions: [],
      enabled: true,
      action: {
        kind: "send",
        templateCode: "low_stock_alert",
        channels: ["email", "sms"],
        routing: "preferences",
        strategy: "all",
        type: "low_stock_alert",
        priority: "normal",
        delaySeconds: 0,
        roles: ["inventory_manager"],
      },
    },
  },
];

export const presetByCode = (code: string) => PRESETS.find((p) => p.code === code);
