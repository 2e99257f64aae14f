/**
 * The in-app inbox API. A tenant's backend mints recipient tokens (`POST /api/inbox/tokens`, API
 * key); a browser then uses only its token: `GET /api/inbox/ws` (WebSocket), and REST for the same
 * operations — list, counts, mark, mark all read, snooze, and pressing an item's action button.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { jsonBody, queryOf } from "../validate";
import { bearerToken } from "../middleware/api-key";
import { inboxStub, type ActOutcome } from "../../durable/inbox";
import { ActionIndex, CLOSE_UNAUTHORIZED, MARK_ACTIONS, SnoozeUntil } from "../../inbox/protocol";
import { INBOX_CLIENT_JS, INBOX_DEMO_HTML } from "../../inbox/client-script";
import { HERALD_INBOX_JS } from "../../inbox/component-bundle";
import { INBOX_COMPONENT_HTML } from "../../inbox/component-demo";
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
    snoozed: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
  })
  .strict();

export const Mark = z.object({ ids: z.array(z.string().min(1)).min(1).max(100), action: z.enum(MARK_ACTIONS) }).strict();
export const Snooze = z.object({ ids: z.array(z.string().min(1)).min(1).max(100), until: SnoozeUntil }).strict();
export const Act = z.object({ id: z.string().min(1), action: ActionIndex }).strict();

/** The browser client and a demo page, public: they hold no data until given a token. */
export const inboxAssets = new Hono<AppEnv>()
  .get("/client.js", (c) => c.body(INBOX_CLIENT_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }))
  .get("/demo", (c) => c.html(INBOX_DEMO_HTML))
  // A module script from another origin needs CORS; the file holds no data, so any origin may load it.
  .get("/herald-inbox.js", (c) =>
    c.body(HERALD_INBOX_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300", "access-control-allow-origin": "*" }),
  )
  .get("/component", (c) => c.html(INBOX_COMPONENT_HTML));

/** Minting needs the tenant's API key. */
export const inboxTokens = new Hono<AppEnv>().post("/tokens", async (c) => {
  const body = await jsonBody(c, MintToken);
  const { token, expiresAt } = await mintInboxToken(c.var.config.encryptionKey, { tenantId: c.var.tenantId, ...body }, body.ttlSeconds);
  return c.json({ token, expiresAt: expiresAt.toISOString(), recipientType: body.recipientType, recipientId: body.recipientId }, 201);
});

type Verified = Recipient & { expiresAt: number };

/** The token's recipient, or the reason there is none. */
async function verified(c: Context<AppEnv>): Promise<Verified | string> {
  // Browsers cannot set headers on a WebSocket: the token may come in the query string.
  const raw = bearerToken(c.req.header("authorization")) ?? c.req.query("token");
  if (!raw) return "missing inbox token: send Authorization: Bearer <token> or ?token=";
  return (await readInboxToken(c.var.config.encryptionKey, raw)) ?? "invalid or expired inbox token";
}

async function recipient(c: Context<AppEnv>): Promise<Verified> {
  const r = await verified(c);
  if (typeof r === "string") throw new AppError("unauthorized", r);
  return r;
}

const stubFor = async (c: Context<AppEnv>) => {
  const r = await recipient(c);
  return inboxStub(c.env.INBOX, r.tenantId, r.recipientType, r.recipientId);
};

/**
 * A browser sees a refused upgrade only as close code 1006, the same as a dropped network, and
 * would retry forever with a dead token. So a bad token is told over the socket itself: accepted,
 * then closed at once with 4401, which the client answers by asking its host for a new token.
 */
function refuseOverSocket(reason: string) {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(CLOSE_UNAUTHORIZED, reason);
  return new Response(null, { status: 101, webSocket: client });
}

/** Everything a recipient token may do. */
export const inbox = new Hono<AppEnv>()
  .get("/ws", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new AppError("bad_request", "expected a WebSocket upgrade (Upgrade: websocket)");
    const r = await verified(c);
    if (typeof r === "string") return refuseOverSocket(r);
    const cursor = Number(c.req.query("cursor") ?? "0") || 0;
    const stub = inboxStub(c.env.INBOX, r.tenantId, r.recipientType, r.recipientId);
    return stub.fetch(`https://inbox/ws?cursor=${cursor}&expires=${r.expiresAt}`, { headers: { upgrade: "websocket" } });
  })
  .get("/items", async (c) => {
    const q = queryOf(c, ListQuery);
    return c.json(await (await stubFor(c)).list({ before: q.before, limit: q.limit, unread: q.unread, archived: q.archived, snoozed: q.snoozed }));
  })
  .get("/counts", async (c) => c.json(await (await stubFor(c)).counts()))
  .post("/items/mark", async (c) => {
    const stub = await stubFor(c);
    const { ids, action } = await jsonBody(c, Mark);
    return c.json(await stub.mark(ids, action));
  })
  .post("/items/read-all", async (c) => c.json(await (await stubFor(c)).markAllRead()))
  .post("/items/snooze", async (c) => {
    const stub = await stubFor(c);
    const { ids, until } = await jsonBody(c, Snooze);
    return c.json(await stub.snooze(ids, until === null ? null : Date.parse(until)));
  })
  .post("/items/act", async (c) => {
    const stub = await stubFor(c);
    const { id, action } = await jsonBody(c, Act);
    const outcome = (await stub.act(id, action)) as ActOutcome;
    if ("error" in outcome) {
      throw outcome.error === "not_found"
        ? new AppError("not_found", "no such inbox item")
        : new AppError("validation_failed", "the item has no action at that index", [{ field: "action", message: "no action at that index" }]);
    }
    return c.json({ items: outcome.items, counts: outcome.counts });
  });
