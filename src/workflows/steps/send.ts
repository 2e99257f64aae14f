/**
 * send: one message through the same path as trigger rules and `POST /api/communications/send`
 * (src/automation/dispatch.ts): preferences and routing (`channel: auto` lets the recipient's
 * preferences choose among `channels`), suppressions, quiet hours, quotas, failover, tracking.
 * The communications carry the run's and step's ids. The whole send is one durable step; before
 * sending it looks for communications this run already made for this step, so a retried step
 * (its write landed, its reply was lost) never sends twice.
 */
import { dispatch } from "../../automation/dispatch";
import { variablesFor } from "../../automation/requests";
import type { SendStep as RuleSendStep } from "../../automation/rule";
import { database } from "../../db/client";
import { runCommunications } from "../../db/workflows";
import { CHANNELS } from "../../domain";
import { readConfig } from "../../env";
import { bulkQueues, sendQueues } from "../../pipeline/send-lanes";
import { formatOptions } from "../../templates/format";
import { render } from "../../templates/render";
import type { Step } from "../definition";
import { conditionsHold } from "../facts";
import { durably, stepName, type RunContext, type StepResult, type StepRunner } from "./types";

export type SendStepDef = Extract<Step, { type: "send" }>;

const ruleStep = (ctx: RunContext, s: SendStepDef): RuleSendStep => ({
  // Inline content: stepRequests needs a code for the type; `adjust` swaps it for the content.
  templateCode: s.templateCode ?? ctx.workflow.key,
  channels: s.channel === "auto" ? (s.channels ?? [...CHANNELS]) : [s.channel],
  routing: s.channel === "auto" ? "preferences" : "fixed",
  strategy: "first",
  type: s.messageType ?? s.templateCode ?? ctx.workflow.key,
  priority: s.priority,
});

/** Sends now (no durable wrapper): the send runner and the escalation's follow-up use it. */
export async function sendNow(ctx: RunContext, s: SendStepDef, now = new Date()): Promise<StepResult> {
  if (s.when && !(await conditionsHold(ctx, s.when))) return { outcome: "skipped", output: { reason: "conditions did not hold" } };
  const db = database(ctx.env.DB);
  const earlier = (await runCommunications(db, ctx.tenantId, ctx.runId)).filter((c) => c.stepId === s.id);
  if (earlier.length) return { outcome: "sent", communicationIds: earlier.map((c) => c.id) };
  const variables = { ...variablesFor(ctx.recipient, ctx.data), ...(ctx.actor ? { actor: ctx.actor } : {}) };
  const inline = (text: string) => render(text, variables, "text", formatOptions(ctx.recipient.locale ?? "en", variables));
  const { rows, errors } = await dispatch(
    { db, queue: ctx.bulk ? bulkQueues(ctx.env) : sendQueues(ctx.env), limiter: ctx.env.LIMITER, secret: readConfig(ctx.env).encryptionKey, tenantId: ctx.tenantId, now },
    [
      {
        label: s.id,
        createdBy: null,
        recipient: ctx.recipient,
        step: ruleStep(ctx, s),
        base: { templateVariables: variables, metadata: { workflowKey: ctx.workflow.key, workflowVersion: ctx.workflow.version } },
        row: { workflowRunId: ctx.runId, workflowStepId: s.id },
        adjust: s.content
          ? ({ templateCode: _code, ...req }) => ({ ...req, content: inline(s.content!), ...(s.subject ? { subject: inline(s.subject) } : {}) })
          : undefined,
      },
    ],
    () => [],
  );
  const communicationIds = rows.map((r) => r.id);
  const output = errors.length ? { errors: errors.map((e) => ({ field: "field" in e ? (e.field ?? null) : null, message: e.message })) } : undefined;
  if (!rows.length) return { outcome: "failed", output };
  const outcome = rows.every((r) => r.status === "suppressed") ? "suppressed" : "sent";
  return { outcome, communicationIds, output: { channels: rows.map((r) => r.channel), ...output } };
}

export const runSend: StepRunner<SendStepDef> = (step, ctx, s) => durably(step, stepName(s, "send"), () => sendNow(ctx, s));
