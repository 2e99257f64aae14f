/** Shared steps for the automation tests: post events, run their consumer, run cron at a given time. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import api from "../../src/index";
import { addProvider, call, captureAutomation, captureQueue, createTenant, runAutomation, runDelivery } from "../helpers";

export type Capture = { sends: ReturnType<typeof captureQueue>; automation: ReturnType<typeof captureAutomation> };

export const capture = (): Capture => ({ sends: captureQueue(), automation: captureAutomation() });

/**
 * Each test's starting point: the previous test's spies dropped, both queues captured, a fresh
 * tenant with a sandbox provider on each of `channels`.
 */
export async function sandboxTenant(channels: string[]) {
  vi.restoreAllMocks();
  const q = capture();
  const { key } = await createTenant();
  for (const channel of channels) await addProvider(key, { channel, provider: "sandbox" });
  return { key, q };
}

export async function postEvent(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await call("POST", "/api/events", { key, body, headers });
  expect([200, 202], res.text).toContain(res.status);
  return res.json as { id: string; status: string; duplicate?: boolean };
}

/** Hands what the API put on the automation queue to the consumer. */
export const processEvents = (c: Capture) => runAutomation(c.automation.drain());

/** Delivers what is on the send queue. */
export const deliver = (c: Capture) => runDelivery(c.sends.drain().map((m) => m.body));

/** Runs the API Worker's scheduled handler as if the cron fired at `at`. */
export async function cron(at: Date | number = Date.now()) {
  const ctx = createExecutionContext();
  await api.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: at }), env, ctx);
  await waitOnExecutionContext(ctx);
}

export async function trigger(key: string, body: Record<string, unknown>) {
  const res = await call("POST", "/api/triggers", { key, body });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; action: Record<string, unknown> };
}

/** Starts a reminder sequence: the sequence as the API answers it. */
export async function startReminder(key: string, body: Record<string, unknown>) {
  const res = await call("POST", "/api/reminders", { key, body });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

export async function event(key: string, id: string) {
  const res = await call("GET", `/api/events/${id}`, { key });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

export async function communications(key: string, query = "") {
  const res = await call("GET", `/api/communications?size=100${query}`, { key });
  expect(res.status, res.text).toBe(200);
  return res.json.results as Record<string, any>[];
}

export const DAY = 86_400_000;
