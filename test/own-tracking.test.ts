import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant, mockProviders, runDelivery, SENDGRID, sendgridAccepts } from "./helpers";

let key: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
  await addProvider(key, SENDGRID());
});

const html = '<html><body><p>Pay <a href="https://pay.acme.test/inv/1?x=1&amp;y=2">here</a> or <a href="mailto:a@b.test">mail us</a>.</p></body></html>';
const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;

async function sendTracked() {
  const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
  const res = await call("POST", "/api/communications/send", { key, body: { channel: "email", recipientContact: "a@b.test", subject: "Invoice", content: html } });
  await runDelivery(queue.drain().map((m) => m.body));
  vi.restoreAllMocks();
  queue = captureQueue();
  const sent = JSON.parse(net.requests[0]!.body);
  return { id: res.json.id as string, sent, htmlSent: sent.content.find((c: { type: string }) => c.type === "text/html").value as string };
}

const get = (url: string) => exports.default.fetch(url, { redirect: "manual" });

describe("Herald's own open and click tracking", () => {
  it("is the provider's job by default, and a tenant setting", async () => {
    expect((await call("GET", "/api/settings", { key })).json.tracking).toBe("provider");
    const { htmlSent, sent } = await sendTracked();
    expect(htmlSent).toBe(html);
    expect(sent.tracking_settings).toBeUndefined();
    const bad = await call("PATCH", "/api/settings", { key, body: { tracking: "spy" } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("tracking");
  });

  it("rewrites links, adds a pixel, switches SendGrid's tracking off, and records opens and clicks", async () => {
    expect((await call("PATCH", "/api/settings", { key, body: { tracking: "herald" } })).json.tracking).toBe("herald");
    const { id, sent, htmlSent } = await sendTracked();
    expect(sent.tracking_settings).toEqual({ click_tracking: { enable: false, enable_text: false }, open_tracking: { enable: false } });
    const click = /href="(https:\/\/herald\.test\/t\/c\/[^"]+)"/.exec(htmlSent)![1]!;
    const pixel = /src="(https:\/\/herald\.test\/t\/o\/[^"]+)"/.exec(htmlSent)![1]!;
    expect(htmlSent).toContain('href="mailto:a@b.test"');
    expect(htmlSent).not.toContain("pay.acme.test");

    const open1 = await get(pixel);
    expect(open1.status).toBe(200);
    expect(open1.headers.get("content-type")).toBe("image/gif");
    const firstOpen = (await detail(id)).openedAt;
    await get(pixel);
    let d = await detail(id);
    expect(d).toMatchObject({ status: "opened", openedAt: firstOpen });

    const redirect = await get(click);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("https://pay.acme.test/inv/1?x=1&y=2");
    d = await detail(id);
    expect(d.status).toBe("clicked");
    expect(d.clickedAt).toBeTruthy();
    const stats = await call("GET", "/api/communications/stats", { key });
    // The open implied the delivery no provider receipt reported: the numbers add up.
    expect(stats.json.byStatus).toMatchObject({ sent: 1, delivered: 1, opened: 1, clicked: 1 });
    expect(stats.json).toMatchObject({ deliveryRate: 1, openRate: 1, clickRate: 1 });
    expect((await detail(id)).deliveredAt).toBe(firstOpen);
  });

  it("counts repeats on the communication", async () => {
    await call("PATCH", "/api/settings", { key, body: { tracking: "herald" } });
    const { id, htmlSent } = await sendTracked();
    const pixel = /src="([^"]+\/t\/o\/[^"]+)"/.exec(htmlSent)![1]!;
    for (let i = 0; i < 3; i++) await get(pixel);
    const { env } = await import("cloudflare:workers");
    const row = await env.DB.prepare("SELECT open_count FROM communication WHERE id = ?").bind(id).first<{ open_count: number }>();
    expect(row!.open_count).toBe(3);
    expect((await detail(id)).events.filter((e: { kind: string }) => e.kind === "provider_event")).toHaveLength(3);
  });

  it("rejects tampered tokens: no open redirect, no forged opens", async () => {
    await call("PATCH", "/api/settings", { key, body: { tracking: "herald" } });
    const { id, htmlSent } = await sendTracked();
    const click = /href="([^"]+\/t\/c\/)([^"]+)"/.exec(htmlSent)!;
    const [payload, mac] = click[2]!.split(".");
    const decoded = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    const evil = btoa(JSON.stringify({ ...decoded, u: "https://evil.test/phish" })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const redirected = await get(`${click[1]}${evil}.${mac}`);
    expect(redirected.status).toBe(404);
    expect(redirected.headers.get("location")).toBeNull();
    expect((await get(`https://herald.test/t/o/${payload}.AAAA`)).status).toBe(404);
    expect((await get("https://herald.test/t/o/garbage")).status).toBe(404);
    expect((await detail(id)).status).toBe("sent");
  });
});
