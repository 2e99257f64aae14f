/**
 * Tenant isolation, route by route: every route that takes an id, called with tenant B's key on
 * tenant A's ids, must answer exactly as it does for an id that does not exist (same status, same
 * problem detail) — so B cannot even learn that A's id exists — and leave A's data as it was. Lists
 * never show another tenant's rows; stats and usage count per tenant; provider webhooks signed by
 * B's provider cannot touch A's messages. Every answer B gets is also scanned for A's ids and for
 * any secret.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { captureAutomation, captureEvents, captureQueue, runDelivery } from "./helpers";
import { sendgridSigner, twilioHeaders } from "./signing";
import { ADMIN, type Answer, created, expectNoSecretLeaked, expectWellFormed, fuzzTenant, hit, type HitOptions, providersWithSecrets, registerStoredSecrets } from "./hostile/fuzz";

type Fixture = {
  tenantId: string;
  key: string;
  apiKeyId: string;
  signer: Awaited<ReturnType<typeof sendgridSigner>>;
  authToken: string;
  sendgrid: { id: string; webhookUrl: string };
  twilio: { id: string; webhookUrl: string };
  sandbox: string;
  delivered: string;
  scheduled: string;
  email: string;
  template: string;
  templateCode: string;
  endpoint: string;
  delivery: string;
  suppressed: string;
  recipient: string;
  event: string;
  trigger: string;
  reminder: string;
  inboxToken: string;
  inboxItem: string;
  audience: string;
  campaign: string;
  device: string;
};

let queue: ReturnType<typeof captureQueue>;
let events: ReturnType<typeof captureEvents>;
let A: Fixture;
let B: Fixture;

/** One tenant with one of everything: messages in three states, a versioned template, a webhook endpoint with a delivery, a suppression, preferences and consent. */
async function tenantWithEverything(name: string): Promise<Fixture> {
  const { tenantId, key } = await fuzzTenant(name);
  const slug = name.toLowerCase().replace(/\W/g, "");
  const signer = await sendgridSigner();
  const sandbox = (await created("POST", "/api/providers", key, { channel: "sms", provider: "sandbox" })).id;
  await created("POST", "/api/providers", key, { channel: "email", provider: "sandbox" });
  const p = await providersWithSecrets(key, { webhookVerificationKey: signer.verificationKey });
  const endpoint = (await created("POST", "/api/webhooks", key, { url: `https://hooks.${slug}.test/herald` }, (j) => j?.secret)).id;
  const recipient = `cust-${slug}`;
  await created("PATCH", `/api/communication-preferences/customer/${recipient}`, key, { preferredEmail: `${slug}@acme.test`, preferences: { invoice: ["email"] } });
  await created("POST", `/api/communication-preferences/customer/${recipient}/consents`, key, { channel: "email", status: "granted", source: "signup" });
  const suppressed = `blocked-${slug}@acme.test`;
  await created("POST", "/api/suppressions", key, { channel: "email", contact: suppressed });
  const templateCode = `welcome-${slug}`;
  const template = (await created("POST", "/api/communication-templates", key, { name: "Welcome", code: templateCode, channel: "sms", type: "welcome", bodyTemplate: "Hi {{name}}" })).id;
  await created("PATCH", `/api/communication-templates/${template}`, key, { bodyTemplate: "Hello {{name}}" });

  const delivered = (await created("POST", "/api/communications/send", key, { channel: "sms", recipientContact: "+14155550123", content: `for ${name}`, recipientId: recipient, entityType: "order", entityId: `order-${slug}` })).id;
  const scheduled = (await created("POST", "/api/communications/send", key, { channel: "sms", recipientContact: "+14155550123", content: "later", scheduledAt: new Date(Date.now() + 86_400_000).toISOString() })).id;
  const email = (await created("POST", "/api/communications/send", key, { channel: "email", recipientContact: "ann@acme.test", subject: "s", content: "c", type: "invoice" })).id;
  await created("POST", "/api/communications/send", key, { channel: "in_app", recipientId: recipient, content: `inbox for ${name}` });
  await runDelivery(queue.drain().map((m) => m.body).filter((m) => m.communicationId !== scheduled));
  // Fan the status events out to the endpoint: delivery rows, not yet attempted.
  await runDelivery(events.drain(), { queue: "herald-events" });
  events.drain();
  const log = await hit("GET", `/api/webhooks/${endpoint}/deliveries`, { key });
  const delivery = log.json.results[0].id as string;
  const keys = await hit("GET", `/admin/tenants/${tenantId}`, { key: ADMIN });
  const event = (await created("POST", "/api/events", key, { type: "sale.created", entityType: "sale", entityId: `sale-${slug}`, recipient: { id: recipient } })).id;
  const trigger = (await created("POST", "/api/triggers", key, { preset: "low_stock_alert" })).id;
  const reminder = (await created("POST", "/api/reminders", key, {
    entityType: "invoice",
    entityId: `inv-${slug}`,
    recipient: { id: recipient },
    firstAt: new Date(Date.now() + 86_400_000).toISOString(),
    schedule: { everyDays: 3, maxSteps: 2 },
    steps: [{ templateCode: templateCode, channels: ["sms"] }],
  })).id;
  const audience = (await created("POST", "/api/audiences", key, { name: `List ${slug}` })).id;
  await hit("POST", `/api/audiences/${audience}/members`, { key, json: { members: [{ recipientId: recipient, email: `${slug}@acme.test` }] } });
  const campaign = (await created("POST", "/api/campaigns", key, { name: `Campaign ${slug}`, audienceId: audience, channel: "email", subject: "News", content: "<p>Hi</p>" })).id;
  const device = (await created("POST", `/api/recipients/customer/${recipient}/devices`, key, { platform: "android", token: `fcm-token-${slug}-0123456789abcdef` })).id;
  const inboxToken = (await created("POST", "/api/inbox/tokens", key, { recipientId: recipient }, (j) => j?.token)).token;
  const inbox = await hit("GET", "/api/inbox/items", { key: inboxToken });
  expect(inbox.json.items, `${name}'s inbox`).toHaveLength(1);
  return {
    tenantId,
    key,
    apiKeyId: keys.json.apiKeys[0].id,
    signer,
    authToken: p.authToken,
    sendgrid: p.sendgrid,
    twilio: p.twilio,
    sandbox,
    delivered,
    scheduled,
    email,
    template,
    templateCode,
    endpoint,
    delivery,
    suppressed,
    recipient,
    event,
    trigger,
    reminder,
    inboxToken,
    inboxItem: inbox.json.items[0].id,
    audience,
    campaign,
    device,
  };
}

