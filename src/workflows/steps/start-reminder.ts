/**
 * start_reminder: starts a reminder sequence (src/automation/reminders.ts, run by the cron) for
 * the entity at `entityField`, through the same row builder and insert as POST /api/reminders,
 * so it shows in /api/reminders with the run's id (`workflowRunId`). The entity's type is the
 * payload's `entityType` when given, else the field's name without its `Id` suffix
 * (`data.invoiceId` -> invoice). One active sequence per name and entity: a second start finds
 * the first and says so.
 */
import { sequenceRow } from "../../automation/reminders";
import { valueAt } from "../../automation/rule";
import { database } from "../../db/client";
import { activeReminderNamed, insertReminder } from "../../db/reminders";
import type { Step } from "../definition";
import { durably, stepName, type StepRunner } from "./types";

type StartReminderStep = Extract<Step, { type: "start_reminder" }>;

export const entityTypeOf = (field: string, data: Record<string, unknown>) =>
  typeof data.entityType === "string" && data.entityType ? data.entityType : field.split(".").pop()!.replace(/_?id$/i, "") || "entity";

export const runStartReminder: StepRunner<StartReminderStep> = async (step, ctx, s) =>
  durably(step, stepName(s, "start"), async () => {
    const raw = valueAt(ctx.data, s.entityField.slice("data.".length));
    if (typeof raw !== "string" && typeof raw !== "number") return { outcome: "skipped" as const, output: { reason: `${s.entityField} is missing` } };
    const db = database(ctx.env.DB);
    const entityType = entityTypeOf(s.entityField, ctx.data);
    const entityId = String(raw);
    const running = await activeReminderNamed(db, ctx.tenantId, entityType, entityId, s.name);
    if (running) return { outcome: "skipped" as const, output: { reason: `a "${s.name}" sequence is already active for ${entityType} ${entityId}`, reminderSequenceId: running.id } };
    const now = new Date();
    const row = sequenceRow(
      ctx.tenantId,
      {
        name: s.name,
        entityType,
        entityId,
        recipient: ctx.recipient,
        variables: ctx.data,
        firstAt: now,
        schedule: { every: s.every, maxSteps: s.maxSteps },
        steps: [{ templateCode: s.templateCode, channels: s.channels, routing: s.channels.length > 1 ? "preferences" : "fixed", strategy: "first", priority: "normal" }],
        cancelOn: s.cancelOn,
        triggerRuleId: null,
        workflowRunId: ctx.runId,
      },
      now,
    );
    const [inserted] = await insertReminder(db, row);
    const id = inserted?.id ?? (await activeReminderNamed(db, ctx.tenantId, entityType, entityId, s.name))?.id ?? null;
    return { outcome: "completed" as const, output: { reminderSequenceId: id, entityType, entityId, started: !!inserted } };
  });
