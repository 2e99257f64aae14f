/**
 * Ready-made workflows (`/api/workflow-templates`, src/workflows/templates.ts): list them, and copy
 * one into the tenant's workflows under its own key (or a chosen one) as version 1. A copy is an
 * ordinary workflow from then on: PUT edits it, its runs are the tenant's.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { recordAudit } from "../audit";
import { jsonBody } from "../validate";
import { isUniqueViolation } from "../../db/client";
import { getWorkflow, getWorkflowRow, insertWorkflow } from "../../db/workflows";
import { AppError, notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { WorkflowDefinition, WorkflowKey } from "../../workflows/definition";
import { WORKFLOW_TEMPLATES, workflowTemplate } from "../../workflows/templates";
import { workflowDto } from "./workflows";

export const CopyTemplate = z.object({ key: WorkflowKey.optional(), name: z.string().min(1).max(100).optional() }).strict();

const templateDto = (t: (typeof WORKFLOW_TEMPLATES)[number]) => ({ key: t.key, useCase: t.useCase, ...WorkflowDefinition.parse(t.definition) });

export const workflowTemplates = new Hono<AppEnv>()
  .get("/", (c) => c.json({ results: WORKFLOW_TEMPLATES.map(templateDto) }))
  .get("/:key", (c) => {
    const t = workflowTemplate(c.req.param("key"));
    if (!t) throw notFound("workflow template");
    return c.json(templateDto(t));
  })
  .post("/:key/copy", async (c) => {
    const t = workflowTemplate(c.req.param("key"));
    if (!t) throw notFound("workflow template");
    const input = await jsonBody(c, CopyTemplate);
    const def = WorkflowDefinition.parse({ ...t.definition, ...(input.name ? { name: input.name } : {}) });
    const key = input.key ?? t.key;
    const { db, tenantId, apiKeyId } = c.var;
    // Archived keys too: a key is never reused for another journey (its old runs keep their history).
    if (await getWorkflowRow(db, tenantId, key)) throw new AppError("conflict", `workflow "${key}" exists; copy under another key ({"key": "..."})`);
    const now = new Date();
    const id = uuidv7();
    try {
      await insertWorkflow(
        db,
        { id, tenantId, key, activeVersion: 1, archivedAt: null, createdAt: now, updatedAt: now },
        { workflowId: id, tenantId, version: 1, name: def.name, description: def.description ?? null, steps: def.steps, triggerEvents: def.triggerEvents, createdBy: apiKeyId ?? null, createdAt: now },
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError("conflict", `workflow "${key}" exists`);
      throw error;
    }
    await recordAudit(c, "workflow.created", { resourceId: id, detail: { key, version: 1, template: t.key } });
    return c.json(workflowDto((await getWorkflow(db, tenantId, key))!), 201);
  });