/** Ids that exist nowhere, shaped like real ones. */
const MISSING = (): Fixture => {
  const id = () => crypto.randomUUID();
  return {
    ...A,
    tenantId: id(),
    apiKeyId: id(),
    sendgrid: { ...A.sendgrid, id: id() },
    twilio: { ...A.twilio, id: id() },
    sandbox: id(),
    delivered: id(),
    scheduled: id(),
    email: id(),
    template: id(),
    templateCode: "welcome-nobody",
    endpoint: id(),
    delivery: id(),
    suppressed: "nobody@acme.test",
    recipient: "cust-nobody",
    event: id(),
    trigger: id(),
    reminder: id(),
    inboxItem: id(),
    audience: id(),
    campaign: id(),
    device: id(),
  };
};

/**
 * A's ids and content, none of which may appear in any answer B gets. (A's suppressed contact is
 * not here: it is only an address, and B sends to it in the matrix.)
 */
const aIds = () => [A.tenantId, A.apiKeyId, A.sendgrid.id, A.twilio.id, A.sandbox, A.delivered, A.scheduled, A.email, A.template, A.endpoint, A.delivery, A.templateCode, A.event, A.trigger, A.reminder, A.inboxItem, A.audience, A.campaign, A.device, `for Tenant A`];

async function asB(method: string, path: string, o: HitOptions = {}): Promise<Answer> {
  const a = await hit(method, path, { key: B.key, ...o });
  expectWellFormed(a, `as B: ${method} ${path}`);
  // A value B itself put in the body or query (a template code, a contact) may be echoed back;
  // an id in the path may not: a 404 does not repeat it.
  const said = `${new URL(path, "https://x").search}${JSON.stringify(o.json ?? null)}${typeof o.raw === "string" ? o.raw : ""}`;
  for (const id of aIds()) if (!said.includes(id)) expect(a.text, `B's answer to ${method} ${path} names A's ${id}`).not.toContain(id);
  return a;
}

