/**
 * How an MCP tool does its work: by calling Herald's own /api route in-process, through the whole
 * Hono pipeline (`app.fetch`), with the caller's `Authorization` header. Scopes, rate limits,
 * quotas, validation, tenant isolation, audit entries and the request log are therefore exactly
 * those of the HTTP API; a tool adds no second path to the data. The answer comes back as an MCP
 * tool result: the route's JSON as text, or, for a problem+json, a tool error (`isError`) whose
 * text carries the problem's detail and each field it names.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Problem } from "../api/problem";

export type ApiRequest = {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string | undefined>;
};

/** Picks what an agent needs from a 2xx body. */
export type Shape = (body: any) => unknown;

/** Calls one route; the tool result is what the agent sees. */
export type CallApi = (request: ApiRequest, shape?: Shape) => Promise<CallToolResult>;

export function apiCaller(
  fetch: (request: Request) => Promise<Response>,
  options: { origin: string; authorization: string; requestId?: string },
): CallApi {
  return async function callApi({ method, path, query, body, headers: extra }, shape = (b) => b) {
    const url = new URL(path, options.origin);
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { authorization: options.authorization, accept: "application/json" };
    // The inner request logs under the MCP request's id, so one id finds both lines.
    if (options.requestId) headers["x-request-id"] = options.requestId;
    if (body !== undefined) headers["content-type"] = "application/json";
    for (const [name, value] of Object.entries(extra ?? {})) if (value !== undefined) headers[name] = value;
    const res = await fetch(new Request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
    const text = await res.text();
    const json = text ? safeJson(text) : null;
    if (!res.ok) return toolError(res.status, json, text);
    const result = res.status === 204 ? { ok: true } : shape(json);
    return { content: [{ type: "text", text: JSON.stringify(result, null, 2) }] };
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isProblem = (v: unknown): v is Problem => typeof v === "object" && v !== null && "detail" in v && "code" in v;

/** `422 validation_failed: invalid request: recipientContact` and one line per field. */
export function toolError(status: number, body: unknown, text = ""): CallToolResult {
  const lines = isProblem(body)
    ? [
        `${status} ${body.code}: ${body.detail}`,
        ...(body.errors ?? []).map((e) => `- ${e.field}: ${e.message}`),
        ...(body.requestId ? [`(request id ${body.requestId})`] : []),
      ]
    : [`${status}: ${text.slice(0, 500) || "the API answered without a body"}`];
  return { isError: true, content: [{ type: "text", text: lines.join("\n") }] };
}
