/**
 * Herald's system templates (seed §7.2 and the common transactional set). Shipped in code so every
 * tenant has them without a migration; a tenant overrides one by creating a template with the same
 * code, channel and locale. They are read-only and cannot be deleted.
 */
import type { Channel } from "../domain";
import type { TemplateContent } from "./content";

export type SystemTemplate = TemplateContent & {
  id: string;
  code: string;
  name: string;
  description: string;
  channel: Channel;
  type: string;
  locale: string;
  availableVariables: string[];
};

const define = (t: Omit<SystemTemplate, "id" | "htmlTemplate" | "textTemplate" | "subjectTemplate"> & Partial<TemplateContent>): SystemTemplate => ({
  subjectTemplate: null,
  htmlTemplate: null,
  textTemplate: null,
  ...t,
  id: `system:${t.code}:${t.channel}:${t.locale}`,
});

const emailFrame = (body: string) =>
  `<div style="font-family:Arial,sans-serif;font-size:15px;line-height:1.5;color:#1f2933;max-width:560px">${body}</div>`;

export const SYSTEM_TEMPLATES: SystemTemplate[] = [
  define({
    code: "invoice_email",
    name: "Invoice email",
    description: "Sends an invoice after a sale, with the PDF attached.",
    channel: "email",
    type: "invoice",
    locale: "en",
    availableVariables: ["customerName", "invoiceNumber", "amount", "businessName", "dueDate", "invoiceUrl"],
    subjectTemplate: "Invoice {{invoiceNumber}} from {{businessName}}",
    bodyTemplate: emailFrame(
      "<p>Dear {{customerName}},</p><p>Your invoice <strong>#{{invoiceNumber}}</strong> for <strong>{{currency amount}}</strong> is attached.</p>" +
        "{{#dueDate}}<p>It is due on {{date dueDate \"long\"}}.</p>{{/dueDate}}" +
        '{{#invoiceUrl}}<p><a href="{{invoiceUrl}}">View your invoice online</a></p>{{/invoiceUrl}}' +
        "<p>Thank you for your business,<br>{{businessName}}</p>",
    ),
  }),
  define({
    code: "invoice_sms",
    name: "SMS invoice",
    description: "Short invoice notice with a link to view and pay (seed §7.2).",
    channel: "sms",
    type: "invoice",
    locale: "en",
    availableVariables: ["customerName", "invoiceNumber", "amount", "shortLink"],
    bodyTemplate: "Hi {{customerName}}, your invoice {{invoiceNumber}} for {{currency amount}} is ready. View & pay: {{shortLink}}",
  }),
  define({
    code: "payment_reminder",
    name: "WhatsApp payment reminder",
    description: "Friendly reminder before an invoice is due (seed §7.2).",
    channel: "whatsapp",
    type: "invoice_reminder",
    locale: "en",
    availableVariables: ["customerName", "invoiceNumber", "amount", "dueDate", "paymentLink"],
    bodyTemplate:
      "Hello {{customerName}}!\nJust a friendly reminder that invoice {{invoiceNumber}} for {{currency amount}} is due on {{date dueDate}}.\nPay securely here: {{paymentLink}}\nThank you! 🙏",
  }),
  define({
    code: "collection_notice",
    name: "Collection notice email",
    description: "Overdue invoice notice for collection sequences.",
    channel: "email",
    type: "collection_notice",
    locale: "en",
    availableVariables: ["customerName", "invoiceNumber", "amount", "daysOverdue", "paymentLink", "businessName"],
    subjectTemplate: "Overdue: invoice {{invoiceNumber}} ({{daysOverdue}} days)",
    bodyTemplate: emailFrame(
      "<p>Dear {{customerName}},</p><p>Our records show that invoice <strong>#{{invoiceNumber}}</strong> for <strong>{{currency amount}}</strong> is {{daysOverdue}} days overdue.</p>" +
        '{{#paymentLink}}<p><a href="{{paymentLink}}">Pay now</a></p>{{/paymentLink}}' +
        "<p>If you have already paid, please disregard this message.</p><p>{{businessName}}</p>",
    ),
  }),
  define({
    code: "payment_link",
    name: "Payment link",
    description: "Sends a secure payment link for an invoice (seed §6.2).",
    channel: "sms",
    type: "payment_link",
    locale: "en",
    availableVariables: ["customerName", "invoiceNumber", "paymentLink"],
    bodyTemplate: "Hi {{customerName}}, pay your invoice {{invoiceNumber}} here: {{paymentLink}}",
  }),
  define({
    code: "payment_link",
    name: "Payment link (WhatsApp)",
    description: "The payment link on WhatsApp, for customers who prefer it (seed §6.2).",
    channel: "whatsapp",
    type: "payment_link",
    locale: "en",
    availableVariables: ["customerName", "invoiceNumber", "paymentLink"],
    bodyTemplate: "Hi {{customerName}}, you can pay invoice {{invoiceNumber}} securely here: {{paymentLink}}",
  }),
  define({
    code: "payment_confirmation",
    name: "Payment confirmation",
    description: "Confirms a payment was received.",
    channel: "email",
    type: "payment_confirmation",
    locale: "en",
    availableVariables: ["customerName", "invoiceNumber", "amount", "paidAt", "businessName"],
    subjectTemplate: "Payment received for invoice {{invoiceNumber}}",
    bodyTemplate: emailFrame(
      "<p>Dear {{customerName}},</p><p>We received your payment of <strong>{{currency amount}}</strong> for invoice #{{invoiceNumber}}{{#paidAt}} on {{date paidAt}}{{/paidAt}}. Thank you!</p><p>{{businessName}}</p>",
    ),
  }),
  define({
    code: "low_stock_alert",
    name: "Low-stock alert",
    description: "Tells inventory managers that items at a location are running low (seed §6.4).",
    channel: "email",
    type: "low_stock_alert",
    locale: "en",
    availableVariables: ["locationName", "itemCount", "items"],
    subjectTemplate: "Low stock at {{locationName}}: {{itemCount}} items",
    bodyTemplate: emailFrame(
      "<p>{{itemCount}} items are running low at <strong>{{locationName}}</strong>.</p>{{#items.length}}<ul>{{#items}}<li>{{name}}: {{quantity}} left</li>{{/items}}</ul>{{/items.length}}",
    ),
  }),
  define({
    code: "low_stock_alert",
    name: "Low-stock alert (SMS)",
    description: "Low-stock alert for managers who prefer SMS (seed §6.4).",
    channel: "sms",
    type: "low_stock_alert",
    locale: "en",
    availableVariables: ["locationName", "itemCount"],
    bodyTemplate: "Low stock at {{locationName}}: {{itemCount}} items are running low.",
  }),
  define({
    code: "welcome",
    name: "Welcome",
    description: "Welcomes a new user.",
    channel: "email",
    type: "welcome",
    locale: "en",
    availableVariables: ["name", "productName", "loginUrl"],
    subjectTemplate: "Welcome to {{productName}}, {{name}}",
    bodyTemplate: emailFrame('<p>Hi {{name}},</p><p>Welcome to {{productName}}! Your account is ready.</p>{{#loginUrl}}<p><a href="{{loginUrl}}">Sign in</a></p>{{/loginUrl}}'),
  }),
  define({
    code: "password_reset",
    name: "Password reset",
    description: "Sends a password reset link.",
    channel: "email",
    type: "password_reset",
    locale: "en",
    availableVariables: ["name", "resetUrl", "expiresInMinutes", "productName"],
    subjectTemplate: "Reset your {{productName}} password",
    bodyTemplate: emailFrame(
      '<p>Hi {{name}},</p><p>Someone asked to reset your password. <a href="{{resetUrl}}">Choose a new password</a>; the link expires in {{expiresInMinutes}} minutes.</p><p>If it was not you, ignore this email.</p>',
    ),
  }),
  define({
    code: "one_time_code",
    name: "One-time code",
    description: "Sends a verification code by SMS.",
    channel: "sms",
    type: "otp",
    locale: "en",
    availableVariables: ["code", "productName", "expiresInMinutes"],
    bodyTemplate: "{{code}} is your {{productName}} verification code. It expires in {{expiresInMinutes}} minutes. Never share it.",
  }),
];

const byId = new Map(SYSTEM_TEMPLATES.map((t) => [t.id, t]));
export const systemTemplate = (id: string) => byId.get(id);
export const systemTemplatesFor = (code: string, channel: Channel) => SYSTEM_TEMPLATES.filter((t) => t.code === code && t.channel === channel);
