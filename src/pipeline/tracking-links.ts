/**
 * Herald's own open and click tracking. Links and the open pixel point at our edge with a token
 * that names the communication (and, for clicks, the destination) and carries an HMAC, so a token
 * cannot be forged, edited into an open redirect, or enumerated.
 */
import { signPayload, verifyPayload } from "../lib/signed-token";
import { decodeEntities } from "../channels/email/entities";

/** o: open pixel, c: click (with its destination), u: one-click unsubscribe. */
export type TrackingToken = { k: "o" | "c" | "u"; t: string; c: string; u?: string };

/** The purpose tracking tokens' key is derived for (src/lib/signed-token.ts). */
const PURPOSE = "herald tracking tokens v1";

export const signToken = (secret: string, token: TrackingToken): Promise<string> => signPayload(secret, PURPOSE, token);

export async function verifyToken(secret: string, raw: string): Promise<TrackingToken | undefined> {
  const token = (await verifyPayload(secret, PURPOSE, raw)) as TrackingToken | undefined;
  if (!token || typeof token !== "object") return undefined;
  const shaped = token.k === "o" || token.k === "u" || (token.k === "c" && typeof token.u === "string");
  return shaped && token.t && token.c ? token : undefined;
}

/** An address we redirect to: absolute http(s), nothing a browser would strip or split. */
const TRACKABLE = /^https?:\/\/[^\s"'<>]+$/i;

/**
 * Rewrites every http(s) link through the click redirect and appends the open pixel, with the
 * runtime's own HTML parser (HTMLRewriter, streaming) rather than regexes: an `href` is found
 * however it is quoted and wherever it sits among the attributes, a `>` inside another attribute
 * or an `<a` inside a comment or a script is not mistaken for a link, and the parser decodes the
 * attribute's character references (`&amp;`) before the address is signed. Links that are not
 * http(s) URLs (mailto:, tel:, #anchors, relative or malformed ones) stay as they were, untracked.
 */
export async function addTracking(html: string, o: { secret: string; publicUrl: string; tenantId: string; communicationId: string }): Promise<string> {
  // One token per destination, however often it is linked.
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (url: string) => {
    if (!tokens.has(url)) tokens.set(url, signToken(o.secret, { k: "c", t: o.tenantId, c: o.communicationId, u: url }));
    return tokens.get(url)!;
  };
  const pixel = `<img src="${o.publicUrl}/t/o/${await signToken(o.secret, { k: "o", t: o.tenantId, c: o.communicationId })}" width="1" height="1" alt="" style="display:none">`;
  let placed = false;
  const rewritten = await new HTMLRewriter()
    .on("a[href]", {
      async element(a) {
        const url = decodeEntities(a.getAttribute("href")!);
        if (TRACKABLE.test(url) && URL.canParse(url)) a.setAttribute("href", `${o.publicUrl}/t/c/${await tokenFor(url)}`);
      },
    })
    .on("body", {
      element(body) {
        // Before the first </body> only, as a mail client would read the pixel.
        body.onEndTag((end) => {
          if (placed) return;
          end.before(pixel, { html: true });
          placed = true;
        });
      },
    })
    .transform(new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } }))
    .text();
  return placed ? rewritten : rewritten + pixel;
}
