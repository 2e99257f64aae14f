import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, captureQueue, json, mockProviders } from "../helpers";
import { metaMessenger } from "../../src/channels/messenger/meta-messenger";
import type { FailureKind, OutboundMessage } from "../../src/channels/types";
import { hubSignature } from "../../src/channels/whatsapp/meta-graph";
import { messengerDelivery, messengerRead, PAGE_ID } from "./meta-vonage-payloads";
import { detail as detailOf, freshTenant, outbound, sendAndRun } from "./support";

const TOKEN = "EAAPageAccessToken-test";
const APP_SECRET = "fedcba9876543210fedcba9876543210";
const VERIFY_TOKEN = "messenger-verify-token";
const GRAPH = "https://graph.mock";
const PSID = "6543210987654321";

const MESSENGER = (settings: Record<string, unknown> = {}) => ({
  channel: "messenger",
  provider: "meta_messenger",
  priority: 1,
  credentials: { accessToken: TOKEN, appSecret: APP_SECRET },
  settings: { pageId: PAGE_ID, baseUrl: GRAPH, webhookVerifyToken: VERIFY_TOKEN, ...settings },
});
const accepts = (...ids: string[]) => {
  let n = 0;
  return () => Response.json({ recipient_id: PSID, message_id: ids[n++] ?? `m_extra${n}` });
};

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  ({ key, queue } = await freshTenant());
});

const detail = (id: string) => detailOf(key, id);
const sendAndDeliver = (body: Record<string, unknown>) => sendAndRun(key, queue, { channel: "messenger", recipientContact: PSID, ...body });
async function postWebhook(url: string, payload: unknown, secret: string | null = APP_SECRET) {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret) headers["x-hub-signature-256"] = await hubSignature(secret, body);
  const res = await exports.default.fetch(url, { method: "POST", body, headers });
  return { status: res.status, json: (await res.json()) as any };
}

const adapter = (settings: Record<string, unknown> = {}) =>
  metaMessenger.create(metaMessenger.credentials.parse({ accessToken: TOKEN }), metaMessenger.settings.parse({ baseUrl: GRAPH, ...settings }));
const message = (over: Partial<OutboundMessage> = {}) =>
  outbound({
    communicationId: "0194f7a2-5b1c-7d3e-8f90-123456789abc",
    tenantId: "0194f7a2-0000-7000-8000-000000000001",
    channel: "messenger",
    to: PSID,
    subject: null,
    content: "Your table for two is confirmed for 19:30.",
    statusCallbackUrl: "https://herald.test/webhooks/meta_messenger/cfg?c=x",
    ...over,
  });

