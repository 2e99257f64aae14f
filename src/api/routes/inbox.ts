/**
 * The in-app inbox API. A tenant's backend mints recipient tokens (`POST /api/inbox/tokens`, API
 * key); a browser then uses only its token: `GET /api/inbox/ws` (WebSocket), and REST for the same
 * operations — list, counts, mark, mark all read.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { jsonBody, queryOf } from "../validate";
import { bearerToken } from "../middleware/api-key";
import { inboxStub } from "../../durable/inbox";
import { MARK_ACTIONS } from "../../inbox/protocol";
import { INBOX_CLIENT_JS, INBOX_DEMO_HTML } from "../../inbox/client-script";
import { mintInboxToken, readInboxToken, type Recipient } from "../../inbox/token";
import { AppError } from "../../lib/errors";

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug");

export const MintToken = z
  .object({
    recipientType: slug.default("customer"),
    recipientId: z.string().min(1).max(255),
    /** Seconds; short by design, the tenant's backend mints a new one when it runs out. */
    ttlSeconds: z.number().int().min(60).max(86_400).default(3600),
  })
  .strict();

export const ListQuery = z
  .object({
    token: z.string().optional(),
    before: z.coerce.number().int().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    unread: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
    archived: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
  })
  .strict();

export const Mark = z.object({ ids: z.array(z.string().min(1)).min(1).max(100), action: z.enum(MARK_ACTIONS) }).strict();

/** The browser client and a demo page, public: they hold no data until given a token. */
export const inboxAssets = new Hono<AppEnv>()
  .get("/client.js", (c) => c.body(INBOX_CLIENT_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }))
  .get("/demo", (c) => c.html(INBOX_DEMO_HTML));

/** Minting needs the tenant's API key. */
export const inboxTokens = new Hono<AppEnv>().post("/tokens", async (c) => {
  const body = await jsonBody(c, MintToken);
  const { token, expiresAt } = await mintInboxToken(c.var.config.encryptionKey, { tenantId: c.var.tenantId, ...body }, body.ttlSeconds);
  return c.json({ token, expiresAt: expiresAt.toISOString(), recipientType: body.recipientType, recipientId: body.recipientId }, 201);
});

async function recipient(c: Context<AppEnv>): Promise<Recipient> {
  // Browsers cannot set headers on a WebSocket: the token may come in the query string.
  const raw = bearerToken(c.req.header("authorization")) ?? c.req.query("token");
  if (!raw) throw new AppError("unauthorized", "missing inbox token: send Authorization: Bearer <token> or ?token=");
  const r = await readInboxToken(c.var.config.encryptionKey, raw);
  if (!r) throw new AppError("unauthorized", "invalid or expired inbox token");
  return r;
}

const stubFor = async (c: Context<AppEnv>) => {
  const r = await recipient(c);
  return inboxStub(c.env.INBOX, r.tenantId, r.recipientType, r.recipientId);
};

/** Everything a recipient token may do. */
export const inbox = new Hono<AppEnv>()
  .get("/ws", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new AppError("bad_request", "expected a WebSocket upgrade (Upgrade: websocket)");
    const stub = await stubFor(c);
    const cursor = Number(c.req.query("cursor") ?? "0") || 0;
    return stub.fetch(`https://inbox/ws?cursor=${cursor}`, { headers: { upgrade: "websocket" } });
  })
  .get("/items", async (c) => {
    const q = queryOf(c, ListQuery);
    return c.json(await (await stubFor(c)).list({ before: q.before, limit: q.limit, unread: q.unread, archived: q.archived }));
  })
  .get("/counts", async (c) => c.json(await (await stubFor(c)).counts()))
  .post("/items/mark", async (c) => {
    const stub = await stubFor(c);
    const { ids, action } = await jsonBody(c, Mark);
    return c.json(await stub.mark(ids, action));
  })
  .post("/items/read-all", async (c) => c.json(await (await stubFor(c)).markAllRead()));
