/**
 * Microsoft Teams webhooks end to end: text becomes an Adaptive Card; a card given as content
 * goes as it is; a Workflows 202 is `sent`, a connector's `1` is `delivered`, a connector's error
 * inside a 200 is a failure; 429 and failover as for every provider.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, captureQueue, json, mockProviders } from "../helpers";
import { freshTenant, outbound } from "./support";
import { deliverChat, detail, expectRefused } from "./chat-support";
import { ADAPTIVE_CARD, teams, textCard } from "../../src/channels/chat/teams";

const ORIGIN = "https://teams.test";
const HOOK = `${ORIGIN}/workflows/triggers/manual/paths/invoke?api-version=1&sig=abc`;
const TEAMS = (over: Record<string, unknown> = {}) => ({ channel: "teams", provider: "teams", priority: 1, ...over });
const accepted = () => new Response(null, { status: 202, headers: { "x-ms-workflow-run-id": "08584000000000000000000000000CU00" } });

let key: string;
let queue: ReturnType<typeof captureQueue>;
beforeEach(async () => {
  ({ key, queue } = await freshTenant());
});
const send = (body: Record<string, unknown>) => deliverChat(key, queue, { channel: "teams", recipientContact: HOOK, ...body });

describe("Microsoft Teams", () => {
  it("posts text as an Adaptive Card; a Workflows 202 leaves it sent under the run id", async () => {
    await addProvider(key, TEAMS());
    const net = mockProviders({ [ORIGIN]: accepted });
    const { id } = await send({ subject: "Invoice INV-1", content: "Total $10" });
    expect(net.requests[0]!.url).toBe(HOOK);
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ type: "message", attachments: [{ contentType: ADAPTIVE_CARD, contentUrl: null, content: textCard("Invoice INV-1", "Total $10") }] });
    expect(await detail(key, id)).toMatchObject({ status: "sent", provider: "teams", providerMessageId: "08584000000000000000000000000CU00" });
  });

  it("sends an Adaptive Card given as content; a connector's 1 is delivered", async () => {
    await addProvider(key, TEAMS());
    const net = mockProviders({ [ORIGIN]: () => new Response("1") });
    const card = { type: "AdaptiveCard", version: "1.5", body: [{ type: "TextBlock", text: "Deploy done" }], actions: [{ type: "Action.OpenUrl", title: "Open", url: "https://ci.acme.test/1" }] };
    const { id } = await send({ content: JSON.stringify(card) });
    expect(JSON.parse(net.requests[0]!.body)).toEqual({ type: "message", attachments: [{ contentType: ADAPTIVE_CARD, contentUrl: null, content: card }] });
    expect((await detail(key, id)).status).toBe("delivered");
  });

  it("text content opens a card given in metadata.teams.card", async () => {
    await addProvider(key, TEAMS());
    const net = mockProviders({ [ORIGIN]: accepted });
    const actions = [{ type: "Action.OpenUrl", title: "Pay", url: "https://pay.acme.test/INV-1" }];
    await send({ subject: "Invoice INV-1", content: "Total $10", metadata: { teams: { card: { type: "AdaptiveCard", version: "1.4", body: [{ type: "FactSet", facts: [{ title: "Due", value: "Friday" }] }], actions } } } });
    const content = JSON.parse(net.requests[0]!.body).attachments[0].content;
    expect(content).toEqual({ type: "AdaptiveCard", version: "1.4", actions, body: [...(textCard("Invoice INV-1", "Total $10").body as unknown[]), { type: "FactSet", facts: [{ title: "Due", value: "Friday" }] }] });
  });

  it("a connector error inside a 200 is a failure: 429 retryable, others permanent", async () => {
    const a = teams.create({}, teams.settings.parse({}));
    mockProviders({ [ORIGIN]: () => new Response("Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId x") });
    expect(await a.send(outbound({ channel: "teams", to: HOOK }))).toMatchObject({ ok: false, failure: "retryable" });
    mockProviders({ [ORIGIN]: () => new Response("Webhook Bad Request - Null or empty event") });
    expect(await a.send(outbound({ channel: "teams", to: HOOK }))).toMatchObject({ ok: false, failure: "permanent" });
  });

  it("a 429 with Retry-After is retried after it", async () => {
    await addProvider(key, TEAMS());
    mockProviders({ [ORIGIN]: json(429, { error: { code: "WorkflowTriggerIsThrottled" } }, { "retry-after": "12" }) });
    const { id, retrySpies } = await send({ content: "Hi" });
    expect(retrySpies[0]!.mock.calls[0]![0]!.delaySeconds).toBeGreaterThanOrEqual(12);
    expect((await detail(key, id)).status).not.toBe("failed");
  });

  it("fails over to the next config on a 5xx, and fails for good on a 400", async () => {
    await addProvider(key, TEAMS({ priority: 1 }));
    await addProvider(key, TEAMS({ priority: 2 }));
    let calls = 0;
    const net = mockProviders({ [ORIGIN]: () => (++calls === 1 ? new Response("busy", { status: 503 }) : accepted()) });
    const { id } = await send({ content: "Hi" });
    expect(net.requests).toHaveLength(2);
    expect((await detail(key, id)).status).toBe("sent");

    mockProviders({ [ORIGIN]: json(400, { error: { code: "InvalidRequestContent", message: "bad card" } }) });
    const bad = await send({ content: "Hi" });
    expect(bad.retrySpies[0]).not.toHaveBeenCalled();
    expect((await detail(key, bad.id)).status).toBe("failed");
  });

  it("refuses a non-URL contact, JSON that is not a card, broken JSON and an oversized card at the API", async () => {
    await addProvider(key, TEAMS());
    await expectRefused(key, { channel: "teams", recipientContact: HOOK, content: "Hi" }, [
      [{ recipientContact: "general" }, "recipientContact"],
      [{ content: JSON.stringify({ text: "hello" }) }, "content"],
      [{ content: '{"type": "AdaptiveCard", "body": [}' }, "does not parse"],
      [{ content: "Hi", metadata: { teams: { attachments: [] } } }, "metadata.teams"],
      // Under the API's character bound, over Teams' 28 KB once encoded (3 bytes a character).
      [{ content: JSON.stringify({ type: "AdaptiveCard", body: [{ type: "TextBlock", text: "€".repeat(9_600) }] }) }, "over 28 KB"],
    ]);
  });
});
