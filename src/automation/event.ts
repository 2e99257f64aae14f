/**
 * A business event as the tenant posts it (`POST /api/events`): what happened (`sale.created`,
 * `invoice.overdue`, `payment.received`, `stock.low`…), to which entity, who should hear about it,
 * and the data templates and conditions read. Validated here, at the edge.
 */
import { z } from "zod";
import { LOCALE_PATTERN } from "../templates/locale";

/** Dotted lowercase names: `sale.created`, `stock.low`. */
export const EventType = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, "must be a dotted lowercase name such as sale.created").max(64);

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug (a-z, 0-9, _ . -), at most 64 characters");

/** Someone the event concerns: known to Herald by type and id (preferences), and/or by the contacts given here. */
export const EventRecipient = z
  .object({
    type: slug.default("customer"),
    id: z.string().min(1).max(255).optional(),
    name: z.string().max(255).optional(),
    email: z.string().max(320).optional(),
    phone: z.string().max(32).optional(),
    /** Defaults to `phone`: WhatsApp uses the same number (seed §6.2). */
    whatsapp: z.string().max(32).optional(),
    messengerId: z.string().max(64).optional(),
    locale: z.string().regex(LOCALE_PATTERN, "must be a locale such as en, fr or fr-CA").optional(),
    /** The recipient's roles at the tenant (e.g. inventory_manager); rules may address only some. */
    roles: z.array(slug).max(20).optional(),
  })
  .strict()
  .refine((r) => r.id || r.email || r.phone || r.whatsapp || r.messengerId, { message: "give the recipient an id or a contact (email, phone, whatsapp, messengerId)" });
export type EventRecipient = z.infer<typeof EventRecipient>;

/** Recipients per event: enough for "every user with a role", small enough for one D1 transaction. */
export const MAX_RECIPIENTS = 50;
const MAX_DATA_BYTES = 32_000;

export const BusinessEventInput = z
  .object({
    type: EventType,
    entityType: z.string().min(1).max(50).optional(),
    entityId: z.string().min(1).max(255).optional(),
    recipient: EventRecipient.optional(),
    recipients: z.array(EventRecipient).min(1).max(MAX_RECIPIENTS).optional(),
    data: z.record(z.string(), z.unknown()).default({}),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    idempotencyKey: z.string().min(1).max(255).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.recipient && e.recipients) ctx.addIssue({ code: "custom", path: ["recipients"], message: "give recipient or recipients, not both" });
    if (!!e.entityType !== !!e.entityId) ctx.addIssue({ code: "custom", path: [e.entityType ? "entityId" : "entityType"], message: "give entityType and entityId together" });
    if (JSON.stringify(e.data).length > MAX_DATA_BYTES) ctx.addIssue({ code: "custom", path: ["data"], message: `at most ${MAX_DATA_BYTES} bytes of JSON` });
  });
export type BusinessEventInput = z.infer<typeof BusinessEventInput>;

export const recipientsOf = (e: BusinessEventInput): EventRecipient[] => e.recipients ?? (e.recipient ? [e.recipient] : []);

/** A stable key for "the same recipient" across events: their id when known, else their first contact. */
export const recipientKey = (r: EventRecipient) => `${r.type}/${r.id ?? r.email ?? r.phone ?? r.whatsapp ?? r.messengerId}`;
