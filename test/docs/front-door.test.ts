/**
 * `npm start` on a port other than 8787 (test/docs/dev-server.ts starts it with PORT=<free port>):
 * every URL the API hands out follows the port — a provider config's webhookUrl, the OpenAPI
 * `servers`, the click, open and unsubscribe links in a delivered email — and the start-up output
 * is one line per migrated database, then the banner, not wrangler's migration tables.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const dev = inject("devServer");

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${dev.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${dev.apiKey}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
};

describe("npm start output", () => {
  it("prints one line per migrated database, then the banner with the chosen port", () => {
    const beforeBanner = dev.output.slice(0, dev.output.indexOf("Herald is running on"));
    expect(beforeBanner).toMatch(/^\[herald\] D1 herald: \d+ migrations applied \((\d+|none) new\)$/m);
    expect(beforeBanner).not.toContain("0000_send_pipeline.sql");
    expect(beforeBanner).not.toContain("┌");
    expect(dev.output).toContain(`Herald is running on ${dev.url}\n`);
    expect(dev.output).toContain(`export HERALD=${dev.url} KEY=${dev.apiKey}`);
    expect(dev.port).not.toBe(8787);
  });
});

describe("PORT moves every URL the API hands out", () => {
  it("webhookUrl of each provider config", async () => {
    const configs = (await api("GET", "/api/providers")) as { results?: { webhookUrl: string }[] } | { webhookUrl: string }[];
    const list = Array.isArray(configs) ? configs : configs.results!;
    expect(list.length).toBeGreaterThan(0);
    for (const c of list) expect(c.webhookUrl).toMatch(new RegExp(`^${escape(dev.url)}/webhooks/sandbox/`));
  });

  it("the OpenAPI document's servers", async () => {
    const doc = (await (await fetch(`${dev.url}/openapi.json`)).json()) as { servers: unknown };
    expect(doc.servers).toEqual([{ url: dev.url }]);
  });

  describe("links in a delivered email (own tracking, a marketing type)", () => {
    // A SendGrid-shaped receiver on loopback (.dev.vars allows loopback provider URLs locally).
    const received: any[] = [];
    let mock: Server;
    let mockUrl: string;
    beforeAll(async () => {
      mock = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          received.push(JSON.parse(body));
          res.writeHead(202, { "x-message-id": `mock-${received.length}` }).end();
        });
      });
      await new Promise<void>((r) => mock.listen(0, "127.0.0.1", r));
      mockUrl = `http://127.0.0.1:${(mock.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise<void>((r) => mock.close(() => r())));

    it("click and open links and List-Unsubscribe point at PUBLIC_URL", async () => {
      const { tenant, apiKey } = await adminCreateTenant("front door links");
      const as = (method: string, path: string, body?: unknown) =>
        fetch(`${dev.url}${path}`, { method, headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      expect((await as("PATCH", "/api/settings", { tracking: "herald" })).status).toBe(200);
      const provider = await as("POST", "/api/providers", {
        channel: "email",
        provider: "sendgrid",
        credentials: { apiKey: "SG.local" },
        settings: { from: "news@example.com", baseUrl: mockUrl },
      });
      expect(provider.status, await provider.clone().text()).toBe(201);
      const sent = await as("POST", "/api/communications/send", {
        channel: "email",
        recipientContact: "ada@example.com",
        subject: "News",
        type: "newsletter",
        content: '<p>Read <a href="https://example.com/post">the post</a>.</p>',
      });
      expect(sent.status, await sent.clone().text()).toBe(201);
      await expect.poll(() => received.length, { timeout: 60_000, interval: 200 }).toBeGreaterThan(0);
      const mail = received.find((m) => m.personalizations[0].custom_args.herald_tenant_id === tenant.id);
      const html = mail.content.find((c: { type: string }) => c.type === "text/html").value as string;
      expect(html).toContain(`${dev.url}/t/c/`);
      expect(html).toContain(`${dev.url}/t/o/`);
      expect(html).not.toContain('href="https://example.com/post"');
      expect(mail.headers["List-Unsubscribe"]).toMatch(new RegExp(`^<${escape(dev.url)}/u/`));
    });
  });
});

async function adminCreateTenant(name: string) {
  const res = await fetch(`${dev.url}/admin/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${dev.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { tenant: { id: string }; apiKey: string };
}

function escape(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
