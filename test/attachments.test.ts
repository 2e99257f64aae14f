import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import api from "../src/index";
import { base64Encode } from "../src/lib/base64";
import { addProvider, call, captureQueue, createTenant, json, mockProviders, runDelivery, SENDGRID, sendgridAccepts, type RecordedRequest } from "./helpers";

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
});

/** `n` bytes that are not all alike, so a truncated or shifted copy cannot pass for the original. */
const fileOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
const MB = 1024 * 1024;

const POSTMARK = { channel: "email", provider: "postmark", priority: 1, credentials: { serverToken: "server-token-0123" }, settings: { from: "billing@acme.test", baseUrl: "https://postmark.mock" } };
const postmarkAccepts = json(200, { MessageID: "pm-1", ErrorCode: 0, Message: "OK" });
const RESEND = { channel: "email", provider: "resend", priority: 1, credentials: { apiKey: "re_test_0123" }, settings: { from: "billing@acme.test", baseUrl: "https://resend.mock" } };

const email = (attachments: unknown[], extra: Record<string, unknown> = {}) => ({
  channel: "email",
  recipientContact: "ann@example.com",
  subject: "Your invoice",
  content: "<p>Attached.</p>",
  attachments,
  ...extra,
});

async function send(body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body });
  expect(res.status, res.text.slice(0, 500)).toBe(201);
  return res.json.id as string;
}
const detail = async (id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
const deliverEnqueued = () => runDelivery(queue.drain().map((m) => m.body));
const storedRow = (id: string) => env.DB.prepare("SELECT attachments FROM communication WHERE id = ?").bind(id).first<{ attachments: string }>();
const objectsOf = async (id: string) => (await env.ATTACHMENTS.list({ prefix: `${tenantId}/${id}/` })).objects.map((o) => o.key);
const sendgridAttachments = (r: RecordedRequest) => JSON.parse(r.body).attachments as { content: string; filename: string; type?: string }[];

describe("inline attachments", () => {
  it("keeps a small file in the row and moves a large one to R2; the provider receives both files' bytes", async () => {
    await addProvider(key, SENDGRID());
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const small = base64Encode(fileOf(2_000));
    const large = base64Encode(fileOf(300_000));
    const id = await send(email([
      { filename: "note.txt", content: small, mimeType: "text/plain" },
      { filename: "invoice.pdf", content: large, mimeType: "application/pdf" },
    ]));

    // Neither the row nor the queue message carries the large file.
    const row = await storedRow(id);
    expect(row!.attachments.length).toBeLessThan(4_000);
    expect(JSON.parse(row!.attachments)).toEqual([
      { filename: "note.txt", content: small, mimeType: "text/plain", size: 2_000 },
      { filename: "invoice.pdf", mimeType: "application/pdf", size: 300_000, storageKey: `${tenantId}/${id}/1` },
    ]);
    const messages = queue.sent.map((m) => JSON.stringify(m.body));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.length).toBeLessThan(300);
    const object = await env.ATTACHMENTS.get(`${tenantId}/${id}/1`);
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(fileOf(300_000));
    expect(object!.httpMetadata?.contentType).toBe("application/pdf");

    await deliverEnqueued();
    expect(sendgridAttachments(net.requests[0]!)).toEqual([
      { filename: "note.txt", content: small, type: "text/plain", disposition: "attachment" },
      { filename: "invoice.pdf", content: large, type: "application/pdf", disposition: "attachment" },
    ]);
    expect(await detail(id)).toMatchObject({ status: "sent" });
  });

  it("lists attachments on the detail with their source and size, never their content", async () => {
    await addProvider(key, SENDGRID());
    const id = await send(email([
      { filename: "a.txt", content: base64Encode(fileOf(10)), mimeType: "text/plain" },
      { filename: "b.bin", content: base64Encode(fileOf(100_000)) },
      { filename: "c.pdf", fileUrl: "https://files.acme.test/c.pdf", mimeType: "application/pdf" },
    ]));
    const d = await detail(id);
    expect(d.attachments).toEqual([
      { filename: "a.txt", mimeType: "text/plain", size: 10, source: "inline" },
      { filename: "b.bin", mimeType: null, size: 100_000, source: "stored" },
      { filename: "c.pdf", mimeType: "application/pdf", size: null, source: "url", fileUrl: "https://files.acme.test/c.pdf" },
    ]);
    expect(JSON.stringify(d)).not.toContain(base64Encode(fileOf(10)));
  });

  it("refuses inline content over 20 MB in total with a 422 naming attachments", async () => {
    await addProvider(key, SENDGRID());
    const chunk = base64Encode(fileOf(Math.round(6.8 * MB))); // 20.4 MB in all, under the 28 MB body limit as base64
    const res = await call("POST", "/api/communications/send", {
      key,
      body: email([1, 2, 3].map((n) => ({ filename: `part-${n}.bin`, content: chunk }))),
    });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([expect.objectContaining({ field: "attachments", message: expect.stringContaining("20 MB") })]);
    expect(await env.ATTACHMENTS.list({ prefix: `${tenantId}/` })).toMatchObject({ objects: [] });
  }, 60_000);

  it("refuses a file larger than every provider of the channel takes with a 422 naming it", async () => {
    await addProvider(key, POSTMARK);
    const res = await call("POST", "/api/communications/send", {
      key,
      body: email([
        { filename: "small.txt", content: base64Encode(fileOf(100)) },
        { filename: "scan.tiff", content: base64Encode(fileOf(8 * MB)), mimeType: "image/tiff" },
      ]),
    });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([{ field: "attachments", message: expect.stringMatching(/postmark takes at most 10\.0 MB.*largest: scan\.tiff/) }]);
    expect(await env.ATTACHMENTS.list({ prefix: `${tenantId}/` })).toMatchObject({ objects: [] });

    // With a provider that takes it, the same send is accepted.
    await addProvider(key, { ...SENDGRID(), priority: 2 });
    const ok = await call("POST", "/api/communications/send", { key, body: email([{ filename: "scan.tiff", content: base64Encode(fileOf(8 * MB)) }]) });
    expect(ok.status).toBe(201);
  }, 60_000);

  it("gives a resend its own copy of stored files", async () => {
    await addProvider(key, SENDGRID());
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    const large = base64Encode(fileOf(200_000));
    const id = await send(email([{ filename: "big.bin", content: large }]));
    const res = await call("POST", `/api/communications/${id}/resend`, { key });
    expect(res.status, res.text).toBe(201);
    const copy = res.json.id as string;
    expect(await objectsOf(copy)).toEqual([`${tenantId}/${copy}/0`]);
    await env.ATTACHMENTS.delete(`${tenantId}/${id}/0`);
    await deliverEnqueued();
    const sent = net.requests.map(sendgridAttachments);
    expect(sent).toHaveLength(1);
    expect(sent[0]![0]!.content).toBe(large);
    expect(await detail(id)).toMatchObject({ status: "failed", errorMessage: expect.stringContaining("big.bin is no longer stored") });
    expect(await detail(copy)).toMatchObject({ status: "sent" });
  });
});

