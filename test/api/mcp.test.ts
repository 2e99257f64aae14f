/**
 * The MCP server at /mcp, driven by the MCP SDK's own client over Streamable HTTP, its requests
 * routed into the API Worker in-process (exports.default.fetch): tools list, sends (and their
 * preview and dry run), scopes, tenant isolation, field-named errors and the tenant's rate limit.
 */
import { exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, BASE, addProvider, call, captureQueue, createTenant } from "../helpers";

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;
const clients: Client[] = [];

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
  await addProvider(key, { channel: "sms", provider: "sandbox" });
  await addProvider(key, { channel: "email", provider: "sandbox" });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(apiKey: string | undefined) {
  const transport = new StreamableHTTPClientTransport(new URL(`${BASE}/mcp`), {
    requestInit: apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {},
    fetch: (url, init) => exports.default.fetch(String(url), init),
  });
  const client = new Client({ name: "herald-test", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return client;
}

async function tool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
  return { isError: result.isError === true, text, json: () => JSON.parse(text) };
}

async function keyWith(scopes: string[]) {
  const res = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { name: scopes.join(","), scopes } });
  expect(res.status, res.text).toBe(201);
  return res.json.apiKey as string;
}

const sms = { channel: "sms", recipientContact: "+14155550123", content: "Your code is 4711" };

