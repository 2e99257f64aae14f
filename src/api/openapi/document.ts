/**
 * The OpenAPI 3.1 document, built from the route catalog (api-routes.ts, public-routes.ts): request
 * bodies and query parameters are the routes' own zod schemas through `z.toJSONSchema` (JSON
 * Schema 2020-12, which OpenAPI 3.1 uses as is), in their input form — what a client sends.
 */
import { z } from "zod";
import { API_ROUTES } from "./api-routes";
import { PUBLIC_ROUTES } from "./public-routes";
import type { Auth, RouteDoc } from "./types";
import { requiredScope } from "../scopes";
import { RESPONSE_SCHEMAS } from "../responses";
import { ROUTE_RESPONSES } from "./responses";
import { StepSchema } from "../../workflows/definition";

export const ROUTES: RouteDoc[] = [...API_ROUTES, ...PUBLIC_ROUTES];

type Json = Record<string, unknown>;

/** Hono's `/api/providers/:id` → OpenAPI's `/api/providers/{id}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");
const paramNames = (path: string) => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!);

function jsonSchema(schema: z.ZodType): Json {
  // Refinements and transforms have no JSON Schema form; the input shape is what clients need.
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  return rest;
}

/**
 * The request bodies as components, in their input form. One registry for all of them, so a
 * recursive schema (a workflow's step tree) is one component that bodies point at by $ref, not a
 * `#/$defs/…` that would resolve against the OpenAPI document's root.
 */
function bodySchemas(): Json {
  const registry = z.registry<{ id: string }>();
  registry.add(StepSchema, { id: "WorkflowStepInput" });
  const aliases: [string, string][] = [];
  for (const r of ROUTES) {
    if (!r.body) continue;
    const known = registry.get(r.body.schema)?.id;
    if (known === undefined) registry.add(r.body.schema, { id: r.body.name });
    else if (known !== r.body.name) aliases.push([r.body.name, known]);
  }
  const { schemas } = z.toJSONSchema(registry, { io: "input", unrepresentable: "any", uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  const out: Json = Object.fromEntries(Object.entries(schemas).map(([id, { $id: _, $schema: __, ...rest }]) => [id, rest]));
  for (const [name, target] of aliases) out[name] = { $ref: `#/components/schemas/${target}` };
  return out;
}

/** The response schemas as components, referring to one another by $ref (Communication inside SendResult…). */
function responseSchemas(): Json {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSE_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io: "output", unrepresentable: "any", uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  // A component's own $id and $schema would make ajv and OpenAPI tools resolve it as a separate document.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $id: _, $schema: __, ...rest }]) => [id, rest]));
}

const operationId = (r: RouteDoc) =>
  r.method.toLowerCase() + r.path.replace(/[/:.-]+(\w?)/g, (_, ch: string) => ch.toUpperCase());

const SECURITY: Record<Auth, Json[]> = {
  apiKey: [{ apiKey: [] }],
  admin: [{ adminToken: [] }],
  inbox: [{ inboxToken: [] }, { inboxTokenQuery: [] }],
  signature: [],
  signedLink: [],
  none: [],
};

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } });

function errorResponses(r: RouteDoc): Json {
  const out: Json = {};
  if (r.body || r.query) out["422"] = { $ref: "#/components/responses/ValidationFailed" };
  if (r.body) out["400"] = { $ref: "#/components/responses/BadRequest" };
  if (r.auth === "apiKey" || r.auth === "admin" || r.auth === "inbox") out["401"] = { $ref: "#/components/responses/Unauthorized" };
  if (r.auth === "apiKey" || r.auth === "signature") out["403"] = { $ref: "#/components/responses/Forbidden" };
  if (r.auth === "apiKey") out["429"] = { $ref: "#/components/responses/RateLimited" };
  if (r.path.includes(":")) out["404"] = { $ref: "#/components/responses/NotFound" };
  return out;
}

function operation(r: RouteDoc): Json {
  const parameters: Json[] = paramNames(r.path).map((name) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
    ...(r.params?.[name] ? { example: r.params[name] } : {}),
  }));
  if (r.query) {
    const q = jsonSchema(r.query) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      parameters.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema });
    }
  }
  const op: Json = {
    operationId: operationId(r),
    tags: [r.tag],
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    security: SECURITY[r.auth],
    ...(parameters.length ? { parameters } : {}),
  };
  if (r.auth === "apiKey") op["x-required-scope"] = requiredScope(r.method, r.path);
  if (r.body) {
    op.requestBody = {
      required: r.body.required ?? true,
      content: { "application/json": { schema: { $ref: `#/components/schemas/${r.body.name}` }, example: r.body.example } },
    };
  }
  const { status, description, contentType } = r.success;
  const hasBody = status !== 204 && status !== 101 && status !== 302;
  const named = ROUTE_RESPONSES[`${r.method} ${r.path}`];
  const schema = contentType ? { type: "string" } : named ? { $ref: `#/components/schemas/${named}` } : { type: "object" };
  op.responses = {
    [String(status)]: hasBody ? { description, content: { [contentType ?? "application/json"]: { schema } } } : { description },
    ...errorResponses(r),
  };
  return op;
}

function build(): Json {
  const schemas: Json = { ...responseSchemas(), ...bodySchemas() };
  const paths: Record<string, Json> = {};
  for (const r of ROUTES) (paths[openApiPath(r.path)] ??= {})[r.method.toLowerCase()] = operation(r);
  return {
    openapi: "3.1.0",
    info: {
      title: "Herald API",
      version: "0.1.0",
      description:
        "Multi-tenant messaging: email, SMS, WhatsApp, Messenger and an in-app inbox from one API. Every error is application/problem+json with the request id (also in the `x-request-id` header); send a W3C `traceparent` to join Herald's logs to your trace.",
    },
    tags: [...new Set(ROUTES.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", bearerFormat: "hk_…", description: "A tenant API key. Scoped keys need the scope named in each operation's x-required-scope." },
        adminToken: { type: "http", scheme: "bearer", description: "The operator's ADMIN_TOKEN." },
        inboxToken: { type: "http", scheme: "bearer", description: "A recipient's inbox token, minted with POST /api/inbox/tokens." },
        inboxTokenQuery: { type: "apiKey", in: "query", name: "token", description: "The inbox token in the query string (WebSockets cannot send headers)." },
      },
      responses: {
        BadRequest: problem("The body is not JSON, or is too large."),
        Unauthorized: problem("Missing or invalid credentials."),
        Forbidden: problem("The key lacks the scope this route needs (named in the problem), or the signature is wrong."),
        NotFound: problem("No such resource for this tenant."),
        ValidationFailed: problem("The request names fields that are wrong, each in errors[]."),
        RateLimited: problem("Over the tenant's rate limit or quota; see Retry-After."),
      },
    },
  };
}

// Built once per isolate: the catalog and schemas are constant; only the server URL varies.
let built: Json | undefined;

export function openApiDocument(publicUrl: string): Json {
  built ??= build();
  return { ...built, servers: [{ url: publicUrl }] };
}
