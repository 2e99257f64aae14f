/**
 * The Cloudflare Workflows class behind every workflow run (bindings JOURNEYS and JOURNEYS_BULK,
 * the same class): one instance per run. Params carry only identities; the run loads the steps of
 * the version it was started on (so publishing a new version never changes a run in flight),
 * walks them with the interpreter and records its end status in D1.
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import type { Env } from "../env";
import { runSteps } from "./interpreter";
import { loadRun, d1RunStore, finishRun, type LoadedRun } from "./run-store";
import { durably, type RunContext } from "./steps/types";

export type JourneyParams = { runId: string; tenantId: string; workflowKey: string; version: number };

export class JourneyWorkflow extends WorkflowEntrypoint<Env, JourneyParams> {
  override async run(event: Readonly<WorkflowEvent<JourneyParams>>, step: WorkflowStep) {
    const p = event.payload;
    const loaded = await durably<LoadedRun | null>(step, "run:load", () => loadRun(this.env, p));
    if (!loaded) return { status: "failed", reason: "run or version not found" };
    const ctx: RunContext = {
      env: this.env,
      tenantId: p.tenantId,
      runId: p.runId,
      workflow: { key: p.workflowKey, version: p.version },
      recipient: loaded.recipient,
      data: loaded.data,
      actor: loaded.actor,
      // Absent in runs loaded before the field existed: those were all transactional.
      bulk: loaded.bulk ?? false,
      outcomes: new Map(),
    };
    const status = await runSteps(step, ctx, loaded.steps, d1RunStore);
    await durably(step, "run:end", () => finishRun(this.env, p, status));
    return { status };
  }
}
