/**
 * Trigger rules (`/api/triggers`): an event type plus optional conditions on the event's data,
 * and what to do when one matches — send a template on some channels (or on the channels the
 * recipient prefers for this type), possibly later or collapsed into a digest, or start a reminder
 * sequence for the event's entity. Conditions are pure functions of the event's data.
 */
import { z } from "zod";
import { Channel, Priority } from "../domain";
import { EventType } from "./event";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug (a-z, 0-9, _ . -), at most 64 characters");
/** Dotted path into the event's data: `amount`, `customer.segment`, `items.0.sku`. */
const DataPath = z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, "must be a dotted path into the event's data, e.g. customer.segment").max(200);

/** `contains`: an array field holds the value (recipient.roles contains inventory_manager), or a string field the substring. */
const OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists", "not_exists"] as const;
export const RuleCondition = z
  .object({ field: DataPath, op: z.enum(OPS), value: z.unknown().optional() })
  .strict()
  .superRefine((c, ctx) => {
    const needsValue = c.op !== "exists" && c.op !== "not_exists";
    if (needsValue && c.value === undefined) ctx.addIssue({ code: "custom", path: ["value"], message: `"${c.op}" needs a value` });
    if (c.op === "in" && !Array.isArray(c.value)) ctx.addIssue({ code: "custom", path: ["value"], message: '"in" needs an array' });
    if (["gt", "gte", "lt", "lte"].includes(c.op) && typeof c.value !== "number" && typeof c.value !== "string") {
      ctx.addIssue({ code: "custom", path: ["value"], message: `"${c.op}" compares numbers or strings` });
    }
  });
export type RuleCondition = z.infer<typeof RuleCondition>;

/** One message: a template on channels. `preferences` routes among them by the recipient's preferences for the type. */
export const SendStep = z
  .object({
    templateCode: slug,
    channels: z.array(Channel).min(1).max(5),
    routing: z.enum(["fixed", "preferences"]).default("fixed"),
    strategy: z.enum(["all", "first"]).default("all"),
    /** The message type preferences and stats see; defaults to the template's code. */
    type: slug.optional(),
    priority: Priority.default("normal"),
  })
  .strict();
export type SendStep = z.infer<typeof SendStep>;

/** An attachment fetched by the provider from a URL in the event (the invoice PDF). */
const AttachmentFromEvent = z
  .object({
    urlField: DataPath,
    /** `{{name}}` placeholders are filled from the event's data: `invoice-{{invoiceNumber}}.pdf`. */
    filename: z.string().min(1).max(255),
    mimeType: z.string().max(100).optional(),
  })
  .strict();

const Roles = z.array(slug).min(1).max(20);

const SendAction = SendStep.extend({
  kind: z.literal("send"),
  /** Seconds after the event was received before sending. */
  delaySeconds: z.number().int().min(0).max(30 * 86400).default(0),
  attachments: z.array(AttachmentFromEvent).max(10).optional(),
  /** Only the event's recipients with one of these roles. */
  roles: Roles.optional(),
  /** Collapse this rule's events for one recipient within the window into one message. */
  digest: z.object({ windowSeconds: z.number().int().min(60).max(86400) }).strict().optional(),
}).strict();

/**
 * Reminder spacing as a duration (`30m`, `2h`, `3d`). Kept apart from the workflow definition's
 * Duration (which imports this module) so the two modules do not import each other; the cron
 * runs every minute, so a minute is the finest spacing that means anything.
 */
export const ReminderDuration = z.string().regex(/^(0|[1-9]\d{0,5})(s|m|h|d)$/, "must be a duration such as 30m, 2h or 3d");
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
export const reminderSeconds = (d: string) => Number(d.slice(0, -1)) * UNIT_SECONDS[d.slice(-1) as keyof typeof UNIT_SECONDS];
export const MIN_REMINDER_SECONDS = 60;
const MAX_REMINDER_SECONDS = 365 * 86400;

export const ReminderSchedule = z
  .object({
    /** Days between reminders after the first… */
    everyDays: z.number().int().min(1).max(365).optional(),
    /** …or days after the first for each reminder, the first included: [0, 3, 7, 14]… */
    offsetsDays: z.array(z.number().int().min(0).max(365)).min(1).max(20).optional(),
    /** …or a duration between reminders: `2h`… */
    every: ReminderDuration.optional(),
    /** …or durations after the first for each reminder, the first included: ["0m", "2h", "1d"]. */
    offsets: z.array(ReminderDuration).min(1).max(20).optional(),
    maxSteps: z.number().int().min(1).max(20),
  })
  .strict();

