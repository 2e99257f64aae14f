/**
 * Processing one business event, off the request path (the automation queue's consumer):
 * 1. claim it (a redelivered message finds it claimed or processed, and stops);
 * 2. stop the entity's reminder sequences this event type cancels, and their waiting sends;
 * 3. run every enabled rule for the type whose conditions hold: send now or later, add to a
 *    digest, or start a reminder sequence;
 * 4. start the workflows listing the type in triggerEvents and signal the recipients' open runs
 *    (src/automation/event-workflows.ts);
 * 5. store the communications, digests, sequences and the event's outcome in one D1 batch.
 * A send that cannot be made (no contact, a missing template variable) is recorded in the
 * event's outcome; it never blocks the rule's other recipients or the other rules.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { claimBusinessEvent, enabledRulesFor, markProcessed, releaseBusinessEvent, type BusinessEventRow, type TriggerRuleRow } from "../db/business-events";
import { activeReminderNamed, cancelRemindersOn, insertReminder } from "../db/reminders";
import type { EventOutcome } from "../db/schema";
import { cancelPendingSends, sequenceRow } from "./reminders";
import { forTenant, STALE_CLAIM_MS, type AutomationDeps } from "./deps";
import { digestStatement } from "./digests";
import { dispatch, type AutomatedSend, type SendError } from "./dispatch";
import type { EventRecipient } from "./event";
import { fill, variablesFor } from "./requests";
import { ruleMatches, valueAt, type ReminderActionT, type SendActionT } from "./rule";
import { signalWaitingRuns, startEventWorkflows } from "./event-workflows";

type Plan = { sends: AutomatedSend[]; statements: BatchItem<"sqlite">[]; outcomes: EventOutcome["rules"]; errors: SendError[] };

const withRoles = (recipients: EventRecipient[], roles: string[] | undefined) =>
  roles ? recipients.filter((r) => r.roles?.some((role) => roles.includes(role))) : recipients;

function planSendRule(d: AutomationDeps, e: BusinessEventRow, rule: TriggerRuleRow, action: SendActionT, plan: Plan) {
  const recipients = withRoles(e.recipients, action.roles);
  if (recipients.length === 0) {
    plan.outcomes.push({ ruleId: rule.id, name: rule.name, outcome: action.roles ? `no recipient has the role ${action.roles.join(" or ")}` : "the event has no recipient" });
    return;
  }
  if (action.digest) {
    for (const r of recipients) {
      plan.statements.push(digestStatement(d.db, { tenantId: e.tenantId, ruleId: rule.id, recipient: r, entityType: e.entityType, entityId: e.entityId, data: e.data }, action.digest.windowSeconds, e.receivedAt));
    }
    plan.outcomes.push({ ruleId: rule.id, name: rule.name, outcome: `added to ${recipients.length} digest(s)` });
    return;
  }
  const attachments = [];
  for (const a of action.attachments ?? []) {
    const url = valueAt(e.data, a.urlField);
    if (typeof url !== "string") {
      plan.errors.push({ label: rule.id, field: `data.${a.urlField}`, message: `the rule attaches a file from data.${a.urlField}, which the event does not carry` });
      plan.outcomes.push({ ruleId: rule.id, name: rule.name, outcome: "not sent: attachment URL missing" });
      return;
    }
    attachments.push({ filename: fill(a.filename, e.data), fileUrl: url, ...(a.mimeType ? { mimeType: a.mimeType } : {}) });
  }
  const scheduledAt = action.delaySeconds > 0 ? new Date(e.receivedAt.getTime() + action.delaySeconds * 1000).toISOString() : undefined;
  for (const r of recipients) {
    plan.sends.push({
      label: rule.id,
      createdBy: `system:trigger:${rule.id}`,
      recipient: r,
      step: action,
      base: {
        templateVariables: variablesFor(r, e.data),
        ...(e.entityType && e.entityId ? { entityType: e.entityType, entityId: e.entityId } : {}),
        ...(scheduledAt ? { scheduledAt } : {}),
        ...(attachments.length ? { attachments } : {}),
        metadata: { businessEventId: e.id, triggerRuleId: rule.id },
      },
    });
  }
  plan.outcomes.push({ ruleId: rule.id, name: rule.name, outcome: `sending to ${recipients.length} recipient(s)${scheduledAt ? ` at ${scheduledAt}` : ""}` });
}

async function planReminderRule(d: AutomationDeps, e: BusinessEventRow, rule: TriggerRuleRow, action: ReminderActionT, plan: Plan, now: Date) {
  const recipient = withRoles(e.recipients, action.roles)[0];
  if (!e.entityType || !e.entityId || !recipient) {
    const missing = !e.entityType ? "entityType" : !e.entityId ? "entityId" : "recipient";
    plan.errors.push({ label: rule.id, field: missing, message: `a reminder sequence needs the event's ${missing}` });
    plan.outcomes.push({ ruleId: rule.id, name: rule.name, outcome: `not started: no ${missing}` });
    return;
  }
  if (await activeReminderNamed(d.db, e.tenantId, e.entityType, e.entityId, action.name)) {
    plan.outcomes.push({ ruleId: rule.id, name: rule.name, outcome: `a "${action.name}" sequence is already running for this ${e.entityType}` });
    return;
  }
  const row = sequenceRow(
    e.tenantId,
    {
      name: action.name,
      entityType: e.entityType,
      entityId: e.entityId,
      recipient,
      variables: e.data,
      firstAt: new Date(e.receivedAt.getTime() + action.firstDelaySeconds * 1000),
      schedule: action.schedule,
      steps: action.steps,
      cancelOn: action.cancelOn,
      triggerRuleId: rule.id,
    },
    now,
  );
  // A concurrent event that started the same sequence wins; this insert then does nothing.
  plan.statements.push(insertReminder(d.db, row));
  plan.outcomes.push({ ruleId: rule.id, name: rule.name, outcome: `reminder sequence ${row.id} started` });
}

export async function processEvent(d: AutomationDeps, tenantId: string, eventId: string, now: Date) {
  const e = await claimBusinessEvent(d.db, tenantId, eventId, now, new Date(now.getTime() - STALE_CLAIM_MS));
  if (!e) return { processed: false as const };
  try {
    return await runRules(d, e, now);
  } catch (error) {
    // The outcome batch did not commit (it is one transaction), so nothing was sent: let the
    // queue's retry run the event again now rather than after the claim goes stale.
    await releaseBusinessEvent(d.db, e).run().catch(() => undefined);
    throw error;
  }
}

async function runRules(d: AutomationDeps, e: BusinessEventRow, now: Date) {
  const tenantId = e.tenantId;
  const plan: Plan = { sends: [], statements: [], outcomes: [], errors: [] };
  if (e.entityType && e.entityId) {
    const stopped = await cancelRemindersOn(d.db, tenantId, e.entityType, e.entityId, e.type, now, e.id);
    if (stopped.length) {
      const cancelled = await cancelPendingSends(d.db, d.events, tenantId, stopped.map((s) => s.id), `reminder sequence cancelled by ${e.type}`, now);
      for (const s of stopped) plan.outcomes.push({ ruleId: s.triggerRuleId ?? "", name: s.name, outcome: `reminder sequence ${s.id} cancelled${cancelled ? ` (${cancelled} waiting send(s) cancelled)` : ""}` });
    }
  }
  if (d.env) {
    // Before the outcome batch: both are idempotent (runs keyed by the event's id), so a retry after a failed batch repeats them safely.
    // Signal first: the runs this event starts must not receive it as if it came after them.
    const signalled = await signalWaitingRuns(d.env, e);
    if (signalled) plan.outcomes.push({ ruleId: "workflow-runs", name: e.type, outcome: `signalled ${signalled} open run(s) of the recipients` });
    plan.outcomes.push(...(await startEventWorkflows(d.env, e)));
  }
  const rules = (await enabledRulesFor(d.db, tenantId, e.type)).filter((r) => ruleMatches(r.conditions, e.data));
  for (const rule of rules) {
    if (rule.action.kind === "send") planSendRule(d, e, rule, rule.action, plan);
    else await planReminderRule(d, e, rule, rule.action, plan, now);
  }

  const result = await dispatch(forTenant(d, tenantId, now), plan.sends, (rows, errors) => [
    ...plan.statements,
    markProcessed(d.db, e, { rules: plan.outcomes, communications: rows.map((r) => r.id), errors: [...plan.errors, ...errors].map(({ label, ...rest }) => ({ ruleId: label, ...rest })) }, now),
  ]);
  return { processed: true as const, communications: result.rows.length, errors: plan.errors.length + result.errors.length };
}
