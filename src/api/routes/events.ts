/**
 * Business events (issue 9): `POST /api/events` stores the event and puts it on the automation
 * queue, answering 202 at once; trigger rules run in the queue consumer. A repeat of the event's
 * own `idempotencyKey` answers 200 with the event already accepted; an `Idempotency-Key` header
 * replays the first response. `GET` shows what each event did (its rules, communications, errors).
 */
import { iso } from "../dto";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { idempotent } from "../idempotency";
import { parseWith, queryOf, readJson } from "../validate";
import { eventByKey, getBusinessEvent, insertBusinessEvent, listBusinessEvents, type BusinessEventRow } from "../../db/business-events";
import { runBatch } from "../../db/client";
import { notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { BusinessEventInput, EventType, recipientsOf } from "../../automation/event";
import { eventMessage } from "../../automation/message";


export const eventDto = (e: BusinessEventRow) => ({
  id: e.id,
  type: e.type,
  entityType: e.entityType,
  entityId: e.entityId,
  recipients: e.recipients,
  data: e.data,
  occurredAt: iso(e.occurredAt),
  idempotencyKey: e.idempotencyKey,
  status: e.status === "processing" ? "pending" : e.status,
  outcome: e.outcome,
  receivedAt: iso(e.receivedAt),
  processedAt: iso(e.processedAt),
});

const accepted = (e: BusinessEventRow, duplicate: boolean) => ({ id: e.id, type: e.type, status: eventDto(e).status, receivedAt: iso(e.receivedAt), ...(duplicate ? { duplicate } : {}) });

export const ListQuery = z
  .object({
    type: EventType.optional(),
    entityType: z.string().max(50).optional(),
    entityId: z.string().max(255).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();

export const events = new Hono<AppEnv>()
  .post("/", async (c) => {
    const { raw, json } = await readJson(c);
    const input = parseWith(BusinessEventInput, json);
    return idempotent(c, raw, async (record) => {
      const { db, tenantId } = c.var;
      if (input.idempotencyKey) {
        const earlier = await eventByKey(db, tenantId, input.idempotencyKey);
        if (earlier) return { status: 200, body: accepted(earlier, true) };
      }
      const now = new Date();
      const row: BusinessEventRow = {
        id: uuidv7(now.getTime()),
        tenantId,
        type: input.type,
        entityType: input.entityType ?? null,
        entityId: input.entityId ?? null,
        recipients: recipientsOf(input),
        data: input.data,
        occurredAt: input.occurredAt ? new Date(input.occurredAt) : now,
        idempotencyKey: input.idempotencyKey ?? null,
        status: "pending",
        outcome: null,
        receivedAt: now,
        claimedAt: null,
        processedAt: null,
      };
      const body = accepted(row, false);
      const [inserted] = (await runBatch(db, [insertBusinessEvent(db, row), ...record({ status: 202, body })])) as [BusinessEventRow[]];
      if (inserted.length === 0) {
        // The same idempotencyKey raced in from another request, which won.
        const winner = await eventByKey(db, tenantId, input.idempotencyKey!);
        if (winner) return { status: 200, body: accepted(winner, true) };
      }
      try {
        await c.env.AUTOMATION_QUEUE.send(eventMessage(tenantId, row.id));
      } catch (error) {
        // Stored is accepted: the cron pass enqueues events whose message never arrived.
        console.error(JSON.stringify({ msg: "could not enqueue business event; the cron pass will", eventId: row.id, error: String(error) }));
      }
      return { status: 202, body };
    });
  })
  .get("/", async (c) => {
    const q = queryOf(c, ListQuery);
    const rows = await listBusinessEvents(c.var.db, c.var.tenantId, q, q.limit);
    return c.json({ results: rows.map(eventDto) });
  })
  .get("/:id", async (c) => {
    const row = await getBusinessEvent(c.var.db, c.var.tenantId, c.req.param("id"));
    if (!row) throw notFound("event");
    return c.json(eventDto(row));
  });
