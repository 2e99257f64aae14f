/**
 * POST /api/communications/send and /batch (seed §4.1): validate → plan by preferences → render →
 * store → enqueue. A routed send (`channel: "auto"` or `channels`) answers with every
 * communication it made.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { communicationDto } from "../dto";
import { idempotent } from "../idempotency";
import { fieldErrors, parseWith, readJson } from "../validate";
import type { BatchItem } from "drizzle-orm/batch";
import type { CommunicationRow } from "../../db/communications";
import { admitted } from "../admission";
import { AppError, type FieldError } from "../../lib/errors";
import { storeAndEnqueue, type AcceptContext } from "../../pipeline/accept";
import { loadRecipients } from "../../pipeline/plan";
import { prepare } from "../../pipeline/prepare";
import { SendRequest } from "../../pipeline/send-request";
import { sendQueues } from "../../pipeline/send-lanes";
import { contentResolver } from "../../pipeline/template-content";
import { deliverInAppNow } from "../../pipeline/fast-inbox";
import { attachmentChecker, orUnstash, stashAttachments } from "../../pipeline/attachments";

export const MAX_BATCH = 1000;

export const acceptContext = (c: Context<AppEnv>): AcceptContext => ({
  db: c.var.db,
  queue: sendQueues(c.env),
  tenantId: c.var.tenantId,
  createdBy: c.var.apiKeyId,
  now: new Date(),
  secret: c.var.config.encryptionKey,
  traceId: c.var.traceId,
});

export const acceptedDto = (row: CommunicationRow) => ({
  id: row.id,
  channel: row.channel,
  status: row.status,
  estimatedSendTime: (row.scheduledAt ?? row.createdAt).toISOString(),
  ...(row.status === "suppressed" ? { reason: row.errorMessage } : {}),
});

const isRouted = (req: SendRequest) => req.channel === "auto" || req.channels !== undefined;

export { prepare };

export const BatchRequest = z.object({ items: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict();

type ItemResult =
  | ({ index: number } & ReturnType<typeof acceptedDto>)
  | { index: number; routed: ReturnType<typeof acceptedDto>[] }
  | { index: number; error: { code: string; detail: string; errors: FieldError[] } };

export const send = new Hono<AppEnv>()
  .post("/send", async (c) => {
    const { raw, json } = await readJson(c);
    const req = parseWith(SendRequest, json);
    return idempotent(c, raw, async (record) => {
      const ctx = acceptContext(c);
      const recipients = await loadRecipients(ctx.db, ctx.secret, ctx.tenantId, [req]);
      const { rows, notes, followUps } = await prepare(ctx, recipients, contentResolver(ctx.db, ctx.tenantId), req);
      await attachmentChecker(ctx.db, ctx.tenantId)(rows);
      // Admitted before anything is written anywhere, R2 included.
      const body = await admitted(c, rows, async () => {
        const stashed = await stashAttachments(c.env.ATTACHMENTS, rows);
        const body = isRouted(req)
          ? { results: rows.map(acceptedDto), communications: rows.map(communicationDto) }
          : { ...acceptedDto(rows[0]!), communication: communicationDto(rows[0]!) };
        await orUnstash(c.env.ATTACHMENTS, stashed, () => storeAndEnqueue(ctx, rows, [...record({ status: 201, body }), ...notes], followUps));
        return body;
      });
      deliverInAppNow(c.env, c.executionCtx, rows);
      return { status: 201, body };
    }, { writeFirst: true });
  })
  .post("/batch", async (c) => {
    const { raw, json } = await readJson(c);
    const { items } = parseWith(BatchRequest, json);
    return idempotent(c, raw, async (record) => {
      const ctx = acceptContext(c);
      const results: ItemResult[] = [];
      const parsed: { index: number; req: SendRequest }[] = [];
      items.forEach((item, index) => {
        const r = SendRequest.safeParse(item);
        if (r.success) parsed.push({ index, req: r.data });
        else results.push({ index, error: { code: "validation_failed", detail: "invalid item", errors: fieldErrors(r.error, `items.${index}.`) } });
      });
      const recipients = await loadRecipients(ctx.db, ctx.secret, ctx.tenantId, parsed.map((p) => p.req));
      const resolve = contentResolver(ctx.db, ctx.tenantId);
      const checkAttachments = attachmentChecker(ctx.db, ctx.tenantId);
      const rows: CommunicationRow[] = [];
      const notes: BatchItem<"sqlite">[] = [];
      const followUps: Awaited<ReturnType<typeof prepare>>["followUps"] = [];
      for (const { index, req } of parsed) {
        try {
          const prepared = await prepare(ctx, recipients, resolve, req, `items.${index}.`);
          await checkAttachments(prepared.rows, `items.${index}.`);
          rows.push(...prepared.rows);
          notes.push(...prepared.notes);
          followUps.push(...prepared.followUps);
          results.push(isRouted(req) ? { index, routed: prepared.rows.map(acceptedDto) } : { index, ...acceptedDto(prepared.rows[0]!) });
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          results.push({ index, error: { code: error.code, detail: error.message, errors: error.errors ?? [] } });
        }
      }
      results.sort((a, b) => a.index - b.index);
      if (rows.length === 0) {
        const errors = results.flatMap((r) => ("error" in r ? r.error.errors : []));
        throw new AppError("validation_failed", "no item in the batch was accepted", errors);
      }
      const accepted = results.filter((r) => !("error" in r)).length;
      const body = { accepted, rejected: items.length - accepted, communications: rows.length, results };
      await admitted(c, rows, async () => {
        const stashed = await stashAttachments(c.env.ATTACHMENTS, rows);
        await orUnstash(c.env.ATTACHMENTS, stashed, () => storeAndEnqueue(ctx, rows, [...record({ status: 201, body }), ...notes], followUps));
      });
      deliverInAppNow(c.env, c.executionCtx, rows);
      return { status: 201, body };
    });
  });
