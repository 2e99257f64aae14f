/** Shared set-up for the conversations tests: a tenant with sandbox providers, sends, inbound batches. */
import { expect } from "vitest";
import { addProvider, call, createTenant, runDelivery, testEnv } from "../helpers";
import { receiveInbound, type InboundMessage } from "../../src/conversations/inbound";
import type { SendMessage } from "../../src/pipeline/queue-message";

export const PHONE = "+14155550123";
export const OUR_NUMBER = "+14155550100";

export async function tenantWithSandbox(channels = ["sms", "whatsapp", "email"]) {
  const t = await createTenant();
  const configs: Record<string, string> = {};
  for (const channel of channels) configs[channel] = (await addProvider(t.key, { channel, provider: "sandbox" })).id;
  return { ...t, configs };
}

let n = 0;
export const inbound = (configId: string, over: Partial<InboundMessage> = {}): InboundMessage => ({
  channel: "sms",
  providerConfigId: configId,
  providerMessageId: `SM-in-${++n}-${Math.random().toString(36).slice(2)}`,
  from: PHONE,
  to: OUR_NUMBER,
  text: "Can I pay next week?",
  receivedAt: new Date().toISOString(),
  ...over,
});

export const receive = (tenantId: string, messages: InboundMessage[]) => receiveInbound(testEnv, tenantId, messages);

/** Sends through the API and runs delivery; answers the communication as the API shows it. */
export async function sendAndDeliver(key: string, queue: { drain: () => { body: SendMessage }[] }, body: Record<string, unknown>) {
  const res = await call("POST", "/api/communications/send", { key, body: { channel: "sms", recipientContact: PHONE, content: "Invoice INV-1: $42 due", ...body } });
  expect(res.status, res.text).toBe(201);
  await runDelivery(queue.drain().map((m) => m.body));
  return (await call("GET", `/api/communications/${res.json.id}`, { key })).json;
}