describe("MCP server at /mcp", () => {
  it("lists its tools, each with a description and an input schema", async () => {
    const client = await connect(key);
    expect(client.getServerVersion()?.name).toBe("herald");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "add_suppression",
      "get_communication",
      "get_preferences",
      "get_stats",
      "list_suppressions",
      "list_templates",
      "preview_template",
      "remove_suppression",
      "search_communications",
      "send",
      "update_preferences",
    ]);
    for (const t of tools) {
      expect(t.description!.length, t.name).toBeGreaterThan(40);
      expect(t.inputSchema.type).toBe("object");
    }
    const send = tools.find((t) => t.name === "send")!;
    expect(Object.keys(send.inputSchema.properties!)).toEqual(expect.arrayContaining(["channel", "recipientContact", "templateCode", "preview", "dryRun"]));
  });

  it("refuses a request without a valid API key", async () => {
    await expect(connect(undefined)).rejects.toThrow(/401|missing API key/);
    await expect(connect("hk_not_a_key")).rejects.toThrow(/401|invalid or revoked/);
  });

  it("sends: the communication is stored, enqueued and readable with its timeline", async () => {
    const client = await connect(key);
    const sent = await tool(client, "send", sms);
    expect(sent.isError, sent.text).toBe(false);
    const { id, status } = sent.json();
    expect(status).toBe("queued");
    expect(queue.sent.map((m) => m.body.communicationId)).toEqual([id]);

    const viaHttp = await call("GET", `/api/communications/${id}`, { key });
    expect(viaHttp.json).toMatchObject({ id, channel: "sms", recipientContact: "+14155550123", content: "Your code is 4711" });

    const got = await tool(client, "get_communication", { id });
    expect(got.isError, got.text).toBe(false);
    expect(got.json()).toMatchObject({ id, status: "queued" });
    expect(got.json().events[0]).toMatchObject({ status: "queued" });

    const found = await tool(client, "search_communications", { channel: "sms", status: "queued" });
    expect(found.json()).toMatchObject({ count: 1, results: [{ id }] });
    const none = await tool(client, "search_communications", { channel: "email" });
    expect(none.json().count).toBe(0);
  });

  it("previews and dry-runs a send without storing or enqueueing anything", async () => {
    const created = await call("POST", "/api/communication-templates", {
      key,
      body: { name: "Code", code: "login_code", channel: "sms", type: "login", bodyTemplate: "Hi {{name}}, your code is {{code}}" },
    });
    expect(created.status, created.text).toBe(201);
    const client = await connect(key);
    const base = { channel: "sms", recipientContact: "+14155550123", templateCode: "login_code", templateVariables: { name: "Ada", code: "4711" } };

    const preview = await tool(client, "send", { ...base, preview: true });
    expect(preview.isError, preview.text).toBe(false);
    expect(preview.json()).toMatchObject({ preview: true, sent: false, messages: [{ channel: "sms", content: "Hi Ada, your code is 4711" }] });

    // The recipient turned SMS off: the dry run says the send would be suppressed (preferences apply).
    await tool(client, "update_preferences", { entityType: "customer", entityId: "c7", smsEnabled: false });
    const dry = await tool(client, "send", { ...base, recipientId: "c7", dryRun: true });
    expect(dry.json()).toMatchObject({ dryRun: true, valid: true, stored: false, wouldSend: [{ channel: "sms", status: "suppressed" }] });

    const badDry = await tool(client, "send", { ...base, templateCode: "no_such_template", dryRun: true });
    expect(badDry.isError).toBe(true);
    expect(badDry.text).toContain("templateCode");

    expect(queue.sent).toHaveLength(0);
    expect((await call("GET", "/api/communications", { key })).json.count).toBe(0);
  });

  it("a key without communications:send gets a tool error naming the scope, and its reads still work", async () => {
    const readOnly = await connect(await keyWith(["communications:read"]));
    const refused = await tool(readOnly, "send", sms);
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/403 forbidden: this API key lacks the scope "communications:send"/);
    const dry = await tool(readOnly, "send", { ...sms, dryRun: true });
    expect(dry.text).toContain("communications:send");
    expect(queue.sent).toHaveLength(0);

    const listed = await tool(readOnly, "search_communications");
    expect(listed.isError, listed.text).toBe(false);
    const stats = await tool(readOnly, "get_stats");
    expect(stats.isError).toBe(true);
    expect(stats.text).toContain('"stats:read"');
  });

  it("another tenant's message is not found", async () => {
    const sent = await tool(await connect(key), "send", sms);
    const { id } = sent.json();
    const other = await createTenant("Globex");
    const got = await tool(await connect(other.key), "get_communication", { id });
    expect(got.isError).toBe(true);
    expect(got.text).toMatch(/^404 not_found: communication not found/);
  });

  it("bad input comes back as a tool error naming the field", async () => {
    const client = await connect(key);
    const badPhone = await tool(client, "send", { ...sms, recipientContact: "+1 555 0000" });
    expect(badPhone.isError).toBe(true);
    expect(badPhone.text).toMatch(/^422 validation_failed/);
    expect(badPhone.text).toMatch(/- recipientContact: /);

    const noContent = await tool(client, "send", { channel: "email", recipientContact: "ada@example.com", subject: "Hi" });
    expect(noContent.text).toMatch(/- content: content, templateId or templateCode is required/);

    // The tool's own schema refuses a wrong type before any route runs, naming the argument too.
    const tooBig = await tool(client, "search_communications", { size: 1000 });
    expect(tooBig.isError).toBe(true);
    expect(tooBig.text).toMatch(/size/);

    const badDate = await tool(client, "get_stats", { startDate: "2026-13-45" });
    expect(badDate.text).toMatch(/- startDate: /);
    expect(queue.sent).toHaveLength(0);
  });

  it("templates, preferences, suppressions and stats go through their routes", async () => {
    const client = await connect(key);
    const templates = (await tool(client, "list_templates", { channel: "email" })).json().results as { id: string; code: string }[];
    expect(templates.length).toBeGreaterThan(0);
    const rendered = await tool(client, "preview_template", { templateId: templates[0]!.id, variables: {} });
    expect(rendered.isError, rendered.text).toBe(false);
    expect(rendered.json()).toHaveProperty("subject");
    // A preview writes nothing, so templates:read is enough for it, over MCP and HTTP alike.
    const reader = await connect(await keyWith(["templates:read"]));
    expect((await tool(reader, "preview_template", { templateId: templates[0]!.id })).isError).toBe(false);

    const changed = await tool(client, "update_preferences", { entityType: "customer", entityId: "c1", smsEnabled: false, timezone: "Europe/Paris" });
    expect(changed.json()).toMatchObject({ smsEnabled: false, timezone: "Europe/Paris" });
    expect((await tool(client, "get_preferences", { entityType: "customer", entityId: "c1" })).json()).toMatchObject({ exists: true, smsEnabled: false });
    const badZone = await tool(client, "update_preferences", { entityType: "customer", entityId: "c1", timezone: "Mars/Olympus" });
    expect(badZone.text).toMatch(/- timezone: /);

    expect((await tool(client, "add_suppression", { channel: "email", contact: "Ada@Example.com", reason: "complaint" })).json()).toMatchObject({ contact: "ada@example.com" });
    expect((await tool(client, "list_suppressions", { channel: "email" })).json().results).toMatchObject([{ contact: "ada@example.com", reason: "complaint" }]);
    expect((await tool(client, "remove_suppression", { channel: "email", contact: "ada@example.com" })).isError).toBe(false);
    expect((await tool(client, "list_suppressions")).json().results).toEqual([]);
    expect((await tool(client, "remove_suppression", { channel: "email", contact: "ada@example.com" })).text).toMatch(/^404/);

    await tool(client, "send", sms);
    const stats = (await tool(client, "get_stats")).json();
    expect(stats).toMatchObject({ totalAccepted: 1, byChannel: { sms: 1 } });
  });

  it("tool calls take tokens from the tenant's rate limit like API calls", async () => {
    expect((await call("PATCH", `/admin/tenants/${tenantId}`, { key: ADMIN, body: { rateLimit: { perSecond: 0.001, burst: 3 } } })).status).toBe(200);
    const client = await connect(key);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await tool(client, "search_communications"));
    expect(results.slice(0, 3).map((r) => r.isError)).toEqual([false, false, false]);
    expect(results[3]!.isError).toBe(true);
    expect(results[3]!.text).toMatch(/^429 rate_limited: rate limit exceeded/);
  });

  it("answers a lone JSON-RPC POST without a session (the curl in docs/mcp.md)", async () => {
    const res = await exports.default.fetch(`${BASE}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "send", arguments: { ...sms, dryRun: true } } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as { id: number; result: CallToolResult };
    expect(body.id).toBe(1);
    expect(JSON.parse((body.result.content[0] as { text: string }).text)).toMatchObject({ dryRun: true, valid: true });
  });

  it("answers GET and DELETE with 405: the server is stateless", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await exports.default.fetch(`${BASE}/mcp`, { method, headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" } });
      expect(res.status).toBe(405);
    }
  });
});
