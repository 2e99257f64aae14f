/**
 * Workflows (issue 23): keyed journeys with immutable versions (PUT publishes a new one and makes
 * it active; activate rolls back), triggers for up to 1,000 recipients or a whole audience (a
 * fan-out: src/workflows/fanout.ts), and the runs they start.
 * Runs execute in Cloudflare Workflows (src/workflows/engine.ts); this file only validates,
 * stores and reads.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { iso } from "../dto";
import { audit, recordAudit } from "../audit";
import { jsonBody, optionalJson, parseWith, queryOf } from "../validate";
import { isUniqueViolation } from "../../db/client";
import { RUN_STATUSES } from "../../db/schema/workflows";
import {
  getRun,
  getVersion,
  getWorkflow,
  getWorkflowRow,
  insertVersion,
  insertWorkflow,
  listRuns,
  listVersions,
  listWorkflows,
  maxVersion,
  publishVersion,
  stepsOfRuns,
  updateWorkflow,
  type WorkflowRunRow,
  type WorkflowRunStepRow,
  type WorkflowWithVersion,
} from "../../db/workflows";
import { EventRecipient } from "../../automation/event";
import { AppError, notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { WorkflowDefinition, WorkflowKey } from "../../workflows/definition";
import { cancelRun, cancelRuns, MAX_TRIGGER_RECIPIENTS, startRuns } from "../../workflows/runs";
import { startFanout } from "../../workflows/fanout";
import { getAudience } from "../../db/audiences";
import { getFanout, type WorkflowFanoutRow } from "../../db/workflow-fanouts";

const CreateWorkflow = z.object({ key: WorkflowKey }).passthrough();
/** The create body as documented: the key plus a definition (the route checks them in that order). */
export const CreateWorkflowDoc = z.object({ key: WorkflowKey, ...WorkflowDefinition.shape }).strict();
export const CancelRuns = z.object({ cancellationKey: z.string().min(1).max(255) }).strict();
/** The by-id cancel's optional body: why, kept on the run as `cancelReason`. */
export const CancelRun = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();

export const TriggerInput = z
  .object({
    recipients: z.array(EventRecipient).min(1).max(MAX_TRIGGER_RECIPIENTS).optional(),
    audienceId: z.string().min(1).max(64).optional(),
    data: z.record(z.string(), z.unknown()).default({}),
    actor: z.object({ type: z.string().min(1).max(50), id: z.string().min(1).max(255), name: z.string().max(255).optional() }).strict().optional(),
    idempotencyKey: z.string().min(1).max(255).optional(),
    cancellationKey: z.string().min(1).max(255).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (!!t.recipients === !!t.audienceId) ctx.addIssue({ code: "custom", path: ["recipients"], message: "give recipients or audienceId (exactly one)" });
    if (JSON.stringify(t.data).length > 32_000) ctx.addIssue({ code: "custom", path: ["data"], message: "at most 32000 bytes of JSON" });
  });

