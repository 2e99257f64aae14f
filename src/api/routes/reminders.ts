/**
 * Reminder sequences (`/api/reminders`, seed §6.3): start one for an entity, list them, see each
 * step of one (due, sent with its communications, skipped and why, or cancelled by which event),
 * stop it with DELETE. Trigger rules and workflows' start_reminder steps start them from events.
 */
import { iso } from "../dto";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { jsonBody, queryOf } from "../validate";
import { cancelReminder, getReminder, insertReminder, listReminders, sequenceCommunications, type ReminderRow } from "../../db/reminders";
import { AppError, notFound } from "../../lib/errors";
import { EventRecipient, EventType } from "../../automation/event";
import { cancelPendingSends, durationText, sequenceRow, totalSteps } from "../../automation/reminders";
import { reminderSteps } from "../../automation/reminder-view";
import { ReminderSchedule, scheduleIssue, SendStep } from "../../automation/rule";


export const reminderDto = (r: ReminderRow) => ({
  id: r.id,
  name: r.name,
  entityType: r.entityType,
  entityId: r.entityId,
  recipient: r.recipient,
  variables: r.variables,
  schedule: {
    firstAt: iso(r.firstAt),
    everyDays: r.everyDays,
    offsetsDays: r.offsetsDays,
    every: r.everySeconds !== null && r.offsetsSeconds === null ? durationText(r.everySeconds) : null,
    offsets: r.offsetsSeconds?.map(durationText) ?? null,
    maxSteps: r.maxSteps,
  },
  steps: r.steps,
  cancelOn: r.cancelOn,
  status: r.status,
  stepsSent: r.stepsSent,
  stepCount: totalSteps(r),
  nextAt: iso(r.nextAt),
  triggerRuleId: r.triggerRuleId,
  cancelledAt: iso(r.cancelledAt),
  cancelReason: r.cancelReason,
  cancelledBy: r.cancelledByEventType ? { eventType: r.cancelledByEventType, eventId: r.cancelledByEventId } : null,
  workflowRunId: r.workflowRunId,
  lastError: r.lastError,
  createdAt: iso(r.createdAt),
});

export const CreateReminder = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug").default("reminder"),
    entityType: z.string().min(1).max(50),
    entityId: z.string().min(1).max(255),
    recipient: EventRecipient,
    variables: z.record(z.string(), z.unknown()).default({}),
    /** When the first reminder goes out; now when omitted. */
    firstAt: z.iso.datetime({ offset: true }).optional(),
    schedule: ReminderSchedule,
    steps: z.array(SendStep).min(1).max(20),
    cancelOn: z.array(EventType).max(10).default([]),
  })
  .strict()
  .superRefine((r, ctx) => {
    const issue = scheduleIssue(r.schedule);
    if (issue) ctx.addIssue({ code: "custom", path: ["schedule", issue.path], message: issue.message });
  });

export const ListQuery = z
  .object({
    entityType: z.string().max(50).optional(),
    entityId: z.string().max(255).optional(),
    status: z.enum(["active", "completed", "cancelled"]).optional(),
    name: z.string().max(64).optional(),
    recipientType: z.string().max(64).optional(),
    recipientId: z.string().max(255).optional(),
    triggerRuleId: z.string().max(64).optional(),
    workflowRunId: z.string().max(64).optional(),
    cursor: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();

export const reminders = new Hono<AppEnv>()
  .post("/", async (c) => {
    const input = await jsonBody(c, CreateReminder);
    const now = new Date();
    const row = sequenceRow(c.var.tenantId, { ...input, firstAt: input.firstAt ? new Date(input.firstAt) : now, triggerRuleId: null }, now);
    const [inserted] = await insertReminder(c.var.db, row);
    if (!inserted) throw new AppError("conflict", `a "${input.name}" sequence is already active for ${input.entityType} ${input.entityId}; DELETE it first`);
    return c.json(reminderDto(inserted), 201);
  })
  .get("/", async (c) => {
    const q = queryOf(c, ListQuery);
    const rows = await listReminders(c.var.db, c.var.tenantId, q, q.limit + 1);
    const page = rows.slice(0, q.limit);
    return c.json({ results: page.map(reminderDto), nextCursor: rows.length > q.limit ? page[page.length - 1]!.id : null });
  })
  .get("/:id", async (c) => {
    const row = await getReminder(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!row) throw notFound("reminder sequence");
    const sent = await sequenceCommunications(c.var.db, c.var.tenantId, row.id);
    return c.json({
      ...reminderDto(row),
      steps: reminderSteps(row, sent),
      communications: sent.map((s) => ({ ...s, scheduledAt: iso(s.scheduledAt), createdAt: iso(s.createdAt) })),
    });
  })
  .delete("/:id", async (c) => {
    const { db, tenantId } = c.var;
    const now = new Date();
    const cancelled = await cancelReminder(db, tenantId, c.req.param("id"), "cancelled by DELETE", now);
    if (!cancelled) {
      const row = await getReminder(db, tenantId, c.req.param("id"));
      if (!row) throw notFound("reminder sequence");
      throw new AppError("conflict", `the sequence is already ${row.status}`);
    }
    await cancelPendingSends(db, c.env.EVENT_QUEUE, tenantId, [cancelled.id], "reminder sequence cancelled by DELETE", now);
    return c.json(reminderDto(cancelled));
  });
