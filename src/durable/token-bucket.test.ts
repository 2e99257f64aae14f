import { describe, expect, it } from "vitest";
import { providerRateLimit, quotaPeriod } from "./limits";
import { fullBucket, pause, refill, reserve, standing, take, type Bucket } from "./token-bucket";

const limit = { perSecond: 2, burst: 4 };
const T0 = 1_000_000;

describe("token bucket", () => {
  it("admits exactly the burst at one instant, then says how long the next token takes", () => {
    let b: Bucket = fullBucket(limit, T0);
    let admitted = 0;
    for (let i = 0; i < 10; i++) {
      const r = take(b, limit, 1, T0);
      b = r.bucket;
      if (r.ok) admitted++;
      else expect(r.waitMs).toBe(500);
    }
    expect(admitted).toBe(4);
  });

  it("refills at the rate and never above the burst", () => {
    const empty = { tokens: 0, updatedAt: T0 };
    expect(refill(empty, limit, T0 + 750).tokens).toBe(1.5);
    expect(refill(empty, limit, T0 + 60_000).tokens).toBe(4);
    // A lowered burst applies at once.
    expect(refill({ tokens: 4, updatedAt: T0 }, { perSecond: 2, burst: 2 }, T0).tokens).toBe(2);
  });

  it("takes a cost of several tokens all or nothing", () => {
    const b = { tokens: 3, updatedAt: T0 };
    const refused = take(b, limit, 4, T0);
    expect(refused).toMatchObject({ ok: false, waitMs: 500, bucket: { tokens: 3 } });
    expect(take(b, limit, 3, T0)).toMatchObject({ ok: true, bucket: { tokens: 0 } });
  });

  it("books consecutive slots one token-interval apart when empty", () => {
    let b: Bucket = { tokens: 0, updatedAt: T0 };
    const slots: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = reserve(b, limit, T0);
      b = r.bucket;
      slots.push(r.at - T0);
    }
    expect(slots).toEqual([500, 1000, 1500]);
    // The debt is paid back by the refill: 1.5 s later the bucket is at zero again, not above.
    expect(refill(b, limit, T0 + 1500).tokens).toBe(0);
  });

  it("pauses until a Retry-After, then resumes one token at a time", () => {
    const paused = pause(fullBucket(limit, T0), limit, T0, T0 + 30_000, 0);
    expect(take(paused, limit, 1, T0 + 29_000)).toMatchObject({ ok: false, waitMs: 1000 });
    const after = take(paused, limit, 1, T0 + 30_000);
    expect(after.ok).toBe(true);
    expect(take(after.bucket, limit, 1, T0 + 30_000)).toMatchObject({ ok: false, waitMs: 500 });
    // Cancelled bookings hand their tokens back, but the burst stays gone.
    expect(pause({ tokens: -5, updatedAt: T0 }, limit, T0, T0 + 1000, 5)).toEqual({ tokens: 0, updatedAt: T0 + 1000 });
  });

  it("reports whole tokens left and seconds until full", () => {
    expect(standing({ tokens: 2.5, updatedAt: T0 }, limit, T0)).toEqual({ remaining: 2, fullInSeconds: 1 });
    expect(standing({ tokens: -1, updatedAt: T0 }, limit, T0)).toEqual({ remaining: 0, fullInSeconds: 3 });
  });
});

describe("provider send-rate defaults (seed §8.2)", () => {
  it.each([
    ["sendgrid", "email", { perSecond: 10, burst: 100 }],
    ["twilio", "sms", { perSecond: 5, burst: 50 }],
    ["twilio", "whatsapp", { perSecond: 4, burst: 40 }],
    ["twilio", "messenger", { perSecond: 4, burst: 40 }],
  ] as const)("%s on %s", (provider, channel, expected) => {
    expect(providerRateLimit({ provider, channel, settings: {} })).toEqual(expected);
  });

  it("takes settings.rateLimit when valid, leaves the sandbox unthrottled, ignores junk", () => {
    expect(providerRateLimit({ provider: "sendgrid", channel: "email", settings: { rateLimit: { perSecond: 1, burst: 2 } } })).toEqual({ perSecond: 1, burst: 2 });
    expect(providerRateLimit({ provider: "sandbox", channel: "sms", settings: {} })).toBeNull();
    expect(providerRateLimit({ provider: "sandbox", channel: "sms", settings: { rateLimit: { perSecond: 3, burst: 3 } } })).toEqual({ perSecond: 3, burst: 3 });
    expect(providerRateLimit({ provider: "twilio", channel: "sms", settings: { rateLimit: { perSecond: -1, burst: 0 } } })).toEqual({ perSecond: 5, burst: 50 });
  });
});

describe("quota periods", () => {
  it("are UTC calendar months", () => {
    expect(quotaPeriod(Date.parse("2026-11-30T23:59:59.999Z"))).toEqual({
      id: "2026-11",
      start: Date.parse("2026-11-01T00:00:00Z"),
      resetsAt: Date.parse("2026-12-01T00:00:00Z"),
    });
    expect(quotaPeriod(Date.parse("2026-12-31T12:00:00Z")).resetsAt).toBe(Date.parse("2027-01-01T00:00:00Z"));
  });
});
