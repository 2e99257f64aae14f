/**
 * Checks a URL a tenant gives us to call (webhook endpoints, file URLs, push services): https
 * only, no credentials, and no host that names this machine or a private network. Addresses are
 * judged by value, not by spelling: `0x7f.1`, `2130706433`, `[::ffff:127.0.0.1]`,
 * `[64:ff9b::7f00:1]` and `localhost.` are all loopback. Workers' fetch cannot reach private
 * networks in production, but `wrangler dev` runs on a developer's machine, where it can; so
 * private ranges are refused everywhere, and loopback only where `ALLOW_LOOPBACK_URLS` says this
 * is local development (local mock receivers and providers).
 */

export type AddressKind = "public" | "loopback" | "private";

/** [network, prefix length] of every IPv4 range that is not a public unicast address. */
const LOOPBACK_V4 = [[0x7f000000, 8]] as const;
const PRIVATE_V4 = [
  [0x00000000, 8], // "this" network (0.0.0.0 reaches the local host on Linux)
  [0x0a000000, 8], // 10.0.0.0/8
  [0x64400000, 10], // carrier-grade NAT 100.64.0.0/10
  [0xa9fe0000, 16], // link-local, cloud metadata 169.254.0.0/16
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0000000, 24], // IETF protocol assignments 192.0.0.0/24
  [0xc0000200, 24], // TEST-NET-1
  [0xc0586300, 24], // 6to4 relay anycast 192.88.99.0/24
  [0xc0a80000, 16], // 192.168.0.0/16
  [0xc6120000, 15], // benchmarking 198.18.0.0/15
  [0xc6336400, 24], // TEST-NET-2
  [0xcb007100, 24], // TEST-NET-3
  [0xe0000000, 4], // multicast
  [0xf0000000, 4], // reserved, and the broadcast address
] as const;

const inV4 = (ip: number, ranges: readonly (readonly [number, number])[]) =>
  ranges.some(([net, bits]) => ip >>> (32 - bits) === net >>> (32 - bits));

function kindOfV4(ip: number): AddressKind {
  if (inV4(ip, LOOPBACK_V4)) return "loopback";
  return inV4(ip, PRIVATE_V4) ? "private" : "public";
}

/**
 * The value of an IPv4 address in any spelling `inet_aton` (and so many HTTP clients) accepts:
 * one to four parts, each decimal, octal (leading 0) or hex (0x), the last filling the remaining
 * bytes (`127.1`, `0x7f000001`, `2130706433`). A trailing dot is allowed. Not an address: undefined.
 */
export function parseIPv4(host: string): number | undefined {
  const parts = host.replace(/\.$/, "").split(".");
  if (parts.length > 4 || parts.some((p) => p === "")) return undefined;
  const values: number[] = [];
  for (const p of parts) {
    const m = /^(?:0x([0-9a-f]*)|(0[0-7]*)|([1-9][0-9]*))$/i.exec(p);
    if (!m) return undefined;
    const value = m[1] !== undefined ? (m[1] === "" ? 0 : parseInt(m[1], 16)) : m[2] !== undefined ? parseInt(m[2], 8) : Number(m[3]);
    if (!Number.isFinite(value)) return undefined;
    values.push(value);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return undefined;
  return values.reduce((n, v, i) => n + v * 256 ** (3 - i), 0) + last;
}

/** The eight 16-bit groups of an IPv6 address (brackets optional, dotted IPv4 tail allowed). */
export function parseIPv6(host: string): number[] | undefined {
  let h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const zone = h.indexOf("%");
  if (zone >= 0) h = h.slice(0, zone);
  if (!h.includes(":")) return undefined;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (dotted) {
    const parts = dotted[2]!.split(".").map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    tail.push(parts[0]! * 256 + parts[1]!, parts[2]! * 256 + parts[3]!);
    h = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = h.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...rest].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const zeros = new Array<number>(8 - explicit).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...rest.map((g) => parseInt(g, 16)), ...tail];
}

const v4Of = (hi: number, lo: number) => hi * 65536 + lo;

function kindOfV6(g: number[]): AddressKind {
  const [a, b, c, d, e, f, hi, lo] = g as [number, number, number, number, number, number, number, number];
  const first96Zero = a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0;
  if (first96Zero && hi === 0 && lo === 1) return "loopback"; // ::1
  if (first96Zero && hi === 0 && lo === 0) return "private"; // :: (unspecified)
  // Addresses that carry an IPv4 address are judged by that address: IPv4-compatible ::a.b.c.d,
  // IPv4-mapped ::ffff:a.b.c.d, SIIT ::ffff:0:a.b.c.d, NAT64 64:ff9b::a.b.c.d.
  if (first96Zero) return kindOfV4(v4Of(hi, lo));
  if (a === 0 && b === 0 && c === 0 && d === 0 && (e === 0 || e === 0xffff) && (f === 0xffff || (e === 0xffff && f === 0))) return kindOfV4(v4Of(hi, lo));
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return kindOfV4(v4Of(hi, lo));
  if (a === 0x64 && b === 0xff9b && c === 1) return "private"; // local-use NAT64 64:ff9b:1::/48
  if (a === 0x2002) return kindOfV4(v4Of(b, c)); // 6to4 carries its IPv4 in bits 16-47
  if (a === 0x2001 && b === 0) return kindOfV4(v4Of(hi ^ 0xffff, lo ^ 0xffff)); // Teredo: client IPv4, inverted
  if ((a & 0xfe00) === 0xfc00) return "private"; // unique local fc00::/7
  if ((a & 0xffc0) === 0xfe80 || (a & 0xffc0) === 0xfec0) return "private"; // link-local, old site-local
  if ((a & 0xff00) === 0xff00) return "private"; // multicast
  if (a === 0x2001 && b === 0xdb8) return "private"; // documentation
  if (a === 0x100 && b === 0 && c === 0 && d === 0) return "private"; // discard-only 100::/64
  return "public";
}

const LOOPBACK_NAME = /(^|\.)localhost$/;
/** Names that only resolve inside a network: mDNS, cloud-internal, home routers. */
const PRIVATE_NAME = /\.(local|internal|intranet|lan|localdomain|home\.arpa|corp)$/;

/** What a URL host (as `URL.hostname` gives it, or bare) names, judged by value. */
export function addressKind(rawHost: string): AddressKind {
  const host = rawHost.toLowerCase().replace(/\.+$/, "");
  const v6 = parseIPv6(host);
  if (v6) return kindOfV6(v6);
  const v4 = parseIPv4(host);
  if (v4 !== undefined) return kindOfV4(v4);
  if (host === "" || LOOPBACK_NAME.test(host)) return host === "" ? "private" : "loopback";
  // A single label (`intranet`, `metadata`) is resolved through the local search domains.
  if (PRIVATE_NAME.test(host) || !host.includes(".")) return "private";
  return "public";
}

/**
 * Returns why the URL may not be called, or undefined when it may. `allowLoopback` (local
 * development only) lets http(s) URLs on this machine through; private networks never pass.
 */
export function unsafeUrlReason(raw: string, allowLoopback: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  const kind = addressKind(url.hostname);
  if (kind === "loopback" && allowLoopback) return url.protocol === "http:" || url.protocol === "https:" ? undefined : "must be http(s)";
  if (url.protocol !== "https:") return "must use https";
  if (kind !== "public") return "must not point at a private or local address";
  return undefined;
}
