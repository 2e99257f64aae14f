/** Shared steps of the chat channel tests: send through the API, run delivery, read back. */
import { expect } from "vitest";
import { call, runDelivery, type captureQueue } from "../helpers";

export async function deliverChat(key: string, queue: ReturnType<typeof captureQueue>, body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body });
  expect(res.status, res.text).toBe(201);
  const run = await runDelivery(queue.drain().map((m) => m.body));
  return { id: res.json.id as string, ...run };
}

export const detail = async (key: string, id: string) => (await call("GET", `/api/communications/${id}`, { key })).json;