beforeAll(async () => {
  queue = captureQueue();
  events = captureEvents();
  captureAutomation();
  A = await tenantWithEverything("Tenant A");
  B = await tenantWithEverything("Tenant B");
  await hit("PATCH", "/api/settings", { key: A.key, json: { tracking: "herald", receiptWindows: { invoice: 120 } } });
  await registerStoredSecrets();
}, 60_000);

/** Everything A can read about itself. */
async function snapshot(f: Fixture) {
  const get = async (path: string) => {
    const a = await hit("GET", path, { key: f.key });
    expect(a.status, path).toBe(200);
    return a.json;
  };
  return {
    communications: await get("/api/communications?size=100"),
    details: await Promise.all([f.delivered, f.scheduled, f.email].map((id) => get(`/api/communications/${id}`))),
    providers: await get("/api/providers"),
    templates: await get("/api/communication-templates"),
    versions: await get(`/api/communication-templates/${f.template}/versions`),
    webhooks: await get("/api/webhooks"),
    deliveries: await get(`/api/webhooks/${f.endpoint}/deliveries`),
    suppressions: await get("/api/suppressions"),
    preferences: await get(`/api/communication-preferences/customer/${f.recipient}`),
    consents: await get(`/api/communication-preferences/customer/${f.recipient}/consents`),
    settings: await get("/api/settings"),
    stats: await get("/api/communications/stats"),
    usage: await get("/api/usage"),
    events: await get("/api/events"),
    triggers: await get("/api/triggers"),
    reminders: await Promise.all([get("/api/reminders"), get(`/api/reminders/${f.reminder}`)]),
    inbox: (await hit("GET", "/api/inbox/items", { key: f.inboxToken })).json,
    audiences: await get("/api/audiences"),
    members: await get(`/api/audiences/${f.audience}/members`),
    campaigns: await Promise.all([get("/api/campaigns"), get(`/api/campaigns/${f.campaign}`)]),
    devices: await get(`/api/recipients/customer/${f.recipient}/devices`),
    // Minus when each key was last used: reading the snapshot uses A's key.
    admin: JSON.parse(JSON.stringify((await hit("GET", `/admin/tenants/${f.tenantId}`, { key: ADMIN })).json), (k, v) => (k === "lastUsedAt" ? undefined : v)),
  };
}

type Row = {
  name: string;
  method: string;
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  /** What B gets, for A's id and for a missing one alike. */
  status: number;
  /** Fields that legitimately differ between the two answers (the path's own id, fresh ids, clocks). */
  ignore?: string[];
  admin?: boolean;
};

