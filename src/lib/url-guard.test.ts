import { describe, expect, it } from "vitest";
import { unsafeUrlReason } from "./url-guard";

describe("unsafeUrlReason", () => {
  it.each([
    ["https://hooks.acme.test/herald", undefined],
    ["http://hooks.acme.test/herald", "must use https"],
    ["https://user:pw@hooks.acme.test", "must not carry credentials"],
    ["https://localhost/x", "must not point at a private or local address"],
    ["https://127.0.0.1/x", "must not point at a private or local address"],
    ["https://169.254.169.254/latest/meta-data", "must not point at a private or local address"],
    ["https://10.1.2.3/x", "must not point at a private or local address"],
    ["https://172.20.0.1/x", "must not point at a private or local address"],
    ["https://172.32.0.1/x", undefined],
    ["https://192.168.1.1/x", "must not point at a private or local address"],
    ["https://[::1]/x", "must not point at a private or local address"],
    ["https://[fd00::1]/x", "must not point at a private or local address"],
    ["https://printer.local/x", "must not point at a private or local address"],
    ["not a url", "is not a URL"],
  ])("%s", (url, reason) => {
    expect(unsafeUrlReason(url, false)).toBe(reason);
  });

  it("allows local http targets only in local development", () => {
    expect(unsafeUrlReason("http://127.0.0.1:9000/hook", true)).toBeUndefined();
    expect(unsafeUrlReason("http://example.com/hook", true)).toBe("must use https");
  });
});
