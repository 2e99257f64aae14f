import { describe, expect, it } from "vitest";
import { open, seal } from "./crypto";
import { base64Decode, base64Encode } from "./base64";

const master = base64Encode(crypto.getRandomValues(new Uint8Array(32)));

describe("sealing tenants' secrets", () => {
  it("opens only for the same tenant and record", async () => {
    const sealed = await seal(master, "tenant-a", "SG.secret", "provider_config:tenant-a:p1");
    expect(sealed).toMatch(/^v2\./);
    expect(await open(master, "tenant-a", sealed, "provider_config:tenant-a:p1")).toBe("SG.secret");
    await expect(open(master, "tenant-b", sealed, "provider_config:tenant-a:p1")).rejects.toThrow();
    await expect(open(master, "tenant-a", sealed, "provider_config:tenant-a:p2")).rejects.toThrow();
  });

  it("still opens values sealed with the master key (v1)", async () => {
    const key = await crypto.subtle.importKey("raw", base64Decode(master), "AES-GCM", false, ["encrypt"]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode("aad") }, key, new TextEncoder().encode("old"));
    expect(await open(master, "any", `v1.${base64Encode(iv)}.${base64Encode(ct)}`, "aad")).toBe("old");
  });
});
