/**
 * The route catalog's shape: one entry per route the app serves, naming the zod schemas the route
 * itself validates with (src/api/routes/*), so the OpenAPI document cannot drift from validation.
 * test/api/openapi.test.ts checks the catalog against the app's routes, both ways.
 */
import type { z } from "zod";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** How a route authenticates: the security schemes of the document (document.ts). */
export type Auth = "apiKey" | "admin" | "inbox" | "signature" | "signedLink" | "none";

export type RouteDoc = {
  method: Method;
  /** Hono's pattern, `/api/providers/:id`; the document writes `{id}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  query?: z.ZodType;
  /** A named component schema and an example that passes it (tested by sending it). */
  body?: { name: string; schema: z.ZodType; example: unknown; required?: boolean };
  /** Examples for path parameters, for the reference page's "try it". */
  params?: Record<string, string>;
  success: { status: number; description: string; contentType?: string };
};

type Extra = Omit<RouteDoc, "method" | "path" | "tag" | "summary" | "auth" | "success"> & {
  success?: Partial<RouteDoc["success"]>;
};

/** `route("POST /api/providers", "Create a provider config", { ... })` within a tag and auth. */
export const group =
  (tag: string, auth: Auth) =>
  (line: `${Method} ${string}`, summary: string, extra: Extra = {}): RouteDoc => {
    const [method, path] = line.split(" ") as [Method, string];
    const status = extra.success?.status ?? (method === "POST" ? 201 : method === "DELETE" ? 204 : 200);
    return {
      method,
      path,
      tag,
      summary,
      auth,
      ...extra,
      success: { status, description: extra.success?.description ?? (status === 204 ? "Done; no body." : "OK"), contentType: extra.success?.contentType },
    };
  };
