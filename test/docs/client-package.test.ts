/**
 * `@herald/client` as a user gets it: built and packed with `npm pack`, installed from the tarball
 * into a scratch project outside the repository (offline: the package has no dependencies),
 * type-checked there with a plain tsconfig, and run with node against `npm start`. Then the
 * answers of documented routes, fetched raw, are validated against the response schemas in the
 * served /openapi.json (ajv, extra fields included).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const dev = inject("devServer");
const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const PACKAGE = join(ROOT, "packages/client");
const TSC = join(ROOT, "node_modules/.bin/tsc");

// A program outside the repository, written into the scratch project (not a file of this
// repository, which the root tsc would check against packages/client/src instead of the tarball).
const MAIN_TS = `import { collect, HeraldClient, ProblemError, type Communication } from "@herald/client";

// The scratch project has no @types/node: only what this script reads from it.
declare const process: { env: Record<string, string | undefined> };

const herald = new HeraldClient({ baseUrl: process.env.HERALD!, apiKey: process.env.KEY! });
const recipientId = process.env.RECIPIENT!;

const sent = await herald.communications.send({ channel: "in_app", recipientType: "customer", recipientId, recipientContact: "customer/" + recipientId, content: "Hello from the package" });
if (!("id" in sent)) throw new Error("expected a single send");
const read: Communication = await herald.communications.get(sent.id);
const listed = await collect(herald.communications.all({ channel: "in_app", recipientId, size: 1 }));

// @ts-expect-error -- the types are the package's own, not any: there is no such channel
void (() => herald.communications.send({ channel: "pigeon", content: "x" }));

let problem: { status: number; code: string; field: string | undefined; requestId: string | null } | null = null;
try {
  await herald.communications.send({ channel: "email", recipientContact: "not-an-email", subject: "x", content: "x" });
} catch (e) {
  if (e instanceof ProblemError) problem = { status: e.status, code: e.code, field: e.fieldError("recipientContact"), requestId: e.requestId };
  else throw e;
}

console.log(JSON.stringify({ sentId: sent.id, read: { id: read.id, channel: read.channel, content: read.content, events: (await herald.communications.timeline(sent.id)).length }, listed: listed.map((c) => c.id), problem }));
`;

let scratch: string;
const run = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false", ...env }, stdio: ["ignore", "pipe", "pipe"] });

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "herald-client-scratch-"));
  const packs = join(scratch, "packs");
  mkdirSync(packs);
  // prepack builds dist/ first (clean, then tsc).
  run("npm", ["pack", "--pack-destination", packs], PACKAGE);
  const [tarball] = readdirSync(packs).filter((f) => f.endsWith(".tgz"));
  const app = join(scratch, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", lib: ["es2022", "dom"], types: [], strict: true, skipLibCheck: false, outDir: "out" }, include: ["main.ts"] }),
  );
  writeFileSync(join(app, "main.ts"), MAIN_TS);
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(packs, tarball!)], app);
}, 240_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("@herald/client from its tarball", () => {
  it("installs with no dependencies, type-checks in a project of its own, and sends and reads back a message", () => {
    const app = join(scratch, "app");
    expect(readdirSync(join(app, "node_modules")).filter((d) => !d.startsWith("."))).toEqual(["@herald"]);
    // Compiles with the package's declarations (skipLibCheck off, so they are checked too).
    run(TSC, ["-p", "tsconfig.json"], app);
    const out = run("node", ["out/main.js"], app, { HERALD: dev.url, KEY: dev.apiKey, RECIPIENT: `pkg-${Date.now()}` });
    const result = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(result.read).toEqual({ id: result.sentId, channel: "in_app", content: "Hello from the package", events: expect.any(Number) });
    expect(result.read.events).toBeGreaterThanOrEqual(1);
    expect(result.listed).toEqual([result.sentId]);
    expect(result.problem).toEqual({ status: 422, code: "validation_failed", field: "must be an email address", requestId: expect.stringMatching(/\S/) });
  });
});

describe("answers match the response schemas /openapi.json documents", () => {
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${dev.url}${path}`, { method, headers: { authorization: `Bearer ${dev.apiKey}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });

  it("for sends, communications, templates, providers, preferences, webhooks and problems", async () => {
    const doc = (await (await fetch(`${dev.url}/openapi.json`)).json()) as any;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: "doc", components: doc.components });
    const check = async (method: string, route: string, path: string, body?: unknown) => {
      const res = await api(method, path, body);
      const json = (await res.json()) as any;
      const responses = doc.paths[route][method.toLowerCase()].responses;
      const documented = responses[String(res.status)];
      expect(documented, `${method} ${path} answered ${res.status}, which is not documented: ${JSON.stringify(json)}`).toBeDefined();
      const ref = documented.$ref ? doc.components.responses[documented.$ref.split("/").pop()].content["application/problem+json"].schema.$ref : documented.content["application/json"].schema.$ref;
      expect(ref, `${method} ${route} names no response schema`).toMatch(/^#\/components\/schemas\//);
      const validate = ajv.getSchema(`doc${ref}`)!;
      expect(validate(json), `${method} ${path}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(json)}`).toBe(true);
      return json;
    };
    const who = `schema-${Date.now()}`;
    const sent = await check("POST", "/api/communications/send", "/api/communications/send", { channel: "in_app", recipientId: who, recipientContact: `customer/${who}`, content: "schema check" });
    await check("GET", "/api/communications/{id}", `/api/communications/${sent.id}`);
    await check("GET", "/api/communications", "/api/communications?size=5");
    const template = await check("POST", "/api/communication-templates", "/api/communication-templates", { name: "Schema", code: who, channel: "sms", type: "otp", bodyTemplate: "Code {{code}}" });
    await check("GET", "/api/communication-templates/{id}", `/api/communication-templates/${template.id}`);
    await check("GET", "/api/providers", "/api/providers");
    await check("PATCH", "/api/communication-preferences/{entityType}/{entityId}", `/api/communication-preferences/customer/${who}`, { smsEnabled: false, quietHours: { start: "22:00", end: "07:00" } });
    const hook = await check("POST", "/api/webhooks", "/api/webhooks", { url: "http://127.0.0.1:9/hook", enabled: false });
    await check("GET", "/api/webhooks/{id}", `/api/webhooks/${hook.id}`);
    await check("GET", "/api/communications/{id}", "/api/communications/no-such-id");
    await check("POST", "/api/communications/send", "/api/communications/send", { channel: "email", recipientContact: "nope", content: "x" });
  });
});
