import { describe, expect, it } from "vitest";
import { addressKind, parseIPv4, parseIPv6, unsafeUrlReason } from "./url-guard";

const BLOCKED = "must not point at a private or local address";

/** Loopback in every spelling we know of: refused unless local development allows loopback. */
const LOOPBACK = [
  "https://localhost/x",
  "https://LOCALHOST/x",
  "https://localhost./x",
  "https://localhost..:8443/x",
  "https://localhost:8080/x",
  "https://api.localhost/x",
  "https://a.b.localhost./x",
  "https://127.0.0.1/x",
  "https://127.0.0.1./x",
  "https://127.0.0.1:443/x",
  "https://127.1/x",
  "https://127.0.1/x",
  "https://127.255.255.254/x",
  "https://127.000.000.001/x",
  "https://2130706433/x",
  "https://0x7f000001/x",
  "https://0X7F000001/x",
  "https://0x7f.1/x",
  "https://0x7F.0.0.1/x",
  "https://0x7f.0x0.0x0.0x1/x",
  "https://0177.0.0.1/x",
  "https://0177.1/x",
  "https://017700000001/x",
  "https://0177.0x0.0.01/x",
  "https://%31%32%37.0.0.1/x",
  "https://127.0.0.1%2e/x",
  "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/x",
  "https://[::1]/x",
  "https://[0:0:0:0:0:0:0:1]/x",
  "https://[0000::0001]/x",
  "https://[::0:1]/x",
  "https://[::127.0.0.1]/x",
  "https://[::7f00:1]/x",
  "https://[::ffff:127.0.0.1]/x",
  "https://[::ffff:7f00:1]/x",
  "https://[0:0:0:0:0:ffff:127.0.0.1]/x",
  "https://[::ffff:0:127.0.0.1]/x",
  "https://[64:ff9b::127.0.0.1]/x",
  "https://[64:ff9b::7f00:1]/x",
  "https://[2002:7f00:1::]/x",
  "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",
];

/** Private, link-local, metadata, reserved and internal names: refused everywhere. */
const PRIVATE = [
  "https://10.0.0.1/x",
  "https://10.1/x",
  "https://10.255.255.255/x",
  "https://10.0.0.1./x",
  "https://167772161/x",
  "https://0xa.0.0.1/x",
  "https://012.0.0.1/x",
  "https://0x0a000001/x",
  "https://172.16.0.1/x",
  "https://172.20.0.1/x",
  "https://172.31.255.255/x",
  "https://172.16.1/x",
  "https://0xac.0x10.0.1/x",
  "https://2886729729/x",
  "https://192.168.0.1/x",
  "https://192.168.1.1/x",
  "https://192.168.1/x",
  "https://3232235777/x",
  "https://0300.0250.0.1/x",
  "https://0xc0a80001/x",
  "https://169.254.169.254/latest/meta-data",
  "https://169.254.43518/x",
  "https://0xa9fea9fe/x",
  "https://2852039166/x",
  "https://0251.0376.0251.0376/x",
  "https://100.64.0.1/x",
  "https://100.127.255.255/x",
  "https://0.0.0.0/x",
  "https://0/x",
  "https://0x0/x",
  "https://0.0.0.1/x",
  "https://192.0.0.1/x",
  "https://192.0.2.1/x",
  "https://198.18.0.1/x",
  "https://198.51.100.7/x",
  "https://203.0.113.9/x",
  "https://224.0.0.1/x",
  "https://239.255.255.250/x",
  "https://240.0.0.1/x",
  "https://255.255.255.255/x",
  "https://[::]/x",
  "https://[::ffff:10.0.0.1]/x",
  "https://[::ffff:a00:1]/x",
  "https://[::10.0.0.1]/x",
  "https://[::ffff:169.254.169.254]/x",
  "https://[::ffff:192.168.0.1]/x",
  "https://[64:ff9b::10.0.0.1]/x",
  "https://[64:ff9b::a9fe:a9fe]/x",
  "https://[64:ff9b:1::1]/x",
  "https://[2002:a00:1::]/x",
  "https://[2002:c0a8:101::1]/x",
  "https://[fc00::1]/x",
  "https://[fd00::1]/x",
  "https://[fd12:3456:789a::1]/x",
  "https://[fe80::1]/x",
  "https://[febf::1]/x",
  "https://[fec0::1]/x",
  "https://[ff02::1]/x",
  "https://[2001:db8::1]/x",
  "https://[100::1]/x",
  "https://printer.local/x",
  "https://printer.local./x",
  "https://metadata.google.internal/x",
  "https://router.home.arpa/x",
  "https://nas.lan/x",
  "https://host.localdomain/x",
  "https://intranet/x",
  "https://metadata/x",
];

