/** POST /api/communications/send and /batch: validate, store, enqueue (seed §4.1). */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { communicationDto } from "../dto";
import { idempotent } from "../idempotency";
import { fieldErrors, parseWith, readJson } from "../validate";
import type { CommunicationRow } from "../../db/communications";
import { AppError, type FieldError } from "../../lib/errors";
import { buildCommunication, missingProviderChannels, noProviderError, storeAndEnqueue, type AcceptContext } from "../../pipeline/accept";
import { SendRequest } from "../../pipeline/send-request";
import { contentResolver } from "../../pipeline/template-content";

export const MAX_BATCH = 1000;

export const acceptContext = (c: Context<AppEnv>): AcceptContext => ({
  db: c.var.db,
  queue: c.env.SEND_QUEUE,
  tenantId: c.var.tenantId,
  createdBy: c.var.apiKeyId,
  now: new Date(),
});

export const acceptedDto = (row: CommunicationRow) => ({
  id: row.id,
  status: row.status,
  estimatedSendTime: (row.scheduledAt ?? row.createdAt).toISOString(),
});

const BatchRequest = z.object({ items: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict();

type ItemResult = ({ index: number } & ReturnType<typeof acceptedDto>) | { index: number; error: { code: string; detail: string; errors: FieldError[] } };

export const send = new Hono<AppEnv>()
  .post("/send", async (c) => {
    const { raw, json } = await readJson(c);
    const req = parseWith(SendRequest, json);
    return idempotent(c, raw, async (record) => {
      const ctx = acceptContext(c);
      if ((await missingProviderChannels(ctx, [req.channel])).size) throw noProviderError(req.channel);
      const row = buildCommunication(ctx, req, await contentResolver(ctx.db, ctx.tenantId)(req));
      const body = { ...acceptedDto(row), communication: communicationDto(row) };
      await storeAndEnqueue(ctx, [row], record({ status: 201, body }));
      return { status: 201, body };
    });
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
      const missing = await missingProviderChannels(ctx, parsed.map((p) => p.req.channel));
      const rows: CommunicationRow[] = [];
      const resolve = contentResolver(ctx.db, ctx.tenantId);
      for (const { index, req } of parsed) {
        try {
          if (missing.has(req.channel)) throw noProviderError(req.channel, `items.${index}.channel`);
          const row = buildCommunication(ctx, req, await resolve(req, `items.${index}.`));
          rows.push(row);
          results.push({ index, ...acceptedDto(row) });
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
      const body = { accepted: rows.length, rejected: items.length - rows.length, results };
      await storeAndEnqueue(ctx, rows, record({ status: 201, body }));
      return { status: 201, body };
    });
  });
