/**
 * The client package against the real API Worker, for the resources test/client.test.ts does not
 * cover: workflows and their runs, audiences and campaigns, conversations, reminders, devices,
 * webhooks, recipients' data — and the async iterators over each way the API pages its lists.
 */
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { collect, HeraldClient, ProblemError } from "../packages/client/src";
import { BASE, captureQueue, createTenant } from "./helpers";
import { inbound, PHONE, receive } from "./conversations/fixtures";
import { waitForRun, finished } from "./workflows/helpers";
import { documentedFetch } from "./documented-responses";

let herald: HeraldClient;
let tenantId: string;
let key: string;
let documented: ReturnType<typeof documentedFetch>;

beforeEach(async () => {
  captureQueue();
  ({ key, tenantId } = await createTenant());
  // Every answer of a documented route is checked against the schema /openapi.json shows for it.
  documented = documentedFetch((input, init) => exports.default.fetch(input, init));
  herald = new HeraldClient({ baseUrl: BASE, apiKey: key, fetch: documented.fetch, retry: false });
});

describe("client resources", () => {
  it("pages through communications, suppressions and the audit log with async iterators", async () => {
    await herald.providers.create({ channel: "sms", provider: "sandbox" });
    const sent = await herald.communications.batch(["+14155550101", "+14155550102", "+14155550103"].map((recipientContact) => ({ channel: "sms", recipientContact, content: "hi" })));
    expect(sent.accepted).toBe(3);
    const all = await collect(herald.communications.all({ size: 2 }));
    expect(all.map((c) => c.recipientContact).sort()).toEqual(["+14155550101", "+14155550102", "+14155550103"]);
    const first = all[0]!;
    const timeline = await herald.communications.timeline(first.id);
    expect(timeline[0]).toMatchObject({ kind: "status", status: "queued" });

    for (const contact of ["a@example.com", "b@example.com", "c@example.com"]) await herald.suppressions.add({ channel: "email", contact });
    expect((await collect(herald.suppressions.all({ size: 2 }))).map((s) => s.contact).sort()).toEqual(["a@example.com", "b@example.com", "c@example.com"]);

    // The tenant, its key, a provider and three suppressions: six entries, three pages of two.
    const page = await herald.auditLog.list({ limit: 2 });
    expect(page.nextCursor).toEqual(expect.any(String));
    const entries = await collect(herald.auditLog.all({ limit: 2 }));
    expect(entries.map((e) => e.action).sort()).toEqual(["key.created", "provider.created", "suppression.added", "suppression.added", "suppression.added", "tenant.created"]);
  });

  it("creates, versions, triggers and reads workflows and their runs", async () => {
    const steps = [{ type: "send" as const, id: "hello", channel: "in_app" as const, content: "Hello {{name}}" }];
    const wf = await herald.workflows.create({ key: "welcome", name: "Welcome", steps });
    expect(wf).toMatchObject({ key: "welcome", version: 1 });
    expect((await herald.workflows.update("welcome", { name: "Welcome v2", steps })).version).toBe(2);
    expect((await herald.workflows.versions("welcome")).results.map((v) => [v.version, v.active])).toEqual([[2, true], [1, false]]);
    expect((await herald.workflows.activate("welcome", 1)).name).toBe("Welcome");
    expect((await herald.workflows.list()).results.map((w) => w.key)).toEqual(["welcome"]);

    const started = await herald.workflows.trigger("welcome", { recipients: [{ id: "c1" }, { id: "c2" }], data: { name: "Ada" }, idempotencyKey: "welcome-1" });
    expect(started.runs).toHaveLength(2);
    for (const run of started.runs) await waitForRun(key, run.id, finished);
    const runs = await collect(herald.workflows.allRuns("welcome", { limit: 1 }));
    expect(runs.map((r) => r.recipient.id).sort()).toEqual(["c1", "c2"]);
    const run = await herald.workflows.run(started.runs[0]!.id);
    expect(run).toMatchObject({ workflowKey: "welcome", status: "completed", steps: [{ id: "hello", type: "send" }] });
    const late = await herald.workflows.cancelRun("welcome", run.id).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ProblemError);
    expect(late).toMatchObject({ status: 409 });
    expect([...documented.checked].sort()).toEqual(["Workflow", "WorkflowList", "WorkflowRun", "WorkflowRunPage"]);

    const templates = await herald.workflowTemplates.list();
    expect(templates.results.length).toBeGreaterThan(0);
    const copy = await herald.workflowTemplates.copy(templates.results[0]!.key, { key: "from-template" });
    expect(copy.key).toBe("from-template");
    await herald.workflows.delete("from-template");
    const gone = await herald.workflows.get("from-template").catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ProblemError);
    expect(gone).toMatchObject({ status: 404 });
  });

  it("manages audiences and their members, and campaigns over them", async () => {
    const audience = await herald.audiences.create({ name: "Newsletter" });
    expect(await herald.audiences.addMembers(audience.id, [{ recipientId: "m1", email: "M1@example.com" }, { recipientId: "m2" }])).toMatchObject({ added: 2, members: 2 });
    expect(await herald.audiences.importCsv(audience.id, "recipientId,email\nm3,m3@example.com\n")).toMatchObject({ added: 1, members: 3 });
    expect((await collect(herald.audiences.allMembers(audience.id, { size: 2 }))).map((m) => m.recipientId)).toEqual(["m1", "m2", "m3"]);
    expect(await herald.audiences.removeMembers(audience.id, [{ recipientId: "m3" }])).toEqual({ removed: 1, members: 2 });
    expect((await herald.audiences.count(audience.id)).count).toBe(2);

    const campaign = await herald.campaigns.create({ name: "Launch", audienceId: audience.id, channel: "in_app", content: "We launched" });
    expect(campaign.status).toBe("draft");
    const sending = await herald.campaigns.send(campaign.id);
    expect(sending.progress.members).toBe(2);
    expect((await collect(herald.campaigns.all())).map((c) => c.id)).toEqual([campaign.id]);
    expect([...documented.checked].sort()).toEqual(["Audience", "Campaign", "CampaignDetail", "CampaignPage"]);
  });

  it("reads conversations and their messages, and replies in the thread", async () => {
    const provider = await herald.providers.create({ channel: "sms", provider: "sandbox" });
    await receive(tenantId, [inbound(provider.id, { text: "first" }), inbound(provider.id, { text: "second" })]);
    const [thread] = await collect(herald.conversations.all());
    expect(thread).toMatchObject({ channel: "sms", contact: PHONE, unreadCount: 2 });
    const messages = await collect(herald.conversations.allMessages(thread!.id, { limit: 1 }));
    expect(messages.map((m) => m.text)).toEqual(["first", "second"]);
    const reply = await herald.conversations.reply(thread!.id, { content: "Sure" });
    expect(reply.communication).toMatchObject({ channel: "sms", recipientContact: PHONE, content: "Sure" });
    expect((await herald.conversations.markRead(thread!.id)).unreadCount).toBe(0);
    expect([...documented.checked].sort()).toEqual(["Conversation", "ConversationPage", "MessagePage", "Provider", "Reply"]);
  });

  it("starts and cancels reminders, registers devices, exports and erases a recipient, manages webhooks", async () => {
    await herald.templates.create({ name: "Due", code: "due", channel: "email", type: "invoice", subjectTemplate: "Due", bodyTemplate: "Pay" });
    const reminder = await herald.reminders.create({
      entityType: "invoice",
      entityId: "inv-1",
      recipient: { id: "c1", email: "c1@example.com" },
      firstAt: new Date(Date.now() + 3600_000).toISOString(),
      schedule: { everyDays: 3, maxSteps: 2 },
      steps: [{ templateCode: "due", channels: ["email"] }],
    });
    expect(reminder).toMatchObject({ status: "active", stepCount: 2 });
    expect((await collect(herald.reminders.all({ entityId: "inv-1" }))).map((r) => r.id)).toEqual([reminder.id]);
    expect((await herald.reminders.cancel(reminder.id)).status).toBe("cancelled");

    const device = await herald.recipients.devices.register("customer", "c1", { platform: "android", token: "f".repeat(40) });
    expect((await herald.recipients.devices.list("customer", "c1")).results.map((d) => d.id)).toEqual([device.id]);
    expect((await herald.recipients.export("customer", "c1")).devices).toHaveLength(1);
    expect((await herald.recipients.erase("customer", "c1")).erased.devices).toBe(1);

    const endpoint = await herald.webhooks.create({ url: "https://hooks.example.com/herald", eventTypes: ["communication.delivered"] });
    expect(endpoint.secret).toMatch(/\S{16,}/);
    expect((await herald.webhooks.update(endpoint.id, { enabled: false })).enabled).toBe(false);
    expect((await herald.webhooks.deliveries(endpoint.id)).results).toEqual([]);
    await herald.webhooks.delete(endpoint.id);
    expect((await herald.webhooks.list()).results).toEqual([]);
    expect((await herald.usage.get()).channels.length).toBeGreaterThan(0);
  });
});