describe("file URLs for email", () => {
  it("are fetched by Herald for providers that need the bytes", async () => {
    await addProvider(key, SENDGRID());
    const pdf = fileOf(50_000);
    const net = mockProviders({
      "https://sendgrid.mock": sendgridAccepts(),
      "https://files.acme.test": () => new Response(pdf, { headers: { "content-type": "application/pdf" } }),
    });
    const id = await send(email([{ filename: "invoice.pdf", fileUrl: "https://files.acme.test/inv-1.pdf", mimeType: "application/pdf" }]));
    await deliverEnqueued();
    expect(net.requests.map((r) => r.url)).toEqual(["https://files.acme.test/inv-1.pdf", "https://sendgrid.mock/v3/mail/send"]);
    expect(sendgridAttachments(net.requests[1]!)).toEqual([{ filename: "invoice.pdf", content: base64Encode(pdf), type: "application/pdf", disposition: "attachment" }]);
    expect(await detail(id)).toMatchObject({ status: "sent" });
  });

  it("are handed to Resend as a path, which it fetches itself", async () => {
    await addProvider(key, RESEND);
    const net = mockProviders({ "https://resend.mock": json(200, { id: "re-1" }) });
    await send(email([{ filename: "invoice.pdf", fileUrl: "https://files.acme.test/inv-1.pdf" }]));
    await deliverEnqueued();
    expect(net.requests.map((r) => new URL(r.url).origin)).toEqual(["https://resend.mock"]);
    expect(JSON.parse(net.requests[0]!.body).attachments).toEqual([{ filename: "invoice.pdf", path: "https://files.acme.test/inv-1.pdf" }]);
  });

  it("are not followed to a private address: the send fails for good without reaching the provider", async () => {
    await addProvider(key, SENDGRID());
    const net = mockProviders({
      "https://sendgrid.mock": sendgridAccepts(),
      "https://files.acme.test": () => new Response(null, { status: 302, headers: { location: "https://169.254.169.254/latest/meta-data/" } }),
    });
    const id = await send(email([{ filename: "invoice.pdf", fileUrl: "https://files.acme.test/inv-1.pdf" }]));
    await deliverEnqueued();
    expect(net.requests.map((r) => r.url)).toEqual(["https://files.acme.test/inv-1.pdf"]);
    expect(await detail(id)).toMatchObject({ status: "failed", errorMessage: expect.stringContaining("must not point at a private or local address") });
  });

  it("are retried when they cannot be fetched now", async () => {
    await addProvider(key, SENDGRID());
    const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts(), "https://files.acme.test": json(503, {}) });
    const id = await send(email([{ filename: "invoice.pdf", fileUrl: "https://files.acme.test/inv-1.pdf" }]));
    const { retrySpies } = await deliverEnqueued();
    expect(retrySpies[0]).toHaveBeenCalled();
    expect(net.requests.map((r) => new URL(r.url).origin)).toEqual(["https://files.acme.test"]);
    expect(await detail(id)).toMatchObject({ status: "queued", retryCount: 1, errorMessage: expect.stringContaining("invoice.pdf: fetching it answered 503") });
  });

  it("fail over to a provider whose limit fits once the fetched size is known, or fail with the reason", async () => {
    await addProvider(key, POSTMARK);
    const big = fileOf(8 * MB);
    const routes = { "https://postmark.mock": postmarkAccepts, "https://sendgrid.mock": sendgridAccepts(), "https://files.acme.test": () => new Response(big) };
    let net = mockProviders(routes);
    const alone = await send(email([{ filename: "scan.bin", fileUrl: "https://files.acme.test/scan.bin" }]));
    await deliverEnqueued();
    expect(net.requests.map((r) => new URL(r.url).origin)).toEqual(["https://files.acme.test"]);
    expect(await detail(alone)).toMatchObject({ status: "failed", errorMessage: expect.stringMatching(/postmark takes at most 10\.0 MB/) });

    await addProvider(key, { ...SENDGRID(), priority: 2 });
    vi.restoreAllMocks();
    queue = captureQueue();
    net = mockProviders(routes);
    const id = await send(email([{ filename: "scan.bin", fileUrl: "https://files.acme.test/scan.bin" }]));
    await deliverEnqueued();
    expect(net.requests.map((r) => new URL(r.url).origin)).toEqual(["https://files.acme.test", "https://sendgrid.mock"]);
    expect(sendgridAttachments(net.requests[1]!)[0]!.content.length).toBe(Math.ceil(big.length / 3) * 4);
    const d = await detail(id);
    expect(d).toMatchObject({ status: "sent", provider: "sendgrid" });
    expect(d.events.find((e: { kind: string }) => e.kind === "failover")).toMatchObject({ provider: "sendgrid", error: expect.stringContaining("postmark takes at most") });
  }, 60_000);
});

