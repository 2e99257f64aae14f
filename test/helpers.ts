/**
 * Test helpers: drive the API Worker through `exports.default.fetch`, run the delivery Worker's
 * real queue handler on the messages the API enqueued, and stand in for providers at the network
 * boundary (global fetch), recording every request they receive.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { vi } from "vitest";
import delivery from "../workers/delivery/src/index";
import type { Env } from "../src/env";
import type { SendMessage } from "../src/pipeline/queue-message";
import type { EventMessage } from "../src/pipeline/event-message";
import type { AutomationMessage } from "../src/automation/message";

export const testEnv: Env = env;
export const ADMIN = "test-admin-token";
export const BASE = "https://herald.test";

export async function call(method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await exports.default.fetch(`${BASE}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export async function createTenant(name = "Acme") {
  const res = await call("POST", "/admin/tenants", { key: ADMIN, body: { name } });
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${res.text}`);
  return { tenantId: res.json.tenant.id as string, key: res.json.apiKey as string };
}

export async function addProvider(key: string, body: Record<string, unknown>) {
  const res = await call("POST", "/api/providers", { key, body });
  if (res.status !== 201) throw new Error(`provider creation failed: ${res.status} ${res.text}`);
  return res.json as { id: string; webhookUrl: string };
}

export const SENDGRID = (overrides: Record<string, unknown> = {}) => ({
  channel: "email",
  provider: "sendgrid",
  priority: 1,
  credentials: { apiKey: "SG.test-key" },
  settings: { from: "billing@acme.test", fromName: "Acme Billing", baseUrl: "https://sendgrid.mock" },
  ...overrides,
});

export const TWILIO_SID = "AC" + "0123456789abcdef".repeat(2);
export const TWILIO = (overrides: Record<string, unknown> = {}) => ({
  channel: "sms",
  provider: "twilio",
  priority: 2,
  credentials: { accountSid: TWILIO_SID, authToken: "twilio-auth-token" },
  settings: { from: "+14155550100", baseUrl: "https://twilio.mock" },
  ...overrides,
});

const QUEUE_OK = { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendResponse;

/** Spies on queue producers, keeping in one list what `keep` makes of each message sent. */
function capture<T, R>(queue: Queue<T> | Queue<T>[], keep: (body: T, delaySeconds?: number, queue?: Queue<T>) => R) {
  const sent: R[] = [];
  for (const q of Array.isArray(queue) ? queue : [queue]) {
    vi.spyOn(q, "sendBatch").mockImplementation(async (messages) => {
      for (const m of messages) sent.push(keep(m.body, m.delaySeconds, q));
      return QUEUE_OK as unknown as QueueSendBatchResponse;
    });
    vi.spyOn(q, "send").mockImplementation(async (body, options) => {
      sent.push(keep(body, options?.delaySeconds, q));
      return QUEUE_OK;
    });
  }
  /** `drain` takes everything sent so far, leaving the capture empty. */
  return { sent, drain: () => sent.splice(0, sent.length) };
}

/**
 * The transactional send lanes (standard and priority: src/pipeline/send-lanes.ts), with delays,
 * so tests can hand exactly what the API enqueued to the consumer.
 */
export const captureQueue = () => capture([testEnv.SEND_QUEUE, testEnv.PRIORITY_QUEUE], (body: SendMessage, delaySeconds) => ({ body, delaySeconds }));

/** All three send lanes, recording which queue each message went on. */
export const captureLanes = () =>
  capture([testEnv.PRIORITY_QUEUE, testEnv.SEND_QUEUE, testEnv.BULK_QUEUE], (body: SendMessage, delaySeconds, queue) => ({
    lane: queue === testEnv.PRIORITY_QUEUE ? "priority" : queue === testEnv.BULK_QUEUE ? "bulk" : "standard",
    body,
    delaySeconds,
  }));

let seq = 0;
/** Runs the delivery Worker's queue handler on these bodies; returns the batch and its outcome. */
export async function runDelivery(bodies: (SendMessage | EventMessage)[], opts: { queue?: string; attempts?: number } = {}) {
  const batch = createMessageBatch<SendMessage | EventMessage>(
    opts.queue ?? "herald-sends",
    bodies.map((body) => ({ id: `msg-${++seq}`, timestamp: new Date(), attempts: opts.attempts ?? 1, body })),
  );
  const retrySpies = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await delivery.queue(batch as MessageBatch<unknown>, testEnv);
  await waitOnExecutionContext(ctx);
  const result = await getQueueResult(batch, ctx);
  return { batch, result, retrySpies };
}

