import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { HeraldClient, ProblemError } from "../packages/client/src";
import { ADMIN, BASE, call, captureQueue, createTenant, runDelivery } from "./helpers";
import { documentedFetch } from "./documented-responses";

let herald: HeraldClient;
let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;
let documented: ReturnType<typeof documentedFetch>;

// The client's fetch goes straight into the API Worker.
const workerFetch = (input: Request | string, init?: RequestInit) => exports.default.fetch(input, init);

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
  // Every answer of a documented route is checked against the schema /openapi.json shows for it.
  documented = documentedFetch(workerFetch);
  herald = new HeraldClient({ baseUrl: BASE, apiKey: key, fetch: documented.fetch });
});

async function problem(p: Promise<unknown>): Promise<ProblemError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProblemError);
  return error as ProblemError;
}

describe("typed client", () => {
  it("sends, reads, lists, resends and cancels communications", async () => {
    const provider = await herald.providers.create({ channel: "sms", provider: "sandbox" });
    expect(provider).toMatchObject({ channel: "sms", provider: "sandbox", credentials: "[encrypted]" });
    expect((await herald.providers.list()).results.map((p) => p.id)).toEqual([provider.id]);

    const sent = await herald.communications.send({ channel: "sms", recipientContact: "+1 415 555 0123", content: "Your code is 123456", type: "otp" }, { idempotencyKey: "otp-1" });
    if (!("id" in sent)) throw new Error("expected a single send");
    expect(sent).toMatchObject({ channel: "sms", status: "queued", communication: { recipientContact: "+14155550123" } });
    const again = await herald.communications.send({ channel: "sms", recipientContact: "+1 415 555 0123", content: "Your code is 123456", type: "otp" }, { idempotencyKey: "otp-1" });
    expect("id" in again && again.id).toBe(sent.id);
    await runDelivery(queue.drain().map((m) => m.body));

    const detail = await herald.communications.get(sent.id);
    expect(detail.status).toBe("delivered");
    expect(detail.events.map((e) => e.status)).toContain("delivered");
    const page = await herald.communications.list({ channel: "sms", size: 5 });
    expect(page).toMatchObject({ count: 1, page: 1, size: 5 });
    expect(page.results[0]!.id).toBe(sent.id);

    const resent = await herald.communications.resend(sent.id, { recipientContact: "+14155550199" });
    expect(resent.originalCommunicationId).toBe(sent.id);
    const later = await herald.communications.send({ channel: "sms", recipientContact: "+14155550123", content: "later", scheduledAt: new Date(Date.now() + 3600_000).toISOString() });
    if (!("id" in later)) throw new Error("expected a single send");
    expect((await herald.communications.cancel(later.id)).status).toBe("cancelled");

    const batch = await herald.communications.batch([{ channel: "sms", recipientContact: "+14155550123", content: "a" }, { channel: "sms", recipientContact: "nope", content: "b" }]);
    expect(batch).toMatchObject({ accepted: 1, rejected: 1 });
    expect(batch.results[1]).toMatchObject({ index: 1, error: { errors: [{ field: "items.1.recipientContact" }] } });

    const stats = await herald.stats.get();
    expect(stats.totalAccepted).toBeGreaterThanOrEqual(3);
    expect([...documented.checked].sort()).toEqual(["Communication", "CommunicationDetail", "CommunicationPage", "Provider", "ProviderList", "SendResult"]);
  });

  it("manages templates, preferences, suppressions, settings, inbox tokens, events and the audit log", async () => {
    const t = await herald.templates.create({ name: "Code", code: "code", channel: "sms", type: "otp", bodyTemplate: "Code {{code}}" });
    await herald.templates.update(t.id, { bodyTemplate: "Your code: {{code}}" });
    expect((await herald.templates.versions(t.id)).results).toHaveLength(2);
    const preview = await herald.templates.preview(t.id, { variables: { code: "4242" } });
    expect(preview.body).toBe("Your code: 4242");
    expect(preview.sms?.segments).toBe(1);
    expect((await herald.templates.activate(t.id, 1)).bodyTemplate).toBe("Code {{code}}");

    const prefs = await herald.preferences.update("customer", "c1", { smsEnabled: false, preferredEmail: "Ada@Example.com" });
    expect(prefs).toMatchObject({ smsEnabled: false, preferredEmail: "ada@example.com" });
    expect((await herald.preferences.get("customer", "c1")).exists).toBe(true);
    await herald.preferences.recordConsent("customer", "c1", { channel: "email", status: "granted", source: "test" });

    await herald.suppressions.add({ channel: "email", contact: "bounced@example.com" });
    expect((await herald.suppressions.list({ channel: "email" })).results.map((s) => s.contact)).toEqual(["bounced@example.com"]);
    await herald.suppressions.remove("email", "bounced@example.com");
    expect((await herald.suppressions.list()).results).toEqual([]);

    await herald.settings.update({ retentionDays: 90 });
    expect((await herald.settings.get()).retentionDays).toBe(90);
    const token = await herald.inbox.createToken({ recipientId: "c1" });
    expect(token.token.length).toBeGreaterThan(20);
    const event = await herald.events.post({ type: "stock.low", data: { sku: "A1" } });
    expect((await herald.events.get(event.id)).type).toBe("stock.low");

    expect([...documented.checked].sort()).toEqual(["Preferences", "Suppression", "SuppressionPage", "Template", "TemplateWritten"]);
    const audit = await herald.auditLog.list({ resourceType: "template" });
    expect(audit.results.map((e) => e.action)).toEqual(["template.version_activated", "template.updated", "template.created"]);
  });

  it("throws ProblemError with status, code, field errors and the request id", async () => {
    await herald.providers.create({ channel: "email", provider: "sandbox" });
    const invalid = await problem(herald.communications.send({ channel: "email", recipientContact: "not-an-email", content: "x" }));
    expect(invalid).toMatchObject({ status: 422, code: "validation_failed" });
    expect(invalid.fieldError("recipientContact")).toBe("must be an email address");
    expect(invalid.fieldError("subject")).toBe("email needs a subject");
    expect(invalid.requestId).toMatch(/\S/);

    expect(await problem(herald.communications.get("no-such-id"))).toMatchObject({ status: 404, code: "not_found" });
    const stranger = new HeraldClient({ baseUrl: BASE, apiKey: "hk_wrong", fetch: workerFetch });
    expect(await problem(stranger.providers.list())).toMatchObject({ status: 401, code: "unauthorized" });

    const res = await call("POST", `/admin/tenants/${tenantId}/api-keys`, { key: ADMIN, body: { scopes: ["stats:read"] } });
    const readOnly = new HeraldClient({ baseUrl: BASE, apiKey: res.json.apiKey, fetch: workerFetch });
    const forbidden = await problem(readOnly.templates.list());
    expect(forbidden).toMatchObject({ status: 403, code: "forbidden" });
    expect(forbidden.fieldError("scope")).toBe("requires templates:read");
  });

  it("is typed from the API's own schemas", () => {
    // Compile-time checks (tsc runs over the tests): each line would fail to type-check without its directive.
    const typed = () => {
      // @ts-expect-error -- not a channel
      void herald.communications.send({ channel: "pigeon", content: "x" });
      // @ts-expect-error -- a preference field that does not exist
      void herald.preferences.update("customer", "c1", { faxEnabled: true });
      // @ts-expect-error -- a query parameter the route does not take
      void herald.communications.list({ colour: "red" });
    };
    expect(typeof typed).toBe("function");
  });
});