export const RunsQuery = z
  .object({
    status: z.enum(RUN_STATUSES).optional(),
    recipientType: z.string().max(64).optional(),
    recipientId: z.string().max(255).optional(),
    cursor: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();

export const workflowDto = ({ workflow: w, version: v }: WorkflowWithVersion) => ({
  key: w.key,
  name: v.name,
  description: v.description,
  version: v.version,
  steps: v.steps,
  triggerEvents: v.triggerEvents,
  createdAt: iso(w.createdAt),
  updatedAt: iso(w.updatedAt),
});

const stepDto = (s: WorkflowRunStepRow) => ({
  id: s.stepId,
  type: s.type,
  status: s.status,
  outcome: s.outcome,
  startedAt: iso(s.startedAt),
  finishedAt: iso(s.finishedAt),
  output: s.output,
  communicationIds: s.communicationIds,
});

export const runDto = (r: WorkflowRunRow, steps: WorkflowRunStepRow[]) => ({
  id: r.id,
  workflowKey: r.workflowKey,
  version: r.version,
  status: r.status,
  recipient: { type: r.recipientType, id: r.recipientId },
  data: r.data,
  actor: r.actor,
  cancellationKey: r.cancellationKey,
  cancelReason: r.cancelReason,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
  finishedAt: iso(r.finishedAt),
  steps: steps.map(stepDto),
});

/** An audience trigger's progress: runs started so far, members that could not become a recipient, members not reached yet. */
export const fanoutDto = (f: WorkflowFanoutRow) => ({
  id: f.id,
  workflowKey: f.workflowKey,
  version: f.version,
  audienceId: f.audienceId,
  state: f.state,
  total: f.total,
  started: f.started,
  failed: f.failed,
  // `total` is the count when triggered; members added since in recipient order are reached too.
  pending: f.state === "running" ? Math.max(0, f.total - f.started - f.failed) : 0,
  lastError: f.lastError,
  cancellationKey: f.cancellationKey,
  createdAt: iso(f.createdAt),
  updatedAt: iso(f.updatedAt),
  finishedAt: iso(f.finishedAt),
});

type Vars = { var: AppEnv["Variables"] };
async function liveWorkflow(c: Vars, key: string) {
  const w = await getWorkflow(c.var.db, c.var.tenantId, key);
  if (!w) throw notFound("workflow");
  return w;
}

export const workflows = new Hono<AppEnv>()
  .post("/", async (c) => {
    const raw = await jsonBody(c, CreateWorkflow);
    const { key, ...rest } = raw;
    const def = parseDefinition(rest);
    const { db, tenantId, apiKeyId } = c.var;
    const now = new Date();
    const existing = await getWorkflowRow(db, tenantId, key);
    if (existing && !existing.archivedAt) throw new AppError("conflict", `workflow "${key}" exists; PUT /api/workflows/${key} publishes a new version`);
    const id = existing?.id ?? uuidv7();
    const version = existing ? (await maxVersion(db, tenantId, id)) + 1 : 1;
    const v = { workflowId: id, tenantId, version, name: def.name, description: def.description ?? null, steps: def.steps, triggerEvents: def.triggerEvents, createdBy: apiKeyId ?? null, createdAt: now };
    try {
      if (existing) {
        // An archived key comes back as a new version of the same workflow: its runs' history stays readable.
        await db.batch([
          insertVersion(db, v),
          updateWorkflow(db, tenantId, id, { activeVersion: version, archivedAt: null, updatedAt: now }),
        ]);
      } else {
        await insertWorkflow(db, { id, tenantId, key, activeVersion: 1, archivedAt: null, createdAt: now, updatedAt: now }, v);
      }
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError("conflict", `workflow "${key}" exists`);
      throw error;
    }
    await recordAudit(c, "workflow.created", { resourceId: id, detail: { key, version } });
    return c.json(workflowDto((await getWorkflow(db, tenantId, key))!), 201);
  })
  .get("/", async (c) => c.json({ results: (await listWorkflows(c.var.db, c.var.tenantId)).map(workflowDto) }))
  .post("/runs/cancel", async (c) => {
    const { cancellationKey } = await jsonBody(c, CancelRuns);
    const { runs, fanouts } = await cancelRuns(c.env, c.var.tenantId, cancellationKey);
    await recordAudit(c, "workflow.runs_cancelled", { detail: { cancelled: runs, fanouts } });
    // `fanouts`: audience triggers under the key that stop before reaching their remaining members.
    return c.json({ cancelled: runs, fanouts });
  })
  .get("/runs/:id", async (c) => {
    const { db, tenantId } = c.var;
    const run = await getRun(db, tenantId, c.req.param("id"));
    if (!run) throw notFound("workflow run");
    return c.json(runDto(run, await stepsOfRuns(db, tenantId, [run.id])));
  })
  .get("/:key", async (c) => c.json(workflowDto(await liveWorkflow(c, c.req.param("key")))))
  .put("/:key", async (c) => {
    const current = await liveWorkflow(c, c.req.param("key"));
    const def = parseDefinition(await jsonBody(c, z.record(z.string(), z.unknown())));
    const { db, tenantId, apiKeyId } = c.var;
    const now = new Date();
    const version = (await maxVersion(db, tenantId, current.workflow.id)) + 1;
    await publishVersion(
      db,
      tenantId,
      current.workflow.id,
      { workflowId: current.workflow.id, tenantId, version, name: def.name, description: def.description ?? null, steps: def.steps, triggerEvents: def.triggerEvents, createdBy: apiKeyId ?? null, createdAt: now },
      now,
    );
    await recordAudit(c, "workflow.updated", { resourceId: current.workflow.id, detail: { key: current.workflow.key, version } });
    return c.json(workflowDto((await getWorkflow(db, tenantId, current.workflow.key))!));
  })
  .delete("/:key", async (c) => {
    const current = await liveWorkflow(c, c.req.param("key"));
    const { db, tenantId } = c.var;
    const now = new Date();
    await db.batch([
      updateWorkflow(db, tenantId, current.workflow.id, { archivedAt: now, updatedAt: now }),
      audit(c, "workflow.deleted", { resourceId: current.workflow.id, detail: { key: current.workflow.key } }),
    ]);
    return c.body(null, 204);
  })
  .get("/:key/versions", async (c) => {
    const current = await liveWorkflow(c, c.req.param("key"));
    const versions = await listVersions(c.var.db, c.var.tenantId, current.workflow.id);
    return c.json({
      results: versions.map((v) => ({
        version: v.version,
        active: v.version === current.workflow.activeVersion,
        name: v.name,
        description: v.description,
        steps: v.steps,
        triggerEvents: v.triggerEvents,
        createdAt: iso(v.createdAt),
      })),
    });
  })
  .post("/:key/versions/:version/activate", async (c) => {
    const current = await liveWorkflow(c, c.req.param("key"));
    const n = Number(c.req.param("version"));
    const { db, tenantId } = c.var;
    const v = Number.isInteger(n) && n > 0 ? await getVersion(db, tenantId, current.workflow.key, n) : undefined;
    if (!v) throw notFound("workflow version");
    await db.batch([
      updateWorkflow(db, tenantId, current.workflow.id, { activeVersion: v.version, updatedAt: new Date() }),
      audit(c, "workflow.version_activated", { resourceId: current.workflow.id, detail: { key: current.workflow.key, version: v.version } }),
    ]);
    return c.json(workflowDto((await getWorkflow(db, tenantId, current.workflow.key))!));
  })
  .post("/:key/trigger", async (c) => {
    const w = await liveWorkflow(c, c.req.param("key"));
    const body = await jsonBody(c, TriggerInput);
    if (body.audienceId) {
      const { db, tenantId } = c.var;
      if (!(await getAudience(db, tenantId, body.audienceId))) throw new AppError("not_found", "audience not found", [{ field: "audienceId", message: "no audience with this id" }]);
      const fanout = await startFanout(c.env, {
        tenantId,
        workflowKey: w.workflow.key,
        version: w.version.version,
        audienceId: body.audienceId,
        data: body.data,
        actor: body.actor ?? null,
        idempotencyKey: body.idempotencyKey,
        cancellationKey: body.cancellationKey,
      });
      c.header("Location", `/api/workflows/${w.workflow.key}/fanouts/${fanout.id}`);
      return c.json({ workflowKey: w.workflow.key, version: fanout.version, fanout: fanoutDto(fanout) }, 202);
    }
    const { runs } = await startRuns(c.env, {
      tenantId: c.var.tenantId,
      workflowKey: w.workflow.key,
      version: w.version.version,
      recipients: body.recipients!,
      data: body.data,
      actor: body.actor ?? null,
      idempotencyKey: body.idempotencyKey,
      cancellationKey: body.cancellationKey,
    });
    // A replayed trigger answers with the version its runs started on.
    const version = runs.length ? (await getRun(c.var.db, c.var.tenantId, runs[0]!.id))?.version ?? w.version.version : w.version.version;
    return c.json({ workflowKey: w.workflow.key, version, runs }, 202);
  })
  .get("/:key/fanouts/:id", async (c) => {
    const [f] = await getFanout(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!f || f.workflowKey !== c.req.param("key")) throw notFound("workflow fan-out");
    return c.json(fanoutDto(f));
  })
  .post("/:key/runs/:id/cancel", async (c) => {
    const { db, tenantId } = c.var;
    const id = c.req.param("id");
    const { reason } = await optionalJson(c, CancelRun, {});
    const run = await getRun(db, tenantId, id);
    if (!run || run.workflowKey !== c.req.param("key")) throw notFound("workflow run");
    // The guarded update decides, not the read above: a run that finished in between is a 409 too.
    const why = reason ?? "cancelled by id";
    if (!(await cancelRun(c.env, tenantId, id, why))) {
      const now = (await getRun(db, tenantId, id))?.status ?? run.status;
      throw new AppError("conflict", `run is ${now}: only a running or waiting run can be cancelled`, [{ field: "status", message: now }]);
    }
    // The reason is the caller's free text: it stays on the run, not in the audit log (no content there).
    await recordAudit(c, "workflow.run_cancelled", { resourceId: id, detail: { key: run.workflowKey } });
    const [after, steps] = await Promise.all([getRun(db, tenantId, id), stepsOfRuns(db, tenantId, [id])]);
    return c.json(runDto(after!, steps));
  })
  .get("/:key/runs", async (c) => {
    const key = c.req.param("key");
    const { db, tenantId } = c.var;
    if (!(await getWorkflowRow(db, tenantId, key))) throw notFound("workflow");
    const q = queryOf(c, RunsQuery);
    const rows = await listRuns(db, tenantId, key, q);
    const page = rows.slice(0, q.limit);
    const steps = await stepsOfRuns(db, tenantId, page.map((r) => r.id));
    return c.json({
      results: page.map((r) => runDto(r, steps.filter((s) => s.runId === r.id))),
      nextCursor: rows.length > q.limit ? page[page.length - 1]!.id : null,
    });
  });

const parseDefinition = (body: Record<string, unknown>) => parseWith(WorkflowDefinition, body);
