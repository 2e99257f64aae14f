import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, captureQueue, createTenant, json } from "../helpers";
import { PROVIDERS } from "../../src/channels/registry";
import { mailgunBody } from "./email-signing";
import { detail, email, mockMultipart, outbound, postWebhook, providerEvents, sendAndDeliver, suppressions } from "./support";

const SIGNING_KEY = "mailgun-webhook-signing-key-0123456789";
const MAILGUN = (settings: Record<string, unknown> = {}, credentials: Record<string, unknown> = {}) => ({
  channel: "email",
  provider: "mailgun",
  priority: 1,
  credentials: { apiKey: "key-test-0123", webhookSigningKey: SIGNING_KEY, ...credentials },
  settings: { domain: "mg.acme.test", from: "billing@acme.test", fromName: "Acme Billing", ...settings },
});
const accepts = (id = "<20261123140000.1.ABCDEF@mg.acme.test>") => json(200, { id, message: "Queued. Thank you." });

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
});

describe("the Mailgun adapter", () => {
  it("posts a multipart form with Basic api:key to the US host, and keeps the Message-Id without brackets", async () => {
    await addProvider(key, MAILGUN());
    const net = mockMultipart({ "https://api.mailgun.net": accepts() });
    const id = await sendAndDeliver(key, queue);

    expect(net.requests).toHaveLength(1);
    const req = net.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.mailgun.net/v3/mg.acme.test/messages");
    expect(req.headers.get("authorization")).toBe(`Basic ${btoa("api:key-test-0123")}`);
    expect(req.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    const form = req.form;
    expect(Object.fromEntries(form)).toEqual({
      from: "Acme Billing <billing@acme.test>",
      to: "Ann Lee <ann@example.com>",
      subject: "Invoice INV-1",
      text: "Total: $10",
      html: "<p>Total: <b>$10</b></p>",
      "v:herald_communication_id": id,
      "v:herald_tenant_id": tenantId,
    });
    expect(await detail(key, id)).toMatchObject({ status: "sent", provider: "mailgun", providerMessageId: "20261123140000.1.ABCDEF@mg.acme.test" });
  });

  it("sends EU domains to api.eu.mailgun.net", async () => {
    await addProvider(key, MAILGUN({ region: "eu" }));
    const net = mockMultipart({ "https://api.eu.mailgun.net": accepts() });
    await sendAndDeliver(key, queue);
    expect(net.requests.map((r) => r.url)).toEqual(["https://api.eu.mailgun.net/v3/mg.acme.test/messages"]);
  });

  it("attaches inline content as file parts, skips URL-only attachments, passes headers and switches tracking off", async () => {
    const def = PROVIDERS.mailgun;
    const adapter = def.create(def.credentials.parse({ apiKey: "k" }), def.settings.parse({ domain: "mg.acme.test", from: "a@acme.test", replyTo: "help@acme.test" }));
    const net = mockMultipart({ "https://api.mailgun.net": accepts() });
    await adapter.send(
      outbound({
        tracking: "herald",
        headers: { "List-Unsubscribe": "<https://herald.test/u/t>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
        attachments: [
          { filename: "invoice.txt", content: btoa("total 10"), mimeType: "text/plain" },
          { filename: "logo.png", fileUrl: "https://cdn.acme.test/logo.png" },
        ],
      }),
    );
    const form = net.requests[0]!.form;
    expect(form.get("h:List-Unsubscribe")).toBe("<https://herald.test/u/t>");
    expect(form.get("h:List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    expect(form.get("h:Reply-To")).toBe("help@acme.test");
    expect(form.get("o:tracking-clicks")).toBe("no");
    expect(form.get("o:tracking-opens")).toBe("no");
    expect(form.get("text")).toBe("Hello Ann");
    expect(form.has("html")).toBe(false);
    const files = form.getAll("attachment") as File[];
    expect(files.map((f) => [f.name, f.type])).toEqual([["invoice.txt", "text/plain"]]);
    expect(await files[0]!.text()).toBe("total 10");
  });

  it.each([
    [429, "retryable"],
    [500, "retryable"],
    [503, "retryable"],
    [401, "provider"],
    [402, "provider"],
    [403, "provider"],
    [404, "provider"],
    [400, "permanent"],
    [413, "permanent"],
  ] as const)("classifies HTTP %i as %s", async (status, failure) => {
    const def = PROVIDERS.mailgun;
    const adapter = def.create(def.credentials.parse({ apiKey: "k" }), def.settings.parse({ domain: "mg.acme.test", from: "a@acme.test" }));
    mockMultipart({ "https://api.mailgun.net": json(status, { message: "nope" }, status === 429 ? { "retry-after": "30" } : {}) });
    const outcome = await adapter.send(outbound());
    expect(outcome).toMatchObject({ ok: false, failure, httpStatus: status, reason: `Mailgun answered ${status}: nope` });
    if (status === 429) expect(outcome).toMatchObject({ retryAfterSeconds: 30 });
  });

  it("fails a message Mailgun rejects as invalid, with its reason", async () => {
    await addProvider(key, MAILGUN());
    mockMultipart({ "https://api.mailgun.net": json(400, { message: "to parameter is not a valid address. please check documentation" }) });
    const id = await sendAndDeliver(key, queue);
    expect(await detail(key, id)).toMatchObject({ status: "failed", errorMessage: expect.stringContaining("not a valid address") });
  });
});

describe("Mailgun webhooks", () => {
  async function setup(credentials: Record<string, unknown> = {}) {
    const provider = await addProvider(key, MAILGUN({}, credentials));
    mockMultipart({ "https://api.mailgun.net": accepts("<mg-1@mg.acme.test>") });
    const id = await sendAndDeliver(key, queue);
    return { id, url: provider.webhookUrl };
  }
  let seq = 0;
  const event = (id: string | null, name: string, extra: Record<string, unknown> = {}) => ({
    event: name,
    id: `evt-${++seq}-${Math.random().toString(36).slice(2)}`,
    timestamp: Date.now() / 1000,
    recipient: "ann@example.com",
    message: { headers: { "message-id": "mg-1@mg.acme.test" } },
    "user-variables": id ? { herald_communication_id: id } : {},
    ...extra,
  });
  const post = async (url: string, data: Record<string, unknown>, signingKey = SIGNING_KEY, timestamp?: number) =>
    postWebhook(url, await mailgunBody(signingKey, data, timestamp), { "content-type": "application/json" });

  it("moves a message through delivered, opened and clicked", async () => {
    const { id, url } = await setup();
    for (const name of ["accepted", "delivered", "opened"]) expect((await post(url, event(id, name))).status).toBe(200);
    const click = await post(url, event(id, "clicked", { url: "https://acme.test/pay" }));
    expect(click.json).toEqual({ received: 1, applied: 1, ignored: 0, moved: 1 });
    const d = await detail(key, id);
    expect(d.status).toBe("clicked");
    for (const at of ["deliveredAt", "openedAt", "clickedAt"]) expect(d[at], at).toBeTruthy();
    expect(providerEvents(d)).toEqual(["accepted", "delivered", "opened", "clicked"]);
    expect(JSON.stringify(d.events)).not.toContain("ann@example.com");
  });

  it("matches by Message-Id when the custom variables are missing, and ignores a retried event", async () => {
    const { id, url } = await setup();
    const delivered = event(null, "delivered");
    await post(url, delivered);
    expect((await post(url, delivered)).json.moved).toBe(0);
    const d = await detail(key, id);
    expect(d.status).toBe("delivered");
    expect(providerEvents(d)).toEqual(["delivered"]);
  });

  it("bounces and suppresses on a permanent failure; a temporary one changes nothing", async () => {
    const { id, url } = await setup();
    await post(url, event(id, "failed", { severity: "temporary", reason: "generic", "delivery-status": { code: 452, message: "mailbox full" } }));
    expect((await detail(key, id)).status).toBe("sent");
    await post(url, event(id, "failed", { severity: "permanent", reason: "bounce", "delivery-status": { code: 550, description: "5.1.1 user unknown" } }));
    expect(await detail(key, id)).toMatchObject({ status: "bounced", errorMessage: "bounced: bounce: 550 5.1.1 user unknown" });
    expect(await suppressions(key)).toEqual([expect.objectContaining({ contact: "ann@example.com", reason: "bounce", source: "mailgun", communicationId: id })]);
  });

  it("suppresses on a complaint without changing the status", async () => {
    const { id, url } = await setup();
    await post(url, event(id, "delivered"));
    await post(url, event(id, "complained"));
    expect((await detail(key, id)).status).toBe("delivered");
    expect(await suppressions(key)).toEqual([expect.objectContaining({ reason: "complaint", source: "mailgun" })]);
  });

  it("rejects unsigned, forged, tampered and replayed requests without changing anything", async () => {
    const { id, url } = await setup();
    const data = event(id, "delivered");
    const unsigned = await postWebhook(url, JSON.stringify({ "event-data": data }), { "content-type": "application/json" });
    expect(unsigned.status).toBe(401);
    expect((await post(url, data, "someone-elses-key")).status).toBe(403);
    const signed = JSON.parse(await mailgunBody(SIGNING_KEY, data));
    signed.signature.token = signed.signature.token.replace(/^./, (c: string) => (c === "a" ? "b" : "a"));
    expect((await postWebhook(url, JSON.stringify(signed), { "content-type": "application/json" })).status).toBe(403);
    const replayed = await post(url, data, SIGNING_KEY, Math.floor(Date.now() / 1000) - 2 * 3600);
    expect(replayed.status).toBe(403);
    expect(replayed.json.detail).toMatch(/replay window/);
    const d = await detail(key, id);
    expect(d.status).toBe("sent");
    expect(providerEvents(d)).toEqual([]);
  });

  it("refuses webhooks for a config with no signing key", async () => {
    const { url } = await setup({ webhookSigningKey: undefined });
    const res = await post(url, event(null, "delivered"));
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/webhookSigningKey/);
  });

  it("answers 400 for a signed body that is not a Mailgun event", async () => {
    const { url } = await setup();
    const body = JSON.parse(await mailgunBody(SIGNING_KEY, {}));
    delete body["event-data"];
    expect((await postWebhook(url, JSON.stringify(body), { "content-type": "application/json" })).status).toBe(400);
  });
});

it("sends no request for an address a Mailgun bounce suppressed", async () => {
  const provider = await addProvider(key, MAILGUN());
  const net = mockMultipart({ "https://api.mailgun.net": accepts() });
  const first = await sendAndDeliver(key, queue);
  await postWebhook(
    provider.webhookUrl,
    await mailgunBody(SIGNING_KEY, { event: "failed", id: "e-1", timestamp: Date.now() / 1000, severity: "permanent", reason: "suppress-bounce", "user-variables": { herald_communication_id: first } }),
    { "content-type": "application/json" },
  );
  const next = await sendAndDeliver(key, queue, email);
  expect(net.requests).toHaveLength(1);
  expect((await detail(key, next)).status).toBe("suppressed");
});
