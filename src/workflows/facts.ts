/**
 * What a run's conditions read (`data.*`, `recipient.*`, `actor.*`, `preferences.<type>.<channel>`,
 * `steps.<id>.outcome`), assembled when a step needs it. Outcomes of earlier sends are read
 * fresh from their communications (status, opens, clicks, in-app reads: reading an inbox item
 * marks its communication opened), because a message delivered or read while the run slept is
 * exactly what a branch or an escalation asks about.
 */
import { conditionHolds, type RuleCondition } from "../automation/rule";
import { database } from "../db/client";
import { getPreference } from "../db/preferences";
import { tenantSettings } from "../db/tenants";
import { runCommunications } from "../db/workflows";
import type { Channel, CommunicationStatus } from "../domain";
import { blockedBecause, policyOf } from "../preferences/policy";
import type { StepOutcome } from "./definition";
import type { RunContext } from "./steps/types";

type Sent = { channel: Channel; status: CommunicationStatus; openedAt: Date | null; clickedAt: Date | null };

/** Engagement order: an escalation's `unless` is reached at its rank or above. */
const RANK: Partial<Record<StepOutcome, number>> = { sent: 1, delivered: 2, opened: 3, read: 4, clicked: 5 };
export const reached = (outcome: StepOutcome | undefined, unless: StepOutcome) => (RANK[outcome ?? "failed"] ?? 0) >= (RANK[unless] ?? 99);

export function outcomeOfOne(c: Sent): StepOutcome {
  if (c.clickedAt) return "clicked";
  if (c.openedAt) return c.channel === "in_app" ? "read" : "opened";
  switch (c.status) {
    case "delivered":
      return "delivered";
    case "opened":
      return c.channel === "in_app" ? "read" : "opened";
    case "clicked":
      return "clicked";
    case "bounced":
    case "failed":
    case "cancelled":
      return "failed";
    case "suppressed":
      return "suppressed";
    case "scheduled":
    case "queued":
    case "sending":
    case "sent":
      return "sent";
  }
}

/** A step's outcome over all its communications: the furthest any of them got. */
export function outcomeOfMany(sent: Sent[]): StepOutcome | undefined {
  if (!sent.length) return undefined;
  const outcomes = sent.map(outcomeOfOne);
  const engaged = outcomes.filter((o) => RANK[o]).sort((a, b) => RANK[b]! - RANK[a]!);
  return engaged[0] ?? (outcomes.includes("failed") ? "failed" : outcomes[0]);
}

/** Fresh outcomes of every step of the run that sent something, by step id. */
export async function freshOutcomes(ctx: RunContext): Promise<Record<string, StepOutcome>> {
  const rows = await runCommunications(database(ctx.env.DB), ctx.tenantId, ctx.runId);
  const byStep = new Map<string, Sent[]>();
  for (const r of rows) if (r.stepId) byStep.set(r.stepId, [...(byStep.get(r.stepId) ?? []), r]);
  const out: Record<string, StepOutcome> = {};
  for (const [id, rec] of ctx.outcomes) out[id] = rec.outcome;
  for (const [id, sent] of byStep) out[id] = outcomeOfMany(sent) ?? out[id]!;
  return out;
}

const PREF = /^preferences\.([a-z][a-z0-9_.-]*)\.(email|sms|whatsapp|messenger|push|in_app|slack|teams|discord|telegram)$/;

async function preferenceFacts(ctx: RunContext, conditions: RuleCondition[]) {
  const asked = conditions.map((c) => PREF.exec(c.field)).filter((m): m is RegExpExecArray => !!m);
  if (!asked.length || !ctx.recipient.id) return {};
  const db = database(ctx.env.DB);
  const [pref, settings] = await Promise.all([
    getPreference(db, ctx.tenantId, { entityType: ctx.recipient.type, entityId: ctx.recipient.id }).get(),
    tenantSettings(db, ctx.tenantId).get(),
  ]);
  const policy = policyOf(settings?.settings ?? null);
  const facts: Record<string, Record<string, boolean>> = {};
  for (const [, type, channel] of asked) (facts[type!] ??= {})[channel!] = blockedBecause(pref, policy, channel as Channel, type!) === undefined;
  return facts;
}

/** Whether every condition holds for this run now. */
export async function conditionsHold(ctx: RunContext, conditions: RuleCondition[]): Promise<boolean> {
  if (!conditions.length) return true;
  const needsSteps = conditions.some((c) => c.field.startsWith("steps."));
  const outcomes = needsSteps ? await freshOutcomes(ctx) : {};
  const facts = {
    data: ctx.data,
    recipient: ctx.recipient,
    actor: ctx.actor ?? {},
    preferences: await preferenceFacts(ctx, conditions),
    steps: Object.fromEntries(Object.entries(outcomes).map(([id, outcome]) => [id, { outcome }])),
  };
  return conditions.every((c) => conditionHolds(c, facts));
}