describe("client: API keys and the preference link", () => {
  it("mints, lists, rotates and revokes the tenant's own keys, and refuses a scope the caller lacks", async () => {
    const minted = await herald.keys.create({ name: "reader", scopes: ["keys:manage", "communications:read"] });
    expect(minted.apiKey).toMatch(/^hk_/);
    const listed = await herald.keys.list();
    expect(listed.results.map((k) => k.name)).toContain("reader");
    expect(listed.results.find((k) => k.current)?.scopes).toEqual(["*"]);

    // The scoped key may mint only within its own scopes.
    const scoped = new HeraldClient({ baseUrl: BASE, apiKey: minted.apiKey, fetch: documented.fetch, retry: false });
    const refused = await scoped.keys.create({ name: "escalate", scopes: ["communications:send"] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProblemError);
    expect((refused as ProblemError).status).toBe(403);

    const rotated = await herald.keys.rotate(minted.id, { overlapHours: 0 });
    expect(rotated.replaces.id).toBe(minted.id);
    const revoked = await herald.keys.revoke(rotated.id);
    expect(revoked).toMatchObject({ id: rotated.id, revokedCallingKey: false });
    expect(revoked.revokedAt).toEqual(expect.any(String));
  });

  it("mints a preference-center link that opens the recipient's page", async () => {
    const link = await herald.recipients.preferenceLink("customer", "c-42", { expiresIn: 3600 });
    expect(new Date(link.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const page = await exports.default.fetch(link.url.replace(/^https?:\/\/[^/]+/, BASE));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
  });
});
