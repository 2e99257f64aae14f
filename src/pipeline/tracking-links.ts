/**
 * Herald's own open and click tracking. Links and the open pixel point at our edge with a token
 * that names the communication (and, for clicks, the destination) and carries an HMAC, so a token
 * cannot be forged, edited into an open redirect, or enumerated.
 */
import { base64Decode, base64urlDecode, base64urlEncode as base64url } from "../lib/base64";
import { constantTimeEqual, hmac } from "../lib/crypto";

/** o: open pixel, c: click (with its destination), u: one-click unsubscribe. */
export type TrackingToken = { k: "o" | "c" | "u"; t: string; c: string; u?: string };


/** A key of its own for tracking tokens, derived from the master secret (domain separation). */
const keyFor = (secret: string) => hmac("SHA-256", base64Decode(secret), "herald tracking tokens v1");

export async function signToken(secret: string, token: TrackingToken): Promise<string> {
  const payload = base64url(new TextEncoder().encode(JSON.stringify(token)));
  const mac = base64url(await hmac("SHA-256", await keyFor(secret), payload));
  return `${payload}.${mac}`;
}

export async function verifyToken(secret: string, raw: string): Promise<TrackingToken | undefined> {
  const [payload, mac] = raw.split(".");
  if (!payload || !mac) return undefined;
  const expected = base64url(await hmac("SHA-256", await keyFor(secret), payload));
  if (!constantTimeEqual(mac, expected)) return undefined;
  try {
    const token = JSON.parse(new TextDecoder().decode(base64urlDecode(payload))) as TrackingToken;
    const shaped = token.k === "o" || token.k === "u" || (token.k === "c" && typeof token.u === "string");
    return shaped && token.t && token.c ? token : undefined;
  } catch {
    return undefined;
  }
}

// No whitespace inside a link: a URL with a line break in it is not one we will redirect to.
const LINK = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"'\s]+)\2/gi;
const unescapeAttr = (s: string) => s.replace(/&amp;/g, "&");

/** Rewrites every http(s) link through the click redirect and appends the open pixel. */
export async function addTracking(html: string, o: { secret: string; publicUrl: string; tenantId: string; communicationId: string }): Promise<string> {
  const tokens = new Map<string, string>();
  for (const match of html.matchAll(LINK)) {
    const url = unescapeAttr(match[3]!);
    if (!tokens.has(url) && URL.canParse(url)) tokens.set(url, await signToken(o.secret, { k: "c", t: o.tenantId, c: o.communicationId, u: url }));
  }
  // Links that are not URLs stay as they were, untracked.
  const linked = html.replace(LINK, (whole: string, before: string, quote: string, href: string) => {
    const token = tokens.get(unescapeAttr(href));
    return token ? `${before}${quote}${o.publicUrl}/t/c/${token}${quote}` : whole;
  });
  const pixel = `<img src="${o.publicUrl}/t/o/${await signToken(o.secret, { k: "o", t: o.tenantId, c: o.communicationId })}" width="1" height="1" alt="" style="display:none">`;
  return /<\/body>/i.test(linked) ? linked.replace(/<\/body>/i, `${pixel}</body>`) : linked + pixel;
}