describe("stored files end with the communication's content", () => {
  const runCron = async () => {
    const ctx = createExecutionContext();
    await api.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
  };

  it("are deleted by retention", async () => {
    await addProvider(key, SENDGRID());
    mockProviders({ "https://sendgrid.mock": sendgridAccepts() });
    await call("PATCH", "/api/settings", { key, body: { retentionDays: 30 } });
    const id = await send(email([{ filename: "big.bin", content: base64Encode(fileOf(100_000)) }]));
    const fresh = await send(email([{ filename: "big.bin", content: base64Encode(fileOf(100_000)) }]));
    await deliverEnqueued();
    await env.DB.prepare("UPDATE communication SET created_at = ? WHERE id = ?").bind(Date.now() - 31 * 86_400_000, id).run();
    await runCron();
    expect(await objectsOf(id)).toEqual([]);
    expect(await objectsOf(fresh)).toEqual([`${tenantId}/${fresh}/0`]);
    expect((await detail(id)).attachments).toEqual([]);
  });

  it("are deleted by recipient erasure, and only the erased recipient's", async () => {
    await addProvider(key, SENDGRID());
    const id = await send(email([{ filename: "big.bin", content: base64Encode(fileOf(100_000)) }], { recipientType: "customer", recipientId: "ada" }));
    const other = await send(email([{ filename: "big.bin", content: base64Encode(fileOf(100_000)) }], { recipientType: "customer", recipientId: "bob" }));
    expect(await objectsOf(id)).toHaveLength(1);
    const res = await call("DELETE", "/api/recipients/customer/ada", { key });
    expect(res.status, res.text).toBe(200);
    expect(await objectsOf(id)).toEqual([]);
    expect(await objectsOf(other)).toHaveLength(1);
  });
});