const ROWS: Row[] = [
  { name: "GET communication", method: "GET", path: (f) => `/api/communications/${f.delivered}`, status: 404 },
  { name: "resend communication", method: "POST", path: (f) => `/api/communications/${f.delivered}/resend`, body: () => ({}), status: 404 },
  { name: "resend to another contact", method: "POST", path: (f) => `/api/communications/${f.email}/resend`, body: () => ({ recipientContact: "mallory@evil.test" }), status: 404 },
  { name: "cancel communication", method: "POST", path: (f) => `/api/communications/${f.scheduled}/cancel`, status: 404 },
  { name: "GET provider", method: "GET", path: (f) => `/api/providers/${f.sendgrid.id}`, status: 404 },
  { name: "PATCH provider", method: "PATCH", path: (f) => `/api/providers/${f.sendgrid.id}`, body: () => ({ settings: { from: "mallory@evil.test", baseUrl: "https://evil.test" } }), status: 404 },
  { name: "DELETE provider", method: "DELETE", path: (f) => `/api/providers/${f.twilio.id}`, status: 404 },
  { name: "GET template", method: "GET", path: (f) => `/api/communication-templates/${f.template}`, status: 404 },
  { name: "PATCH template", method: "PATCH", path: (f) => `/api/communication-templates/${f.template}`, body: () => ({ bodyTemplate: "pwned" }), status: 404 },
  { name: "DELETE template", method: "DELETE", path: (f) => `/api/communication-templates/${f.template}`, status: 404 },
  { name: "template versions", method: "GET", path: (f) => `/api/communication-templates/${f.template}/versions`, status: 404 },
  { name: "activate template version", method: "POST", path: (f) => `/api/communication-templates/${f.template}/versions/1/activate`, status: 404 },
  { name: "preview template", method: "POST", path: (f) => `/api/communication-templates/${f.template}/preview`, body: () => ({ variables: { name: "x" } }), status: 404 },
  { name: "send with templateId", method: "POST", path: () => "/api/communications/send", body: (f) => ({ channel: "sms", recipientContact: "+14155550123", templateId: f.template, templateVariables: { name: "x" } }), status: 422 },
  { name: "send with templateCode", method: "POST", path: () => "/api/communications/send", body: (f) => ({ channel: "sms", recipientContact: "+14155550123", templateCode: f.templateCode, templateVariables: { name: "x" } }), status: 422 },
  { name: "send to a recipientId only the other tenant knows", method: "POST", path: () => "/api/communications/send", body: (f) => ({ channel: "email", recipientId: f.recipient, subject: "s", content: "c" }), status: 422 },
  { name: "routed send to a recipientId only the other tenant knows", method: "POST", path: () => "/api/communications/send", body: (f) => ({ channel: "auto", recipientId: f.recipient, subject: "s", content: "c", type: "invoice" }), status: 422 },
  { name: "send to a contact the other tenant suppressed", method: "POST", path: () => "/api/communications/send", body: (f) => ({ channel: "email", recipientContact: f.suppressed, subject: "s", content: "c" }), status: 201, ignore: ["id", "estimatedSendTime", "communication"] },
  { name: "GET webhook endpoint", method: "GET", path: (f) => `/api/webhooks/${f.endpoint}`, status: 404 },
  { name: "PATCH webhook endpoint", method: "PATCH", path: (f) => `/api/webhooks/${f.endpoint}`, body: () => ({ url: "https://evil.test/steal" }), status: 404 },
  { name: "DELETE webhook endpoint", method: "DELETE", path: (f) => `/api/webhooks/${f.endpoint}`, status: 404 },
  { name: "webhook deliveries", method: "GET", path: (f) => `/api/webhooks/${f.endpoint}/deliveries`, status: 404 },
  { name: "replay a delivery", method: "POST", path: (f) => `/api/webhooks/${f.endpoint}/deliveries/${f.delivery}/replay`, status: 404 },
  { name: "replay the other tenant's delivery on one's own endpoint", method: "POST", path: (f) => `/api/webhooks/${B.endpoint}/deliveries/${f.delivery}/replay`, status: 404 },
  { name: "lift a suppression", method: "DELETE", path: (f) => `/api/suppressions/email/${encodeURIComponent(f.suppressed)}`, status: 404 },
  { name: "GET preferences", method: "GET", path: (f) => `/api/communication-preferences/customer/${f.recipient}`, status: 200, ignore: ["entityId"] },
  {
    name: "PATCH preferences",
    method: "PATCH",
    path: (f) => `/api/communication-preferences/customer/${f.recipient}`,
    body: () => ({ optedOut: true, optedOutReason: "b says so" }),
    status: 200,
    ignore: ["entityId", "updatedAt", "optedOutAt"],
  },
  { name: "GET consents", method: "GET", path: (f) => `/api/communication-preferences/customer/${f.recipient}/consents`, status: 200 },
  {
    name: "record a consent",
    method: "POST",
    path: (f) => `/api/communication-preferences/customer/${f.recipient}/consents`,
    body: () => ({ channel: "email", status: "revoked", source: "b" }),
    status: 201,
    ignore: ["id", "entityId", "createdAt"],
  },
  { name: "GET business event", method: "GET", path: (f) => `/api/events/${f.event}`, status: 404 },
  { name: "GET trigger rule", method: "GET", path: (f) => `/api/triggers/${f.trigger}`, status: 404 },
  { name: "PATCH trigger rule", method: "PATCH", path: (f) => `/api/triggers/${f.trigger}`, body: () => ({ enabled: false }), status: 404 },
  { name: "DELETE trigger rule", method: "DELETE", path: (f) => `/api/triggers/${f.trigger}`, status: 404 },
  { name: "GET reminder sequence", method: "GET", path: (f) => `/api/reminders/${f.reminder}`, status: 404 },
  { name: "DELETE reminder sequence", method: "DELETE", path: (f) => `/api/reminders/${f.reminder}`, status: 404 },
  { name: "GET audience", method: "GET", path: (f) => `/api/audiences/${f.audience}`, status: 404 },
  { name: "DELETE audience", method: "DELETE", path: (f) => `/api/audiences/${f.audience}`, status: 404 },
  { name: "count audience", method: "GET", path: (f) => `/api/audiences/${f.audience}/count`, status: 404 },
  { name: "list audience members", method: "GET", path: (f) => `/api/audiences/${f.audience}/members`, status: 404 },
  { name: "add audience members", method: "POST", path: (f) => `/api/audiences/${f.audience}/members`, body: () => ({ members: [{ recipientId: "mallory", email: "mallory@evil.test" }] }), status: 404 },
  { name: "remove audience members", method: "POST", path: (f) => `/api/audiences/${f.audience}/members/remove`, body: (f) => ({ members: [{ recipientId: f.recipient }] }), status: 404 },
  { name: "subscribe to an audience", method: "POST", path: (f) => `/api/audiences/${f.audience}/subscribe`, body: () => ({ recipientId: "mallory", email: "mallory@evil.test" }), status: 404 },
  { name: "unsubscribe from an audience", method: "POST", path: (f) => `/api/audiences/${f.audience}/unsubscribe`, body: (f) => ({ recipientId: f.recipient }), status: 404 },
  { name: "campaign to the other tenant's audience", method: "POST", path: () => "/api/campaigns", body: (f) => ({ name: "x", audienceId: f.audience, channel: "email", subject: "s", content: "c" }), status: 422 },
  { name: "GET campaign", method: "GET", path: (f) => `/api/campaigns/${f.campaign}`, status: 404 },
  { name: "send campaign", method: "POST", path: (f) => `/api/campaigns/${f.campaign}/send`, status: 404 },
  { name: "pause campaign", method: "POST", path: (f) => `/api/campaigns/${f.campaign}/pause`, status: 404 },
  { name: "resume campaign", method: "POST", path: (f) => `/api/campaigns/${f.campaign}/resume`, status: 404 },
  { name: "cancel campaign", method: "POST", path: (f) => `/api/campaigns/${f.campaign}/cancel`, status: 404 },
  { name: "pick a campaign's winner", method: "POST", path: (f) => `/api/campaigns/${f.campaign}/winner`, body: () => ({ variant: "A" }), status: 404 },
  { name: "list the other tenant's recipient's devices", method: "GET", path: (f) => `/api/recipients/customer/${f.recipient}/devices`, status: 200 },
  { name: "DELETE a device", method: "DELETE", path: (f) => `/api/recipients/customer/${f.recipient}/devices/${f.device}`, status: 404 },
  { name: "rotate an API key", method: "POST", path: (f) => `/api/keys/${f.apiKeyId}/rotate`, body: () => ({ overlapHours: 0 }), status: 404 },
  { name: "revoke an API key", method: "DELETE", path: (f) => `/api/keys/${f.apiKeyId}`, status: 404 },
  { name: "revoke an API key under one's own tenant id", method: "DELETE", path: (f) => `/admin/tenants/${B.tenantId}/api-keys/${f.apiKeyId}`, status: 404, admin: true },
];

