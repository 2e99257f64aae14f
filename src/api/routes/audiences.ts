/**
 * /api/audiences: a tenant's lists and topics of recipients. Members are added and removed in
 * bulk (up to 10,000 per call), imported from CSV (text/csv, a header row), counted, listed page
 * by page in recipient order, and a single recipient can subscribe to or leave a topic.
 * Membership decides who a campaign targets; opt-outs and suppressions are checked when each
 * message is sent, so a member who opted out after joining is still never mailed.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { iso } from "../dto";
import { jsonBody, queryOf } from "../validate";
import { runBatch, isUniqueViolation } from "../../db/client";
import {
  countMembers,
  deleteAudience,
  getAudience,
  insertAudience,
  listAudiences,
  membersAfter,
  removeMembers,
  upsertMembers,
  type AudienceRow,
  type MemberKey,
  type MemberRow,
} from "../../db/audiences";
import { AUDIENCE_KINDS } from "../../db/schema";
import { AppError, notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { AddMembers, dedupe, MemberInput, MemberKeyInput, membersFromCsv, parseMembers, RemoveMembers } from "../../campaigns/members";

export const CreateAudience = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(AUDIENCE_KINDS).default("list"),
    description: z.string().max(1000).optional(),
  })
  .strict();

export const MemberPage = z
  .object({
    size: z.coerce.number().int().min(1).max(1000).default(100),
    /** The `next` of the previous page: `<recipientType>/<recipientId>`. */
    after: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}\/.+$/, "must be the previous page's next, <recipientType>/<recipientId>").optional(),
  })
  .strict();

const audienceDto = (a: AudienceRow, members?: number) => ({
  id: a.id,
  kind: a.kind,
  name: a.name,
  description: a.description,
  ...(members !== undefined ? { members } : {}),
  createdAt: iso(a.createdAt),
  updatedAt: iso(a.updatedAt),
});

const memberDto = (m: MemberRow) => ({
  recipientType: m.recipientType,
  recipientId: m.recipientId,
  name: m.name,
  email: m.email,
  phone: m.phone,
  variables: m.variables,
  createdAt: iso(m.createdAt),
});

const keyText = (k: MemberKey) => `${k.recipientType}/${k.recipientId}`;
const parseKey = (text: string): MemberKey => {
  const slash = text.indexOf("/");
  return { recipientType: text.slice(0, slash), recipientId: text.slice(slash + 1) };
};

export const audiences = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await jsonBody(c, CreateAudience);
    const now = new Date();
    try {
      const row = await insertAudience(c.var.db, { id: uuidv7(), tenantId: c.var.tenantId, kind: body.kind, name: body.name, description: body.description ?? null, createdAt: now, updatedAt: now });
      return c.json(audienceDto(row, 0), 201);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError("conflict", `an audience named "${body.name}" already exists`, [{ field: "name", message: "is taken" }]);
      throw error;
    }
  })
  .get("/", async (c) => c.json({ results: (await listAudiences(c.var.db, c.var.tenantId)).map((a) => audienceDto(a)) }))
  .get("/:id", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    const [n] = await countMembers(c.var.db, c.var.tenantId, a.id);
    return c.json(audienceDto(a, n?.n ?? 0));
  })
  .delete("/:id", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    await runBatch(c.var.db, deleteAudience(c.var.db, c.var.tenantId, a.id));
    return c.body(null, 204);
  })
  .get("/:id/count", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    const [n] = await countMembers(c.var.db, c.var.tenantId, a.id);
    return c.json({ count: n?.n ?? 0 });
  })
  .get("/:id/members", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    const q = queryOf(c, MemberPage);
    const rows = await membersAfter(c.var.db, c.var.tenantId, a.id, q.after ? parseKey(q.after) : null, q.size);
    return c.json({ results: rows.map(memberDto), next: rows.length === q.size ? keyText(rows.at(-1)!) : null });
  })
  .post("/:id/members", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    const { members } = await jsonBody(c, AddMembers);
    return c.json(await addMembers(c, a, parseMembers(members, (i) => `members.${i}`)));
  })
  .post("/:id/import", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    const type = c.req.header("content-type") ?? "";
    if (!/^text\/csv\b/i.test(type)) throw new AppError("validation_failed", "send the file as text/csv", [{ field: "content-type", message: "must be text/csv" }]);
    return c.json(await addMembers(c, a, membersFromCsv(await c.req.text())));
  })
  .post("/:id/members/remove", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    const { members } = await jsonBody(c, RemoveMembers);
    const { unique } = dedupe(members);
    await runBatch(c.var.db, removeMembers(c.var.db, c.var.tenantId, a.id, unique));
    const [n] = await countMembers(c.var.db, c.var.tenantId, a.id);
    return c.json({ removed: unique.length, members: n?.n ?? 0 });
  })
  .post("/:id/subscribe", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    const member = await jsonBody(c, MemberInput);
    await runBatch(c.var.db, upsertMembers(c.var.db, c.var.tenantId, a.id, [member], new Date()));
    return c.json({ subscribed: true, audienceId: a.id, recipientType: member.recipientType, recipientId: member.recipientId });
  })
  .post("/:id/unsubscribe", async (c) => {
    const a = await found(c.var.db, c.var.tenantId, c.req.param("id"));
    const key = await jsonBody(c, MemberKeyInput);
    await runBatch(c.var.db, removeMembers(c.var.db, c.var.tenantId, a.id, [key]));
    return c.json({ subscribed: false, audienceId: a.id, recipientType: key.recipientType, recipientId: key.recipientId });
  });

async function found(db: AppEnv["Variables"]["db"], tenantId: string, id: string) {
  const a = await getAudience(db, tenantId, id);
  if (!a) throw notFound("audience");
  return a;
}

/** Stores the (already valid) members, the last of each duplicate winning, and reports what happened. */
async function addMembers(c: { var: AppEnv["Variables"] }, a: AudienceRow, members: MemberInput[]) {
  const { db, tenantId } = c.var;
  const { unique, duplicates } = dedupe(members);
  // Both counts inside the one batch (one transaction), so a concurrent add to the same audience
  // falls wholly before or after this one and is never reported as this request's.
  const results = await runBatch(db, [countMembers(db, tenantId, a.id), ...upsertMembers(db, tenantId, a.id, unique, new Date()), countMembers(db, tenantId, a.id)]);
  const [before] = results[0] as { n: number }[];
  const [after] = results.at(-1) as { n: number }[];
  const total = after?.n ?? 0;
  const added = total - (before?.n ?? 0);
  return { received: members.length, duplicates, added, updated: unique.length - added, members: total };
}
