/**
 * /mcp: the Model Context Protocol over Streamable HTTP, for AI agents, authenticated with a
 * tenant API key (`Authorization: Bearer`, as /api). Each tool is an in-process call of the /api
 * route it stands for, made with the caller's key (src/mcp/call.ts), so scopes, rate limits,
 * quotas, validation and audit are the API's own.
 *
 * Stateless, one server and transport per request (`sessionIdGenerator: undefined`): a Worker has
 * no sticky sessions, so the next request of a session may land in another isolate, and a
 * server kept in module scope would hold one caller's key for the next. Every tool is a single
 * request and answer, so nothing needs a session: POSTs are answered with plain JSON
 * (`enableJsonResponse`), and the standalone SSE stream (GET) and session end (DELETE) answer 405,
 * which the protocol allows and clients handle.
 */
import { Hono } from "hono";
import { StreamableHTTPTransport } from "@hono/mcp";
import type { AppEnv } from "../context";
import { apiKeyAuth } from "../middleware/api-key";
import { apiCaller } from "../../mcp/call";
import { mcpServer } from "../../mcp/server";

type Fetch = Hono<AppEnv>["fetch"];

const notAllowed = { jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed: this server is stateless; POST JSON-RPC messages to /mcp" }, id: null };

/** `app`: the Hono app the tools call back into. */
export function mcp(app: { fetch: Fetch }) {
  return new Hono<AppEnv>()
    .use(apiKeyAuth({ scopes: "per-call" }))
    .post("/", async (c) => {
      const call = apiCaller(async (request) => app.fetch(request, c.env, c.executionCtx), {
        origin: new URL(c.req.url).origin,
        authorization: c.req.header("authorization")!,
        requestId: c.var.requestId,
      });
      const transport = new StreamableHTTPTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await mcpServer(call).connect(transport);
      return (await transport.handleRequest(c)) ?? c.body(null, 202);
    })
    .on(["GET", "DELETE"], "/", (c) => c.json(notAllowed, 405, { allow: "POST" }));
}