/** An answer without its request id, the fields a row ignores, and the fixture's own names. */
const comparable = (a: Answer, ignore: string[] = [], f?: Fixture) => {
  const { requestId: _r, ...json } = (a.json ?? {}) as Record<string, unknown>;
  for (const name of ignore) delete json[name];
  let text = JSON.stringify(json);
  if (f) for (const [value, placeholder] of [[f.templateCode, "<code>"], [f.suppressed, "<contact>"], [f.recipient, "<recipient>"]]) text = text.replaceAll(value!, placeholder!);
  return { status: a.status, contentType: a.headers.get("content-type"), json: JSON.parse(text) };
};

describe("B's key on A's ids answers exactly as on ids that do not exist", () => {
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    before = await snapshot(A);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))("%s", async (_name, r) => {
    const call = (f: Fixture) => (r.admin ? hit(r.method, r.path(f), { key: ADMIN, json: r.body?.(f) }) : asB(r.method, r.path(f), { json: r.body?.(f) }));
    // The missing id goes first: for the PATCH and POST rows, A's id then meets a B that has
    // already written once, as an attacker would.
    const nobody = MISSING();
    const missing = await call(nobody);
    const theirs = await call(A);
    expect(theirs.status, theirs.text).toBe(r.status);
    expect(comparable(theirs, r.ignore, A)).toEqual(comparable(missing, r.ignore, nobody));
  });

  it("control: with A's own key the same ids find A's resources", async () => {
    for (const path of [
      `/api/communications/${A.delivered}`,
      `/api/providers/${A.sendgrid.id}`,
      `/api/communication-templates/${A.template}/versions`,
      `/api/webhooks/${A.endpoint}/deliveries`,
    ]) {
      expect((await hit("GET", path, { key: A.key })).status, path).toBe(200);
    }
    expect((await hit("GET", `/api/communication-preferences/customer/${A.recipient}`, { key: A.key })).json.exists).toBe(true);
    expect((await hit("GET", `/api/suppressions?channel=email&contact=${encodeURIComponent(A.suppressed)}`, { key: A.key })).json.results).toHaveLength(1);
  });

  it("A's data is exactly as it was", async () => {
    expect(await snapshot(A)).toEqual(before);
  });

  it("A's key still works", async () => {
    expect((await hit("GET", "/api/usage", { key: A.key })).status).toBe(200);
  });
});

