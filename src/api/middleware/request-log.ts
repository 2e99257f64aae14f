/**
 * One JSON log line per request: request id, trace id (from an incoming `traceparent`, or new),
 * method, the route's pattern (never the raw path, which may hold tokens or contacts), status,
 * duration and the tenant when known. Never headers or bodies: they carry keys and contacts.
 * The response carries `x-request-id` (hono's requestId middleware); the trace id travels on to
 * the send queue, so the consumer's lines join the same trace.
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../context";
import { newTraceId, traceIdOf } from "../../lib/trace";

export type RequestLogLine = {
  msg: "request";
  requestId: string;
  traceId: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  tenantId?: string;
};

export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = Date.now();
    const traceId = traceIdOf(c.req.header("traceparent")) ?? newTraceId();
    c.set("traceId", traceId);
    await next();
    // The last route with a method is the handler's pattern, even when auth refused the request.
    const route = matchedRoutes(c).filter((r) => r.method !== "ALL").at(-1)?.path ?? "(no route)";
    const line: RequestLogLine = {
      msg: "request",
      requestId: c.var.requestId,
      traceId,
      method: c.req.method,
      route,
      status: c.res.status,
      durationMs: Date.now() - started,
      ...(c.var.tenantId ? { tenantId: c.var.tenantId } : {}),
    };
    console.log(JSON.stringify(line));
  };
}
