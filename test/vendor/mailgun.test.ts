/**
 * Cross-checks Mailgun webhook verification against node:crypto, in Node: Mailgun publishes no
 * verifier package, and its documentation's reference snippet is
 * `createHmac('sha256', signingKey).update(timestamp.concat(token)).digest('hex')`. Requests
 * signed that way must pass `mailgunWebhook.verify`, our `mailgunSignature` must equal the
 * digest, and anything else must fail.
 */
import * as nodeCrypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailgunSignature, mailgunWebhook } from "../../src/channels/email/mailgun-webhook";
import type { InboundWebhook } from "../../src/channels/types";

type Hmac = { update(data: string): Hmac; digest(encoding: "hex"): string };
const { createHmac, randomBytes, timingSafeEqual } = nodeCrypto as {
  createHmac(algorithm: "sha256", key: string): Hmac;
  randomBytes(size: number): { toString(encoding: "hex"): string };
  timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
};

// `constantTimeEqual` calls the Workers extension `crypto.subtle.timingSafeEqual`; Node's stands in.
beforeAll(() => {
  Object.defineProperty(crypto.subtle, "timingSafeEqual", { value: timingSafeEqual, configurable: true });
});
afterAll(() => {
  Reflect.deleteProperty(crypto.subtle, "timingSafeEqual");
});

const NOW = new Date("2026-11-23T14:00:00Z");
const KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";

/** A webhook as Mailgun posts it, signed with node:crypto exactly as Mailgun's docs show. */
function mailgunRequest(signingKey: string, opts: { timestamp?: string; token?: string; field?: "signature" | "parent-signature" } = {}): InboundWebhook {
  const timestamp = opts.timestamp ?? String(Math.floor(NOW.getTime() / 1000));
  const token = opts.token ?? randomBytes(25).toString("hex");
  const signature = createHmac("sha256", signingKey).update(timestamp.concat(token)).digest("hex");
  const block =
    opts.field === "parent-signature"
      ? { timestamp, token, signature: "0".repeat(64), "parent-signature": signature }
      : { timestamp, token, signature };
  const body = { signature: block, "event-data": { event: "delivered", id: "CPgfbmQMTCKtHW6uIWtuVe", timestamp: 1763906400.5 } };
  return { url: "https://herald.test/webhooks/mailgun/cfg", rawBody: JSON.stringify(body), headers: new Headers({ "content-type": "application/json" }), now: NOW };
}

describe("Mailgun webhook signatures: ours vs node:crypto (Mailgun's documented recipe)", () => {
  it.each([
    ["a 50-character token", "e0b5477167110d68991efc6b9f89f0a11066af27834600e123"],
    ["a hex token", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"],
    ["non-ASCII in the token", "tökén-ünïcode-🙂"],
  ])("computes the same hex digest for %s", async (_name, token) => {
    const timestamp = "1770920772";
    expect(await mailgunSignature(KEY, timestamp, token)).toBe(createHmac("sha256", KEY).update(timestamp + token).digest("hex"));
  });

  it("accepts what node:crypto signs, with the signing key or, for subaccounts, the parent's", async () => {
    expect(await mailgunWebhook.verify(mailgunRequest(KEY), { webhookSigningKey: KEY }, {})).toEqual({ ok: true });
    expect(await mailgunWebhook.verify(mailgunRequest(KEY, { field: "parent-signature" }), { webhookSigningKey: KEY }, {})).toEqual({ ok: true });
  });

  it("rejects another key, an altered token and a stale timestamp", async () => {
    expect(await mailgunWebhook.verify(mailgunRequest("another-key"), { webhookSigningKey: KEY }, {})).toEqual({ ok: false, reason: "bad signature" });
    const signed = mailgunRequest(KEY, { token: "a".repeat(50) });
    const altered = { ...signed, rawBody: signed.rawBody.replace("a".repeat(50), "b".repeat(50)) };
    expect(await mailgunWebhook.verify(altered, { webhookSigningKey: KEY }, {})).toEqual({ ok: false, reason: "bad signature" });
    const stale = mailgunRequest(KEY, { timestamp: String(Math.floor(NOW.getTime() / 1000) - 2 * 3600) });
    expect(await mailgunWebhook.verify(stale, { webhookSigningKey: KEY }, {})).toEqual({ ok: false, reason: "timestamp outside the replay window" });
  });
});