describe("lists", () => {
  it("never include another tenant's rows, whatever the filter", async () => {
    for (const path of [
      "/api/communications?size=100",
      `/api/communications?recipientId=${A.recipient}`,
      `/api/communications?recipient=${A.recipient}`,
      `/api/communications?entityType=order&entityId=order-tenanta`,
      "/api/communications?type=invoice",
      "/api/communications?channel=sms&status=scheduled",
      "/api/providers",
      "/api/communication-templates",
      `/api/communication-templates?code=${A.templateCode}`,
      "/api/suppressions?size=500",
      `/api/suppressions?channel=email&contact=${encodeURIComponent(A.suppressed)}`,
      "/api/webhooks",
      `/api/webhooks/${B.endpoint}/deliveries`,
      `/api/communication-preferences/customer/${A.recipient}/consents`,
      "/api/keys",
    ]) {
      const a = await asB("GET", path);
      expect(a.status, path).toBe(200);
      for (const row of a.json.results as Record<string, unknown>[]) if ("tenantId" in row) expect(row.tenantId, path).toBe(B.tenantId);
    }
    const templates = (await asB("GET", "/api/communication-templates")).json.results as { code: string; isSystem: boolean }[];
    expect(templates.filter((t) => !t.isSystem).map((t) => t.code)).toEqual([B.templateCode]);
    // Filters on A's values find nothing of A's.
    for (const path of [
      `/api/communications?recipientId=${A.recipient}`,
      `/api/communications?recipient=${A.recipient}`,
      "/api/communications?entityType=order&entityId=order-tenanta",
      `/api/communication-templates?code=${A.templateCode}`,
      `/api/suppressions?channel=email&contact=${encodeURIComponent(A.suppressed)}`,
    ]) {
      expect((await asB("GET", path)).json.results, path).toEqual([]);
    }
    // B recorded its own consent for that recipient id in the matrix; A's ("signup") is not there.
    const consents = (await asB("GET", `/api/communication-preferences/customer/${A.recipient}/consents`)).json.results as { source: string }[];
    expect(consents.map((c) => c.source)).toEqual(["b"]);
  });

  it("events, triggers and reminders list only one's own", async () => {
    expect((await asB("GET", "/api/events?entityType=sale&entityId=sale-tenanta")).json.results).toEqual([]);
    expect((await asB("GET", "/api/reminders?entityType=invoice&entityId=inv-tenanta")).json.results).toEqual([]);
    expect((await asB("GET", "/api/events")).json.results.map((e: { id: string }) => e.id)).toEqual([B.event]);
    expect((await asB("GET", "/api/triggers")).json.results.map((t: { id: string }) => t.id)).toEqual([B.trigger]);
  });

  it("B's inbox token for A's recipient opens B's inbox, exactly like a token for nobody", async () => {
    const mint = async (recipientId: string) => (await asB("POST", "/api/inbox/tokens", { json: { recipientId }, reveals: (j) => j?.token })).json.token as string;
    const theirs = await mint(A.recipient);
    const nobody = await mint("cust-nobody");
    const items = async (token: string) => comparable(await asB("GET", "/api/inbox/items", { key: token }));
    expect(await items(theirs)).toEqual(await items(nobody));
    expect((await items(theirs)).json.items).toEqual([]);
    const mark = async (token: string, id: string) => comparable(await asB("POST", "/api/inbox/items/mark", { key: token, json: { ids: [id], action: "archive" } }));
    expect(await mark(theirs, A.inboxItem)).toEqual(await mark(nobody, crypto.randomUUID()));
    expect((await hit("GET", "/api/inbox/items", { key: A.inboxToken })).json.items[0]).toMatchObject({ id: A.inboxItem, archivedAt: null });
  });

  it("stats and usage count each tenant's own messages", async () => {
    for (const f of [A, B]) {
      const count = (await hit("GET", "/api/communications?size=1", { key: f.key })).json.count as number;
      const stats = (await hit("GET", "/api/communications/stats", { key: f.key })).json;
      const usage = (await hit("GET", "/api/usage", { key: f.key })).json;
      expect(stats.totalAccepted, f.tenantId).toBe(count);
      const used = (usage.channels as { used: number }[]).reduce((n, c) => n + c.used, 0);
      expect(used, f.tenantId).toBe(count);
    }
    const a = (await hit("GET", "/api/communications?size=1", { key: A.key })).json.count;
    const b = (await hit("GET", "/api/communications?size=1", { key: B.key })).json.count;
    // Same fixtures, but B also sent during the matrix (to A's suppressed contact and a fresh one).
    expect(b).toBe(a + 2);
  });

  it("settings are per tenant", async () => {
    expect((await hit("GET", "/api/settings", { key: A.key })).json.tracking).toBe("herald");
    expect((await asB("GET", "/api/settings")).json.tracking).toBe("provider");
  });
});