const ReminderAction = z
  .object({
    kind: z.literal("reminder"),
    /** The sequence's name within its entity, e.g. collection. */
    name: slug,
    /** Seconds after the event was received before the first reminder. */
    firstDelaySeconds: z.number().int().min(0).max(365 * 86400).default(0),
    schedule: ReminderSchedule,
    /** Step i uses steps[i], the last one repeating. */
    steps: z.array(SendStep).min(1).max(20),
    cancelOn: z.array(EventType).max(10).default([]),
    roles: Roles.optional(),
  })
  .strict();

export const RuleAction = z.discriminatedUnion("kind", [SendAction, ReminderAction]);
export type RuleAction = z.infer<typeof RuleAction>;
export type SendActionT = z.infer<typeof SendAction>;
export type ReminderActionT = z.infer<typeof ReminderAction>;

/** Checks a schedule's shape that zod's per-field checks cannot. */
export function scheduleIssue(s: z.infer<typeof ReminderSchedule>): { path: string; message: string } | undefined {
  const given = (["everyDays", "offsetsDays", "every", "offsets"] as const).filter((k) => s[k] !== undefined);
  if (given.length !== 1) return { path: given[0] ?? "everyDays", message: "give one of every, offsets, everyDays or offsetsDays" };
  if (s.every !== undefined) {
    const sec = reminderSeconds(s.every);
    if (sec < MIN_REMINDER_SECONDS) return { path: "every", message: "must be at least 1m (the reminder cron runs every minute)" };
    if (sec > MAX_REMINDER_SECONDS) return { path: "every", message: "must be at most 365d" };
  }
  const offsets = s.offsets?.map(reminderSeconds) ?? s.offsetsDays;
  if (offsets?.some((d, i) => i > 0 && d <= offsets[i - 1]!)) return { path: s.offsets ? "offsets" : "offsetsDays", message: "must be increasing" };
  if (s.offsets && offsets!.at(-1)! > MAX_REMINDER_SECONDS) return { path: "offsets", message: "must stay within 365d of the first reminder" };
  return undefined;
}

export const TriggerRuleInput = z
  .object({
    name: z.string().min(1).max(100),
    eventType: EventType,
    conditions: z.array(RuleCondition).max(10).default([]),
    action: RuleAction,
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.action.kind === "reminder") {
      const issue = scheduleIssue(r.action.schedule);
      if (issue) ctx.addIssue({ code: "custom", path: ["action", "schedule", issue.path], message: issue.message });
      if (!r.action.cancelOn.length) return;
      if (r.action.cancelOn.includes(r.eventType)) ctx.addIssue({ code: "custom", path: ["action", "cancelOn"], message: "a sequence cannot be cancelled by the event that starts it" });
    }
  });
export type TriggerRuleInput = z.infer<typeof TriggerRuleInput>;

/** Reads a dotted path from the event's data. */
export function valueAt(data: unknown, path: string): unknown {
  let v: unknown = data;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const compare = (a: unknown, b: unknown): number | undefined => {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  // Amounts often arrive as strings ("120.50"): compare them as numbers when both are numeric.
  const [x, y] = [Number(a), Number(b)];
  return (typeof a === "string" || typeof a === "number") && !Number.isNaN(x) && !Number.isNaN(y) ? x - y : undefined;
};

export function conditionHolds(c: RuleCondition, data: Record<string, unknown>): boolean {
  const v = valueAt(data, c.field);
  switch (c.op) {
    case "exists":
      return v !== undefined && v !== null;
    case "not_exists":
      return v === undefined || v === null;
    case "eq":
      return JSON.stringify(v) === JSON.stringify(c.value);
    case "ne":
      return JSON.stringify(v) !== JSON.stringify(c.value);
    case "in":
      return (c.value as unknown[]).some((x) => JSON.stringify(x) === JSON.stringify(v));
    case "contains":
      if (Array.isArray(v)) return v.some((x) => JSON.stringify(x) === JSON.stringify(c.value));
      return typeof v === "string" && typeof c.value === "string" && v.includes(c.value);
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const d = compare(v, c.value);
      if (d === undefined) return false;
      return c.op === "gt" ? d > 0 : c.op === "gte" ? d >= 0 : c.op === "lt" ? d < 0 : d <= 0;
    }
  }
}

export const ruleMatches = (conditions: RuleCondition[], data: Record<string, unknown>) => conditions.every((c) => conditionHolds(c, data));