/** Public addresses, some spelled oddly, and names that only look local. */
const PUBLIC = [
  "https://hooks.acme.test/herald",
  "https://example.com./x",
  "https://8.8.8.8/x",
  "https://134744072/x",
  "https://0x8.0x8.0x8.0x8/x",
  "https://010.010.010.010/x",
  "https://172.32.0.1/x",
  "https://172.15.255.255/x",
  "https://100.128.0.1/x",
  "https://100.63.255.255/x",
  "https://192.169.0.1/x",
  "https://169.255.0.1/x",
  "https://11.0.0.1/x",
  "https://128.0.0.1/x",
  "https://[2606:4700:4700::1111]/x",
  "https://[::ffff:8.8.8.8]/x",
  "https://[64:ff9b::8.8.8.8]/x",
  "https://[2002:808:808::1]/x",
  "https://localhost.example.com/x",
  "https://mylocalhost.com/x",
  "https://0x7f.example.com/x",
];

describe("unsafeUrlReason", () => {
  it("covers more than a hundred spellings", () => {
    expect(LOOPBACK.length + PRIVATE.length + PUBLIC.length).toBeGreaterThan(100);
  });

  it.each(LOOPBACK)("refuses loopback %s, and allows it only in local development", (url) => {
    expect(unsafeUrlReason(url, false)).toBe(BLOCKED);
    expect(unsafeUrlReason(url, true)).toBeUndefined();
    expect(unsafeUrlReason(url.replace(/^https:/, "http:"), true)).toBeUndefined();
  });

  it.each(PRIVATE)("refuses private %s, even in local development", (url) => {
    expect(unsafeUrlReason(url, false)).toBe(BLOCKED);
    expect(unsafeUrlReason(url, true)).toBe(BLOCKED);
    expect(unsafeUrlReason(url.replace(/^https:/, "http:"), true)).toBe("must use https");
  });

  it.each(PUBLIC)("allows public %s over https only", (url) => {
    expect(unsafeUrlReason(url, false)).toBeUndefined();
    expect(unsafeUrlReason(url.replace(/^https:/, "http:"), true)).toBe("must use https");
  });

  it.each([
    ["http://hooks.acme.test/herald", "must use https"],
    ["https://user:pw@hooks.acme.test", "must not carry credentials"],
    ["not a url", "is not a URL"],
    ["ftp://localhost/x", "must use https"],
  ])("%s", (url, reason) => {
    expect(unsafeUrlReason(url, false)).toBe(reason);
  });

  it("allows loopback only over http(s)", () => {
    expect(unsafeUrlReason("ftp://127.0.0.1/x", true)).toBe("must be http(s)");
  });
});

describe("address parsing", () => {
  it.each([
    ["127.0.0.1", 0x7f000001],
    ["127.1", 0x7f000001],
    ["0x7f.1", 0x7f000001],
    ["0177.0.0.1", 0x7f000001],
    ["2130706433", 0x7f000001],
    ["10.1.", 0x0a000001],
    ["256.0.0.1", undefined],
    ["1.2.3.4.5", undefined],
    ["127.0.0.1x", undefined],
    ["08.0.0.1", undefined],
    ["1..2", undefined],
  ])("IPv4 %s", (host, value) => {
    expect(parseIPv4(host)).toBe(value);
  });

  it.each([
    ["::1", [0, 0, 0, 0, 0, 0, 0, 1]],
    ["[::ffff:127.0.0.1]", [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ["64:ff9b::7f00:1", [0x64, 0xff9b, 0, 0, 0, 0, 0x7f00, 1]],
    ["1:2:3:4:5:6:7:8", [1, 2, 3, 4, 5, 6, 7, 8]],
    ["1:2:3:4:5:6:7", undefined],
    ["1::2::3", undefined],
    ["example.com", undefined],
  ])("IPv6 %s", (host, groups) => {
    expect(parseIPv6(host)).toEqual(groups);
  });

  it("judges bare hosts as URL.hostname gives them", () => {
    expect(addressKind("0x7f.1")).toBe("loopback");
    expect(addressKind("[::127.0.0.1]")).toBe("loopback");
    expect(addressKind("::ffff:a9fe:a9fe")).toBe("private");
    expect(addressKind("hooks.acme.test")).toBe("public");
  });
});