describe("provider webhooks", () => {
  const form = (sid: string) => new URLSearchParams({ MessageSid: sid, MessageStatus: "undelivered", ErrorCode: "21610" });
  const sgEvents = (id: string) => JSON.stringify([{ event: "bounce", timestamp: Math.floor(Date.now() / 1000), herald_communication_id: id, sg_message_id: "sg-1.x", sg_event_id: crypto.randomUUID(), reason: "550" }]);

  it("B's signed SendGrid events naming A's messages answer as for messages that do not exist, and move nothing", async () => {
    const before = await snapshot(A);
    const post = async (id: string) => {
      const body = sgEvents(id);
      return asB("POST", B.sendgrid.webhookUrl, { raw: body, headers: await B.signer.headers(body) });
    };
    const missing = await post(crypto.randomUUID());
    for (const id of [A.email, A.delivered]) expect(comparable(await post(id))).toEqual(comparable(missing));
    expect(missing.json).toEqual({ received: 1, applied: 0, ignored: 1, moved: 0 });
    expect(await snapshot(A)).toEqual(before);
  });

  it("B's signed Twilio callbacks naming A's messages answer as for messages that do not exist, and move nothing", async () => {
    const before = await snapshot(A);
    const aSid = (await hit("GET", `/api/communications/${A.delivered}`, { key: A.key })).json.providerMessageId as string;
    const post = async (id: string, sid: string) => {
      const url = `${B.twilio.webhookUrl}?c=${id}`;
      return asB("POST", url, { raw: form(sid).toString(), headers: await twilioHeaders(B.authToken, url, form(sid)) });
    };
    const missing = await post(crypto.randomUUID(), "SM" + "0".repeat(32));
    expect(comparable(await post(A.delivered, aSid ?? "SMx"))).toEqual(comparable(missing));
    expect(await snapshot(A)).toEqual(before);
  });

  it("A's webhook URL refuses B's signatures and changes nothing", async () => {
    const before = await snapshot(A);
    const body = sgEvents(A.email);
    const a = await asB("POST", A.sendgrid.webhookUrl, { raw: body, headers: await B.signer.headers(body) });
    expect(a.status).toBe(403);
    const url = `${A.twilio.webhookUrl}?c=${A.delivered}`;
    const t = await asB("POST", url, { raw: form("SMx").toString(), headers: await twilioHeaders(B.authToken, url, form("SMx")) });
    expect(t.status).toBe(403);
    expect(await snapshot(A)).toEqual(before);
  });
});

it("no response in this file carried a secret", async () => {
  await registerStoredSecrets();
  expectNoSecretLeaked();
});
