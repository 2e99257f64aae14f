/**
 * Checks a URL a tenant gives us to call (webhook endpoints): https only, and no host that names
 * this machine or a private network. Names are checked literally; Workers' fetch cannot reach
 * private networks anyway, so this mainly stops obvious misuse and mistakes early, with a reason.
 */
const PRIVATE_V4 = [
  [0x0a000000, 8], // 10.0.0.0/8
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local, cloud metadata
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0a80000, 16], // 192.168.0.0/16
  [0x00000000, 8], // "this" network
  [0x64400000, 10], // carrier-grade NAT
] as const;

function privateV4(host: string): boolean {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return false;
  const ip = parts.reduce((n, p) => n * 256 + Number(p), 0);
  return PRIVATE_V4.some(([net, bits]) => ip >>> (32 - bits) === net >>> (32 - bits));
}

const privateV6 = (host: string) => /^\[(::1?|f[cd][0-9a-f]{0,2}:.*|fe[89ab][0-9a-f]?:.*|::ffff:.*)\]$/i.test(host);
const localName = (host: string) => host === "localhost" || /\.(localhost|local|internal|home\.arpa)$/i.test(host);

/** Returns why the URL may not be called, or undefined when it may. */
export function unsafeUrlReason(raw: string, allowLocal: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  const host = url.hostname.toLowerCase();
  const local = localName(host) || privateV4(host) || privateV6(host);
  if (allowLocal && local) return url.protocol === "http:" || url.protocol === "https:" ? undefined : "must be http(s)";
  if (url.protocol !== "https:") return "must use https";
  if (local) return "must not point at a private or local address";
  return undefined;
}
