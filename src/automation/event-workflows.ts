/**
 * Business events and workflows (issue 23): an event starts a run of every workflow whose active
 * version lists its type in `triggerEvents`, one per recipient of the event, and it reaches the
 * recipients' open runs, so a run waiting on it (`wait_for_event`) resumes. The runs' idempotency
 * key is the event's id, so the automation queue redelivering the event (or its consumer retrying
 * after a failed batch) finds the same runs instead of starting them twice. A cancelling event's
 * effect on reminder sequences stays in process.ts (by entity); here it resolves waiting runs.
 */
import type { BusinessEventRow } from "../db/business-events";
import { workflowsTriggeredBy } from "../db/workflow-fit";
import type { Env } from "../env";
import { notifyRunsOfEvent, startRuns } from "../workflows/runs";

export type WorkflowOutcome = { ruleId: string; name: string; outcome: string };

/** The event's data as runs see it: its entity too, so start_reminder and templates can use them. */
const runData = (e: BusinessEventRow) => ({ ...e.data, ...(e.entityType && e.entityId ? { entityType: e.entityType, entityId: e.entityId } : {}), eventId: e.id });

export async function startEventWorkflows(env: Env, e: BusinessEventRow): Promise<WorkflowOutcome[]> {
  if (e.recipients.length === 0) return [];
  const workflows = await workflowsTriggeredBy(env.DB, e.tenantId, e.type);
  const outcomes: WorkflowOutcome[] = [];
  for (const w of workflows) {
    const { runs } = await startRuns(env, {
      tenantId: e.tenantId,
      workflowKey: w.key,
      version: w.version,
      recipients: e.recipients,
      data: runData(e),
      actor: null,
      idempotencyKey: `event:${e.id}`,
    });
    outcomes.push({ ruleId: `workflow:${w.key}`, name: w.key, outcome: `started ${runs.length} run(s) of version ${w.version}: ${runs.map((r) => r.id).join(", ")}` });
  }
  return outcomes;
}

/** Resumes the recipients' runs waiting on this event type; returns how many runs were signalled. */
export async function signalWaitingRuns(env: Env, e: BusinessEventRow): Promise<number> {
  let signalled = 0;
  for (const r of e.recipients) signalled += await notifyRunsOfEvent(env, e.tenantId, e.type, { type: r.type, id: r.id ?? null }, { ...e.data, eventId: e.id });
  return signalled;
}
