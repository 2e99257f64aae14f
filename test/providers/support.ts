/** Shared steps of the email provider tests: send through the pipeline, post a webhook, read back. */
import { exports } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { call, captureQueue, createTenant, runDelivery } from "../helpers";
import type { OutboundMessage } from "../../src/channels/types";

export const email = { channel: "email", recipientContact: "ann@example.com", recipientName: "Ann Lee", subject: "Invoice INV-1", content: "<p>Total: <b>$10</b></p>" };

/** Each test's start: the previous test's spies dropped, the send queue captured, a fresh tenant. */
export async function freshTenant() {
  vi.restoreAllMocks();
  const queue = captureQueue();
  const { key } = await createTenant();
  return { key, queue };
}

/** Sends through the API and runs the delivery Worker on what it enqueued: the id and what the run did. */
export async function sendAndRun(key: string, queue: ReturnType<typeof captureQueue>, body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body });
  expect(res.status, res.text).toBe(201);
  const run = await runDelivery(queue.drain().map((m) => m.body));
  return { id: res.json.id as string, ...run };
}

export async function sendAndDeliver(key: string, queue: ReturnType<typeof captureQueue>, body: Record<string, unknown> = email) {
  return (await sendAndRun(key, queue, body)).id;
}

export const detail = async (key: string, id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;

export const providerEvents = (d: { events: { kind: string; detail?: { event?: string } }[] }) =>
  d.events.filter((e) => e.kind === "provider_event").map((e) => e.detail?.event);

export async function postWebhook(url: string, body: string, headers: Record<string, string>) {
  const res = await exports.default.fetch(url, { method: "POST", body, headers });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as any) : undefined };
}

export async function suppressions(key: string) {
  return (await call("GET", "/api/suppressions?channel=email", { key })).json.results as { contact: string; reason: string; source: string; communicationId: string }[];
}

/**
 * As helpers' `mockProviders`, for multipart bodies: each is read back with the runtime's own
 * form parser (reading it as text would mangle binary parts).
 */
export function mockMultipart(routes: Record<string, () => Response>) {
  const requests: { url: string; method: string; headers: Headers; form: FormData }[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push({ url: request.url, method: request.method, headers: request.headers, form: await request.formData() });
    const handler = routes[new URL(request.url).origin];
    if (!handler) throw new TypeError(`network error: no route to ${request.url}`);
    return handler();
  });
  return { requests };
}

/** A message as the pipeline hands it to an adapter, for tests that call an adapter directly. */
export const outbound = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  communicationId: "01a20899-b1ff-72df-aaa1-3aeb52a3aa02",
  tenantId: "01a20899-b1ff-72df-aaa1-000000000001",
  channel: "email",
  to: "ann@example.com",
  recipientName: null,
  subject: "Hello",
  content: "Hello Ann",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/x/y",
  ...overrides,
});