describe("the Meta Messenger adapter", () => {
  it("posts a text message to the Page's messages edge with the Page token", async () => {
    await addProvider(key, MESSENGER());
    const net = mockProviders({ [GRAPH]: accepts("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P") });
    const { id } = await sendAndDeliver({ content: "Your table is confirmed." });
    const req = net.requests[0]!;
    expect(req.url).toBe(`${GRAPH}/v23.0/${PAGE_ID}/messages`);
    expect(req.method).toBe("POST");
    expect(req.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(req.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({ recipient: { id: PSID }, messaging_type: "UPDATE", message: { text: "Your table is confirmed." } });
    expect(await detail(id)).toMatchObject({ status: "sent", provider: "meta_messenger", providerMessageId: expect.stringMatching(/^m_AG5H/) });
  });

  it("sends as /me without a page id, and with a message tag when configured", async () => {
    const net = mockProviders({ "https://graph.facebook.com": accepts("m_1") });
    const a = metaMessenger.create(metaMessenger.credentials.parse({ accessToken: TOKEN }), metaMessenger.settings.parse({ messagingType: "MESSAGE_TAG", tag: "POST_PURCHASE_UPDATE" }));
    expect(await a.send(message())).toMatchObject({ ok: true, providerMessageId: "m_1" });
    expect(net.requests[0]!.url).toBe("https://graph.facebook.com/v23.0/me/messages");
    expect(JSON.parse(net.requests[0]!.body)).toEqual({
      recipient: { id: PSID },
      messaging_type: "MESSAGE_TAG",
      tag: "POST_PURCHASE_UPDATE",
      message: { text: "Your table for two is confirmed for 19:30." },
    });
  });

  it("refuses a tag without MESSAGE_TAG and MESSAGE_TAG without a tag", async () => {
    for (const settings of [{ tag: "ACCOUNT_UPDATE" }, { messagingType: "MESSAGE_TAG" }, { messagingType: "PROMOTION" }]) {
      expect((await call("POST", "/api/providers", { key, body: MESSENGER(settings) })).status, JSON.stringify(settings)).toBe(422);
    }
  });

  it("sends the text, then one message per attachment URL", async () => {
    const net = mockProviders({ [GRAPH]: accepts("m_text", "m_img", "m_pdf") });
    const outcome = await adapter().send(
      message({
        attachments: [
          { filename: "menu.png", fileUrl: "https://files.test/menu.png", mimeType: "image/png" },
          { filename: "terms.pdf", fileUrl: "https://files.test/terms.pdf", mimeType: "application/pdf" },
        ],
      }),
    );
    expect(outcome).toMatchObject({ ok: true, providerMessageId: "m_text" });
    const head = { recipient: { id: PSID }, messaging_type: "UPDATE" };
    expect(net.requests.map((r) => JSON.parse(r.body))).toEqual([
      { ...head, message: { text: "Your table for two is confirmed for 19:30." } },
      { ...head, message: { attachment: { type: "image", payload: { url: "https://files.test/menu.png" } } } },
      { ...head, message: { attachment: { type: "file", payload: { url: "https://files.test/terms.pdf" } } } },
    ]);
  });

  it("refuses inline attachment content without calling Meta", async () => {
    const net = mockProviders({});
    expect(await adapter().send(message({ attachments: [{ filename: "a.txt", content: btoa("hi") }] }))).toMatchObject({ ok: false, failure: "permanent" });
    expect(net.requests).toHaveLength(0);
  });

  const cases: [string, number, number, number | undefined, FailureKind, RegExp][] = [
    ["outside the 24-hour window", 400, 10, 2018278, "permanent", /^outside Messenger's 24-hour window: .*MESSAGE_TAG.* \(error 10\/2018278\)$/],
    ["temporary send failure", 500, 1200, undefined, "retryable", /1200/],
    ["unexpected error", 500, 2, undefined, "retryable", /\(error 2\)/],
    ["application rate limit", 400, 4, undefined, "retryable", /\(error 4\)/],
    ["Page rate limit", 400, 613, undefined, "retryable", /613/],
    ["person unavailable", 400, 551, 1545041, "permanent", /551\/1545041/],
    ["no matching user", 400, 100, 2018001, "permanent", /100\/2018001/],
    ["bad token", 401, 190, undefined, "provider", /190/],
    ["permission missing", 403, 10, undefined, "provider", /\(error 10\)/],
    ["permissions series", 403, 230, undefined, "provider", /230/],
    ["invalid parameter", 400, 100, undefined, "permanent", /\(error 100\)/],
  ];
  it.each(cases)("%s (HTTP %i, %i/%s) is %s", async (_name, status, code, subcode, failure, reason) => {
    mockProviders({ [GRAPH]: json(status, { error: { message: "(#x) Meta says no", type: "OAuthException", code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: "A1" } }) });
    const outcome = await adapter().send(message());
    expect(outcome).toMatchObject({ ok: false, failure, httpStatus: status });
    expect(outcome.ok ? "" : outcome.reason).toMatch(reason);
  });

  it("fails a send outside the window with the actionable reason, not retried", async () => {
    await addProvider(key, MESSENGER());
    mockProviders({ [GRAPH]: json(400, { error: { message: "(#10) This message is sent outside of allowed window.", type: "OAuthException", code: 10, error_subcode: 2018278 } }) });
    const { id, retrySpies } = await sendAndDeliver({ content: "Your order shipped" });
    expect(retrySpies[0]).not.toHaveBeenCalled();
    const d = await detail(id);
    expect(d.status).toBe("failed");
    expect(d.errorMessage).toMatch(/^outside Messenger's 24-hour window/);
  });
});

describe("Messenger webhooks", () => {
  async function sent() {
    const provider = await addProvider(key, MESSENGER());
    mockProviders({ [GRAPH]: accepts("m_abc") });
    const { id } = await sendAndDeliver({ content: "hi" });
    return { url: provider.webhookUrl, id };
  }

  it("marks messages delivered by the ids in a signed delivery receipt", async () => {
    const { url, id } = await sent();
    const res = await postWebhook(url, messengerDelivery(PSID, ["m_abc", "m_someone_elses"]));
    expect(res).toEqual({ status: 200, json: { received: 2, applied: 1, ignored: 1, moved: 1 } });
    const d = await detail(id);
    expect(d.status).toBe("delivered");
    expect(JSON.stringify(d.events)).not.toContain(PSID);
    const again = await postWebhook(url, messengerDelivery(PSID, ["m_abc"]));
    expect(again.json.moved).toBe(0);
  });

  it("accepts read receipts, which name no message, without moving anything", async () => {
    const { url, id } = await sent();
    expect((await postWebhook(url, messengerRead(PSID))).json).toEqual({ received: 0, applied: 0, ignored: 0, moved: 0 });
    expect((await detail(id)).status).toBe("sent");
  });

  it("rejects unsigned and forged receipts, and foreign payloads", async () => {
    const { url, id } = await sent();
    expect((await postWebhook(url, messengerDelivery(PSID, ["m_abc"]), null)).status).toBe(401);
    expect((await postWebhook(url, messengerDelivery(PSID, ["m_abc"]), "not-the-app-secret")).status).toBe(403);
    expect((await postWebhook(url, { object: "whatsapp_business_account", entry: [] })).status).toBe(400);
    expect((await detail(id)).status).toBe("sent");
  });

  it("answers Meta's verification handshake", async () => {
    const provider = await addProvider(key, MESSENGER());
    const path = new URL(provider.webhookUrl).pathname;
    const ok = await call("GET", `${path}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=987654321`);
    expect(ok).toMatchObject({ status: 200, text: "987654321" });
    expect((await call("GET", `${path}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=987654321`)).status).toBe(403);
  });
});
