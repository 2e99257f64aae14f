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

/** Each case, on top of `base`, is a 422 problem naming its field. */
export async function expectRefused(key: string, base: Record<string, unknown>, cases: [Record<string, unknown>, string][]) {
  for (const [over, field] of cases) {
    const res = await call("POST", "/api/communications/send", { key, body: { ...base, ...over } });
    const label = JSON.stringify(over).slice(0, 80);
    expect(res.status, label).toBe(422);
    expect(res.headers.get("content-type"), label).toMatch(/problem\+json/);
    expect(JSON.stringify(res.json), label).toContain(field);
  }
}
