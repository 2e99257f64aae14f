import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/api/app";
import { openApiPath } from "../../src/api/openapi/document";
import { ADMIN, addProvider, call, captureQueue, createTenant, testEnv } from "../helpers";
import { receiveInbound } from "../../src/conversations/inbound";

type Op = { operationId: string; security: Record<string, unknown>[]; parameters?: { name: string; in: string; example?: string }[]; requestBody?: { content: Record<string, { schema: { $ref: string }; example: unknown }> }; responses: Record<string, unknown> };
type Doc = { openapi: string; paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, unknown>; responses: Record<string, unknown>; securitySchemes: Record<string, unknown> } };

let doc: Doc;
beforeAll(async () => {
  const res = await call("GET", "/openapi.json");
  expect(res.status).toBe(200);
  doc = res.json;
});
beforeEach(() => {
  vi.restoreAllMocks();
  captureQueue();
});

const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));

describe("OpenAPI document", () => {
  it("lists exactly the routes the app serves, with the same methods and paths", () => {
    const served = new Set(createApp().routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`));
    const documented = new Set(operations().map((o) => `${o.method} ${o.path}`));
    expect([...served].filter((r) => !documented.has(r)), "served but not documented").toEqual([]);
    expect([...documented].filter((r) => !served.has(r)), "documented but not served").toEqual([]);
    expect(documented.size).toBeGreaterThan(70);
  });

  it("is OpenAPI 3.1 whose references all resolve, with unique operation ids and security schemes that exist", () => {
    expect(doc.openapi).toBe("3.1.0");
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    expect(refs.length).toBeGreaterThan(50);
    for (const [, kind, name] of refs) expect((doc.components as Record<string, Record<string, unknown>>)[kind!]?.[name!], `${kind}/${name}`).toBeDefined();
    const ids = operations().map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of operations()) for (const s of op.security) for (const name of Object.keys(s)) expect(doc.components.securitySchemes[name], name).toBeDefined();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminToken", "apiKey", "inboxToken", "inboxTokenQuery"]);
  });

  it("names the scope each tenant route needs, as the API enforces it", () => {
    expect(doc.paths["/api/communications/send"]!.post).toMatchObject({ "x-required-scope": "communications:send" });
    expect(doc.paths["/api/audit-log"]!.get).toMatchObject({ "x-required-scope": "audit:read" });
    expect(doc.paths["/api/communications/stats"]!.get).toMatchObject({ "x-required-scope": "stats:read" });
  });

  it("has example requests that the routes' own validation accepts", async () => {
    const { key, tenantId } = await createTenant();
    for (const channel of ["email", "sms"]) await addProvider(key, { channel, provider: "sandbox" });
    const credentials: Record<string, string> = { apiKey: key, adminToken: ADMIN };
    const withBodies = operations().filter((o) => o.op.requestBody);
    const made = new Map<string, any>();
    // Where a path's ids come from: the POST example of the collection above it.
    const CREATED_BY: Record<string, string> = { "/api/communications": "/api/communications/send" };
    // A draft campaign has no A/B test running yet to pick a winner of.
    const STATE_DEPENDENT = new Set(["POST /api/campaigns/{id}/winner"]);
    // An inbox item exists once a send reaches it, a run once a trigger starts it; the examples'
    // ids name none (valid: 404, not 422).
    const NEEDS_ITEM = new Set(["POST /api/inbox/items/act", "POST /api/workflows/{key}/runs/{id}/cancel"]);
    // Conversations begin with an inbound message, never with a POST.
    const sms = await addProvider(key, { channel: "sms", provider: "sandbox", priority: 5 });
    const [started] = await receiveInbound(testEnv, tenantId, [{ channel: "sms", providerConfigId: sms.id, providerMessageId: "SM-openapi", from: "+14155550123", to: "+14155550100", text: "hi", receivedAt: new Date().toISOString() }]);
    made.set("/api/conversations", { id: started!.conversationId });

    async function send(path: string, method: string, op: Op): Promise<{ status: number; json: any; text: string }> {
      let url = path;
      for (const p of op.parameters ?? []) {
        if (p.in !== "path") continue;
        let value = p.example;
        if (!value) {
          const prefix = path.slice(0, path.indexOf(`/{${p.name}}`));
          const source = await ensure(CREATED_BY[prefix] ?? prefix);
          value = source.id ?? source.tenant?.id;
        }
        url = url.replace(`{${p.name}}`, encodeURIComponent(value!));
      }
      const scheme = Object.keys(op.security[0] ?? {})[0];
      const auth = scheme === "inboxToken" ? (await ensure("/api/inbox/tokens")).token : credentials[scheme!];
      const media = op.requestBody!.content["application/json"]!;
      // A campaign names an audience: the one the audiences example created.
      const text = JSON.stringify(media.example);
      const body = text.includes('"<audience id>"') ? JSON.parse(text.replaceAll('"<audience id>"', JSON.stringify((await ensure("/api/audiences")).id))) : media.example;
      return call(method, url, { key: auth, body });
    }
    async function ensure(path: string): Promise<any> {
      if (!made.has(path)) {
        const res = await send(path, "POST", doc.paths[path]!.post!);
        expect(res.status, `POST ${path}: ${res.text}`).toBeLessThan(300);
        made.set(path, res.json);
      }
      return made.get(path);
    }

    expect(withBodies.length).toBeGreaterThanOrEqual(24);
    for (const { path, method, op } of withBodies) {
      if (NEEDS_ITEM.has(`${method} ${path}`)) {
        const res = await send(path, method, op);
        expect(res.status, `${method} ${path}: ${res.text}`).toBe(404);
        continue;
      }
      if (method === "POST" && !path.includes("{")) {
        await ensure(path);
        continue;
      }
      const res = await send(path, method, op);
      if (STATE_DEPENDENT.has(`${method} ${path}`)) {
        // Valid (no 422), but the freshly created resource is not in the state this needs.
        expect(res.status, `${method} ${path}: ${res.text}`).toBe(409);
        continue;
      }
      expect(res.status, `${method} ${path}: ${res.text}`).toBeGreaterThanOrEqual(200);
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    }
  });

  it("serves a self-contained interactive reference at /docs", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.text).toContain('fetch("openapi.json")');
    // Nothing from a CDN: no external scripts, styles or fonts.
    expect(res.text).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    expect(res.text).not.toMatch(/@import|url\(/);
  });
});
