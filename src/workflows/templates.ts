/**
 * Ready-made workflows for the seed's four use cases (spec 003): an invoice after a sale, a
 * payment link, collection reminders until paid, and low-stock alerts to one role. A tenant lists
 * them (`GET /api/workflow-templates`) and copies one into its own workflows
 * (`POST /api/workflow-templates/:key/copy`), then edits it like any other. Every definition is
 * checked against WorkflowDefinition by the tests, and uses the system templates
 * (src/templates/system.ts), so a copy runs without writing a template first.
 */
import type { z } from "zod";
import type { WorkflowDefinition } from "./definition";

export type WorkflowTemplate = { key: string; useCase: string; definition: z.input<typeof WorkflowDefinition> };

export const WORKFLOW_TEMPLATES: WorkflowTemplate[] = [
  {
    key: "invoice-after-sale",
    useCase: "Send the invoice when a sale is made; if the email is not opened within a day, send it by SMS.",
    definition: {
      name: "Invoice after a sale",
      description: "sale.created -> invoice email; SMS if not opened within 1 day.",
      triggerEvents: ["sale.created"],
      steps: [
        { type: "send", id: "invoice-email", channel: "email", templateCode: "invoice_email", messageType: "invoice" },
        {
          type: "escalate",
          id: "invoice-sms-fallback",
          after: "invoice-email",
          within: "1d",
          unless: "opened",
          send: { type: "send", id: "invoice-sms", channel: "sms", templateCode: "invoice_sms", messageType: "invoice" },
        },
      ],
    },
  },
  {
    key: "payment-link",
    useCase: "Send a payment link on the customer's preferred channel; confirm when paid, remind once if not paid within 3 days.",
    definition: {
      name: "Payment link",
      description: "payment_link.requested -> link by WhatsApp or SMS; confirmation on payment.received, one reminder after 3 days.",
      triggerEvents: ["payment_link.requested"],
      steps: [
        { type: "send", id: "link", channel: "auto", channels: ["whatsapp", "sms", "email"], templateCode: "payment_link", messageType: "payment_link" },
        {
          type: "wait_for_event",
          id: "wait-paid",
          event: "payment.received",
          timeout: "3d",
          onEvent: [{ type: "send", id: "confirmation", channel: "email", templateCode: "payment_confirmation", messageType: "payment_confirmation" }],
          onTimeout: [{ type: "send", id: "reminder", channel: "auto", channels: ["whatsapp", "sms", "email"], templateCode: "payment_reminder", messageType: "payment_reminder" }],
        },
      ],
    },
  },
  {
    key: "collection-until-paid",
    useCase: "When an invoice is overdue, remind every 3 days (up to 5 times) until a payment event stops the sequence; confirm the payment.",
    definition: {
      name: "Collection reminders until paid",
      description: "invoice.overdue -> reminder sequence every 3 days, stopped by payment.received or invoice.paid.",
      triggerEvents: ["invoice.overdue"],
      steps: [
        {
          type: "start_reminder",
          id: "collection",
          name: "collection",
          entityField: "data.invoiceId",
          templateCode: "collection_notice",
          channels: ["email"],
          every: "3d",
          maxSteps: 5,
          cancelOn: ["payment.received", "invoice.paid", "invoice.voided"],
        },
        {
          type: "wait_for_event",
          id: "wait-paid",
          event: "payment.received",
          timeout: "30d",
          onEvent: [{ type: "send", id: "paid", channel: "email", templateCode: "payment_confirmation", messageType: "payment_confirmation" }],
          onTimeout: [],
        },
      ],
    },
  },
  {
    key: "low-stock-by-role",
    useCase: "Alert the inventory managers among the event's recipients when stock is low, one digest per warehouse per hour.",
    definition: {
      name: "Low-stock alerts by role",
      description: "stock.low -> recipients with the role inventory_manager; events of the same warehouse within an hour become one alert.",
      triggerEvents: ["stock.low"],
      steps: [
        {
          type: "branch",
          id: "by-role",
          paths: [
            {
              when: [{ field: "recipient.roles", op: "contains", value: "inventory_manager" }],
              steps: [
                { type: "digest", id: "per-warehouse", key: "data.warehouseId", window: "1h" },
                { type: "send", id: "alert", channel: "auto", channels: ["email", "sms"], templateCode: "low_stock_alert", messageType: "low_stock_alert" },
              ],
            },
          ],
          otherwise: [],
        },
      ],
    },
  },
];

export const workflowTemplate = (key: string) => WORKFLOW_TEMPLATES.find((t) => t.key === key);
