/**
 * The OpenAPI document checked in Node, where ajv can compile schemas (workerd forbids the code
 * generation ajv relies on): the document's structure against the OpenAPI 3.1 object model (the
 * fields the spec requires of each object, written out below), and every schema in it — bodies,
 * parameters, components — as valid JSON Schema 2020-12, the dialect OpenAPI 3.1 uses.
 */
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { describe, expect, it, vi } from "vitest";

// The route modules reach the Durable Object classes, which import the Workers runtime module.
vi.mock("cloudflare:workers", () => ({ DurableObject: class {}, env: {} }));

const { openApiDocument } = await import("../../src/api/openapi/document");
const doc = openApiDocument("https://herald.example") as any;

const ref = { type: "object", required: ["$ref"], properties: { $ref: { type: "string", pattern: "^#/components/" } } };
const media = { type: "object", properties: { schema: { type: "object" }, example: {} }, additionalProperties: false };
const response = { oneOf: [ref, { type: "object", required: ["description"], properties: { description: { type: "string" }, content: { type: "object", additionalProperties: media } }, additionalProperties: false }] };
const parameter = {
  type: "object",
  required: ["name", "in", "schema"],
  properties: { name: { type: "string" }, in: { enum: ["path", "query", "header", "cookie"] }, required: { type: "boolean" }, schema: { type: "object" }, example: {}, description: { type: "string" } },
  additionalProperties: false,
  // Path parameters must be required (OpenAPI 3.1 §4.8.12.1).
  if: { properties: { in: { const: "path" } } },
  then: { required: ["required"], properties: { required: { const: true } } },
};
const operation = {
  type: "object",
  required: ["operationId", "responses"],
  properties: {
    operationId: { type: "string" },
    tags: { type: "array", items: { type: "string" } },
    summary: { type: "string" },
    description: { type: "string" },
    security: { type: "array", items: { type: "object", additionalProperties: { type: "array" } } },
    parameters: { type: "array", items: parameter },
    requestBody: { type: "object", required: ["content"], properties: { required: { type: "boolean" }, content: { type: "object", additionalProperties: media } }, additionalProperties: false },
    responses: { type: "object", minProperties: 1, propertyNames: { pattern: "^[1-5][0-9]{2}$" }, additionalProperties: response },
  },
  patternProperties: { "^x-": {} },
  additionalProperties: false,
};
const OPENAPI_31 = {
  type: "object",
  required: ["openapi", "info", "paths"],
  properties: {
    openapi: { type: "string", pattern: "^3\\.1\\.\\d+$" },
    info: { type: "object", required: ["title", "version"], properties: { title: { type: "string" }, version: { type: "string" }, description: { type: "string" } } },
    servers: { type: "array", items: { type: "object", required: ["url"] } },
    tags: { type: "array", items: { type: "object", required: ["name"] } },
    paths: {
      type: "object",
      propertyNames: { pattern: "^/" },
      additionalProperties: { type: "object", propertyNames: { enum: ["get", "put", "post", "delete", "options", "head", "patch", "trace"] }, additionalProperties: operation },
    },
    components: {
      type: "object",
      properties: {
        schemas: { type: "object", additionalProperties: { type: "object" } },
        responses: { type: "object", additionalProperties: response },
        securitySchemes: {
          type: "object",
          additionalProperties: {
            oneOf: [
              { type: "object", required: ["type", "scheme"], properties: { type: { const: "http" } } },
              { type: "object", required: ["type", "name", "in"], properties: { type: { const: "apiKey" }, in: { enum: ["query", "header", "cookie"] } } },
            ],
          },
        },
      },
    },
  },
  additionalProperties: false,
};

describe("OpenAPI document (Node, ajv)", () => {
  it("has the structure OpenAPI 3.1 requires", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(OPENAPI_31);
    expect(validate(doc), ajv.errorsText(validate.errors, { separator: "\n" })).toBe(true);
    // Every path template parameter is declared, and nothing else is a path parameter.
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const op of Object.values<any>(ops)) expect((op.parameters ?? []).filter((p: any) => p.in === "path").map((p: any) => p.name).sort(), path).toEqual(names);
    }
  });

  it("holds only valid JSON Schema 2020-12, and each example validates against its body schema", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    // zod writes `format: "base64"` for z.base64(); ajv-formats has no such format.
    ajv.addFormat("base64", /^[A-Za-z0-9+/]*={0,2}$/);
    for (const [name, schema] of Object.entries<any>(doc.components.schemas)) {
      expect(ajv.validateSchema(schema), `${name}: ${ajv.errorsText()}`).toBe(true);
      ajv.addSchema(schema, `#/components/schemas/${name}`);
    }
    let examples = 0;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        for (const p of op.parameters ?? []) expect(ajv.validateSchema(p.schema), `${method} ${path} ${p.name}`).toBe(true);
        const body = op.requestBody?.content["application/json"];
        if (!body) continue;
        const name = body.schema.$ref.split("/").pop();
        const validate = ajv.compile(doc.components.schemas[name]);
        expect(validate(body.example), `${method} ${path}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        examples++;
      }
    }
    expect(examples).toBeGreaterThanOrEqual(24);
  });

  it("points every $ref at a component that exists, never at a $defs that would resolve against the document root", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => !r.startsWith("#/components/"))).toEqual([]);
    for (const r of new Set(refs)) {
      const [, kind, name] = r.split("/").slice(1);
      expect(doc.components[kind!]?.[name!], r).toBeDefined();
    }
    // The step tree is recursive: one component each way, referring to itself.
    expect(JSON.stringify(doc.components.schemas.CreateWorkflow)).toContain('"#/components/schemas/WorkflowStepInput"');
    expect(JSON.stringify(doc.components.schemas.WorkflowStepInput)).toContain('"#/components/schemas/WorkflowStepInput"');
    expect(JSON.stringify(doc.components.schemas.Workflow)).toContain('"#/components/schemas/WorkflowStep"');
  });

  it("documents the main routes' responses with schemas that compile, their $refs resolved", async () => {
    const { ROUTE_RESPONSES } = await import("../../src/api/openapi/responses");
    const ajv = documentAjv();
    for (const [route, name] of Object.entries(ROUTE_RESPONSES)) {
      const [method, path] = route.split(" ") as [string, string];
      const op = doc.paths[path.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()];
      expect(op, `${route} is not in the document`).toBeDefined();
      const success = Object.entries<any>(op.responses).find(([status]) => status.startsWith("2"))![1];
      expect(success.content["application/json"].schema, route).toEqual({ $ref: `#/components/schemas/${name}` });
      expect(ajv.getSchema(`${DOC_ID}#/components/schemas/${name}`), route).toBeTypeOf("function");
    }
    const problem = ajv.getSchema(`${DOC_ID}#/components/schemas/Problem`)!;
    expect(problem({ type: "https://herald.dev/problems/not_found", title: "Not Found", status: 404, code: "not_found", detail: "no such thing", requestId: "r1" })).toBe(true);
    expect(problem({ status: 404 })).toBe(false);
  });
});

const DOC_ID = "https://herald.example/openapi.json";
/** An ajv that knows the whole document, so a component's `#/components/schemas/...` refs resolve. */
function documentAjv() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("base64", /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addSchema({ $id: DOC_ID, components: doc.components });
  return ajv;
}
