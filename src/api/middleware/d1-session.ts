/**
 * Reads from D1's read replicas, writes on the primary, and read-your-writes across requests
 * (D1 Sessions API). Each API request runs its queries in one session: a GET or HEAD starts
 * "first-unconstrained" (any replica may answer), anything else "first-primary". The route gets
 * the session as `c.var.db`; `c.env.DB` stays the plain binding for code that is not answering a
 * request. Every response carries the session's latest bookmark in `x-herald-bookmark`; a
 * caller that sends it back on a later request gets a session that starts at least as fresh as
 * that point, so a history or detail read right after a send sees the send even on a replica
 * that lags. Without the header a read may be a little behind the primary (docs/http-api.md).
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { database } from "../../db/client";
import { AppError } from "../../lib/errors";

export const BOOKMARK_HEADER = "x-herald-bookmark";

/** D1's bookmark shape (four hex groups); anything else would only fail deeper down. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** The session a request starts: from the caller's bookmark, or by what the method does. */
export function sessionConstraint(method: string, bookmark: string | undefined): D1SessionBookmark | D1SessionConstraint {
  if (bookmark !== undefined) {
    if (!BOOKMARK.test(bookmark)) {
      throw new AppError("validation_failed", `invalid ${BOOKMARK_HEADER}`, [
        { field: BOOKMARK_HEADER, message: "send back the value of a previous response's x-herald-bookmark header" },
      ]);
    }
    return bookmark;
  }
  return method === "GET" || method === "HEAD" ? "first-unconstrained" : "first-primary";
}

export function d1Session(): MiddlewareHandler<AppEnv> {
  return async function d1Session(c, next) {
    const session = c.env.DB.withSession(sessionConstraint(c.req.method, c.req.header(BOOKMARK_HEADER)));
    // drizzle needs only prepare and batch, which a session has.
    c.set("db", database(session as unknown as D1Database));
    await next();
    const bookmark = session.getBookmark();
    if (!bookmark) return;
    // A response passed through from elsewhere (Response.redirect, a fetch) has immutable headers.
    try {
      c.res.headers.set(BOOKMARK_HEADER, bookmark);
    } catch {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set(BOOKMARK_HEADER, bookmark);
    }
  };
}
