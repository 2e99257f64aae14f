/**
 * Cross-checks Slack request verification (src/channels/slack/slack-signature.ts) in Node. No
 * Slack package that verifies requests is installed (`@slack/bolt` and `@slack/events-api` carry
 * the verifier; `@slack/web-api` and `@slack/webhook` only send), so the checks are Slack's own
 * worked example from "Verifying requests from Slack" (its signing secret, timestamp, slash-command
 * body and expected `v0=a2114d…`) and node:crypto's HMAC computed independently over random bodies.
 */
import * as nodeCrypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slackSignature, verifySlackRequest } from "../../src/channels/slack/slack-signature";

type NodeHmac = { update(data: string): NodeHmac; digest(encoding: "hex"): string };
const { createHmac, randomBytes, timingSafeEqual } = nodeCrypto as unknown as {
  createHmac(algorithm: "sha256", key: string): NodeHmac;
  randomBytes(size: number): { toString(encoding: "base64"): string };
  timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
};

// constantTimeEqual uses `crypto.subtle.timingSafeEqual`, a Workers extension Node lacks: Node's stands in.
beforeAll(() => {
  Object.defineProperty(crypto.subtle, "timingSafeEqual", { value: timingSafeEqual, configurable: true });
});
afterAll(() => {
  Reflect.deleteProperty(crypto.subtle, "timingSafeEqual");
});

// Slack's documented example (docs.slack.dev/authentication/verifying-requests-from-slack).
const DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const DOC_TIMESTAMP = "1531420618";
const DOC_BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

const request = (rawBody: string, signature: string | null, timestamp: string | null, now: Date) => {
  const headers = new Headers();
  if (signature) headers.set("x-slack-signature", signature);
  if (timestamp) headers.set("x-slack-request-timestamp", timestamp);
  return { headers, rawBody, now };
};

describe("Slack request signatures", () => {
  it("match Slack's documented example, which verifies at its own time and not ten minutes later", async () => {
    expect(await slackSignature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)).toBe(DOC_SIGNATURE);
    const at = new Date(Number(DOC_TIMESTAMP) * 1000);
    expect(await verifySlackRequest(request(DOC_BODY, DOC_SIGNATURE, DOC_TIMESTAMP, at), DOC_SECRET)).toEqual({ ok: true });
    expect(await verifySlackRequest(request(DOC_BODY, DOC_SIGNATURE, DOC_TIMESTAMP, new Date(at.getTime() + 10 * 60_000)), DOC_SECRET)).toMatchObject({ ok: false, reason: expect.stringContaining("5 minutes") });
    expect(await verifySlackRequest(request(DOC_BODY + "&x=1", DOC_SIGNATURE, DOC_TIMESTAMP, at), DOC_SECRET)).toEqual({ ok: false, reason: "wrong signature" });
    expect(await verifySlackRequest(request(DOC_BODY, DOC_SIGNATURE, DOC_TIMESTAMP, at), "another0secret0entirely")).toEqual({ ok: false, reason: "wrong signature" });
  });

  it("equal node:crypto's HMAC-SHA256 over v0:timestamp:body for random secrets and bodies", async () => {
    const now = new Date();
    for (let i = 0; i < 25; i++) {
      const secret = randomBytes(16).toString("base64").replace(/[^A-Za-z0-9]/g, "a");
      const body = JSON.stringify({ type: "event_callback", event: { type: "message", text: `ü ${randomBytes(24).toString("base64")} "quoted" \n` } });
      const timestamp = String(Math.floor(now.getTime() / 1000) - i * 10);
      const expected = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
      expect(await slackSignature(secret, timestamp, body)).toBe(expected);
      expect(await verifySlackRequest(request(body, expected, timestamp, now), secret)).toEqual({ ok: true });
    }
  });

  it("names what is missing, and refuses timestamps that are not plain Unix seconds", async () => {
    const now = new Date(Number(DOC_TIMESTAMP) * 1000);
    expect(await verifySlackRequest(request(DOC_BODY, null, DOC_TIMESTAMP, now), DOC_SECRET)).toEqual({ ok: false, reason: "missing X-Slack-Signature" });
    expect(await verifySlackRequest(request(DOC_BODY, DOC_SIGNATURE, null, now), DOC_SECRET)).toEqual({ ok: false, reason: "missing X-Slack-Request-Timestamp" });
    expect((await verifySlackRequest(request(DOC_BODY, DOC_SIGNATURE, DOC_TIMESTAMP, now), undefined)).ok).toBe(false);
    // (Headers trim surrounding whitespace, as HTTP does.)
    for (const odd of ["1531420618.0", "0x5B4794CA", "1.531420618e9"]) {
      expect((await verifySlackRequest(request(DOC_BODY, DOC_SIGNATURE, odd, now), DOC_SECRET)).ok, odd).toBe(false);
    }
  });
});