export type RecordedRequest = { url: string; method: string; headers: Headers; body: string; signal: AbortSignal | null };
type Handler = (req: RecordedRequest) => Response | Promise<Response>;

/**
 * Replaces global fetch with a router of mock providers keyed by origin. Every request is
 * recorded; a request to an origin with no handler fails the way a dead network does.
 */
export function mockProviders(routes: Record<string, Handler>) {
  const requests: RecordedRequest[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const recorded: RecordedRequest = {
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: await request.text(),
      signal: init?.signal ?? null,
    };
    requests.push(recorded);
    const handler = routes[new URL(request.url).origin];
    if (!handler) throw new TypeError(`network error: no route to ${request.url}`);
    const res = await handler(recorded);
    // As the runtime does: a redirect is followed unless the caller asked for `redirect: "manual"`.
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location && request.redirect !== "manual") {
      return globalThis.fetch(new URL(location, request.url), { method: request.method, headers: request.headers, body: recorded.body || undefined, signal: init?.signal ?? null });
    }
    return res;
  });
  return { requests, spy };
}

export const sendgridAccepts = (id = "sg-msg-1") => () => new Response(null, { status: 202, headers: { "x-message-id": id } });
export const twilioAccepts = (sid = "SM" + "a".repeat(32)) => () =>
  Response.json({ sid, status: "queued" }, { status: 201 });

export async function getCommunication(key: string, id: string) {
  const res = await call("GET", `/api/communications/${id}`, { key });
  return res.json;
}

/** A provider that never answers: resolves only when the caller's deadline aborts the request. */
export const hangs = (req: RecordedRequest) =>
  new Promise<Response>((_, reject) => {
    if (!req.signal) return;
    req.signal.addEventListener("abort", () => reject(req.signal!.reason));
  });

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () => Response.json(body, { status, headers });

/**
 * Spies on one D1 method wherever the Workers call it: on env.DB (the consumers, the cron) and on
 * every session an API request opens with withSession (src/api/middleware/d1-session.ts). Calls
 * go through to the real method; give the spy an implementation (`mockRejectedValueOnce`) to
 * fail them instead. Each call is recorded with its arguments.
 */
export function spyOnD1(name: "batch" | "prepare") {
  type Method = (...args: unknown[]) => unknown;
  type Target = { batch: Method; prepare: Method };
  let through: Method = () => undefined;
  const spy = vi.fn((...args: unknown[]) => through(...args));
  const route = (target: object) => {
    const t = target as Target;
    const original = t[name].bind(t);
    vi.spyOn(t, name).mockImplementation((...args: unknown[]) => {
      through = original;
      return spy(...args);
    });
  };
  route(testEnv.DB);
  const withSession = testEnv.DB.withSession.bind(testEnv.DB);
  vi.spyOn(testEnv.DB, "withSession").mockImplementation((constraint) => {
    const session = withSession(constraint);
    route(session);
    return session;
  });
  return spy;
}

/** The events queue (status announcements, webhook deliveries). */
export const captureEvents = () => capture(testEnv.EVENT_QUEUE, (body: EventMessage) => body);

/**
 * Hands the media jobs captured on the events queue so far (src/conversations/media-job.ts) to the
 * delivery Worker, leaving every other captured event where it was; what the jobs enqueue (the
 * `message.received` deliveries) is captured after them.
 */
export async function runMediaJobs(events: ReturnType<typeof captureEvents>, opts: { attempts?: number } = {}) {
  const all = events.drain();
  const jobs = all.filter((m) => m.kind === "media");
  events.sent.push(...all.filter((m) => m.kind !== "media"));
  return { jobs, ...(await runDelivery(jobs, { queue: "herald-events", ...opts })) };
}

/** The automation queue (business events waiting for their trigger rules). */
export const captureAutomation = () => capture(testEnv.AUTOMATION_QUEUE, (body: AutomationMessage) => body);

/** Runs the delivery Worker's handler for the automation queue on these messages. */
export async function runAutomation(bodies: AutomationMessage[]) {
  const batch = createMessageBatch<AutomationMessage>(
    "herald-automation",
    bodies.map((body) => ({ id: `msg-${++seq}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await delivery.queue(batch as MessageBatch<unknown>, testEnv);
  await waitOnExecutionContext(ctx);
  return getQueueResult(batch, ctx);
}
