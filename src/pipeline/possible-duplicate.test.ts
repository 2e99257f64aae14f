import { describe, expect, it } from "vitest";
import { PROVIDERS } from "../channels/registry";
import { duplicateRisk } from "./possible-duplicate";

describe("duplicateRisk", () => {
  it("is set only when the call timed out", () => {
    expect(duplicateRisk({ ok: false, failure: "retryable", reason: "503" }, { provider: "twilio" })).toBeUndefined();
    expect(duplicateRisk({ ok: true, providerMessageId: "SM1" }, { provider: "twilio" })).toBeUndefined();
    expect(duplicateRisk({ ok: false, failure: "retryable", reason: "slow", timedOut: true }, { provider: "twilio" })).toEqual({ afterTimeout: true, possibleDuplicate: true, idempotencyKey: false });
  });

  it("says whether the provider that timed out got the communication id as an idempotency key", () => {
    expect(duplicateRisk({ ok: false, failure: "retryable", reason: "slow", timedOut: true }, { provider: "resend" })?.idempotencyKey).toBe(true);
    // Checked against each vendor's reference (docs/failover.md): only Resend dedupes sends by key.
    expect(Object.values(PROVIDERS).filter((p) => p.idempotencyKey).map((p) => p.kind)).toEqual(["resend"]);
  });
});
