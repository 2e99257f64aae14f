import { describe, expect, it } from "vitest";
import { addTracking, verifyToken } from "./tracking-links";

const o = { secret: "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=", publicUrl: "https://herald.test", tenantId: "t1", communicationId: "c1" };
const CLICK = /https:\/\/herald\.test\/t\/c\/([A-Za-z0-9_.-]+)/g;
const PIXEL = /<img src="https:\/\/herald\.test\/t\/o\/[A-Za-z0-9_.-]+" width="1" height="1" alt="" style="display:none">/;

/** The tracked HTML with each click token replaced by the destination it signs, and the pixel by PIXEL. */
async function tracked(html: string) {
  const out = await addTracking(html, o);
  let readable = out.replace(PIXEL, "PIXEL");
  for (const [whole, token] of out.matchAll(CLICK)) {
    const t = await verifyToken(o.secret, token!);
    expect(t).toMatchObject({ k: "c", t: "t1", c: "c1" });
    readable = readable.replace(whole, `CLICK(${t!.u})`);
  }
  return readable;
}

describe("addTracking (HTMLRewriter)", () => {
  it("rewrites http(s) links however the href is quoted, and leaves the rest of the HTML as it was", async () => {
    expect(await tracked(`<html><body><p class=x>Hi &amp; bye</p><a href="https://a.test/x">A</a> <a href='http://b.test/'>B</a> <a href=https://c.test/c>C</a></body></html>`)).toBe(
      `<html><body><p class=x>Hi &amp; bye</p><a href="CLICK(https://a.test/x)">A</a> <a href="CLICK(http://b.test/)">B</a> <a href="CLICK(https://c.test/c)">C</a>PIXEL</body></html>`,
    );
  });

  it("signs the address the browser would open: character references in the attribute decoded once", async () => {
    expect(await tracked(`<a href="https://pay.test/i?id=42&amp;t=1&amp;amp;x">Pay</a>`)).toBe(`<a href="CLICK(https://pay.test/i?id=42&t=1&amp;x)">Pay</a>PIXEL`);
  });

  it("finds the href among other attributes, even after a quoted >", async () => {
    expect(await tracked(`<a title="a > b" data-x='"q"' HREF="https://a.test/" target=_blank>A</a>`)).toBe(
      `<a title="a > b" data-x='"q"' HREF="CLICK(https://a.test/)" target=_blank>A</a>PIXEL`,
    );
  });

  it("keeps nested markup inside a link", async () => {
    expect(await tracked(`<a href="https://a.test/"><b>Pay</b> <img src="x.png" alt="now"></a>`)).toBe(`<a href="CLICK(https://a.test/)"><b>Pay</b> <img src="x.png" alt="now"></a>PIXEL`);
  });

  it("leaves alone what is not an http(s) link: no href, mailto:, tel:, anchors, relative, spaces", async () => {
    const html = `<a name="top">x</a><a>y</a><a href="mailto:help@acme.test">m</a><a href="tel:+14155550123">t</a><a href="#top">#</a><a href="/relative">r</a><a href="https://a.test/has space">s</a><a href="javascript:alert(1)">j</a>`;
    expect(await tracked(html)).toBe(`${html}PIXEL`);
  });

  it("does not mistake a link inside a comment, a script or a style for one", async () => {
    const html = `<!-- <a href="https://a.test/">old</a> --><script>document.write('<a href="https://b.test/">b</a>')</script><style>a[href="https://c.test/"] { color: red }</style>`;
    expect(await tracked(html)).toBe(`${html}PIXEL`);
  });

  it("uses one token per destination, and puts the pixel before the first </body> (any case)", async () => {
    const out = await addTracking(`<BODY><a href="https://a.test/">1</a><a href="https://a.test/">2</a></BODY>`, o);
    const tokens = [...out.matchAll(CLICK)].map((m) => m[1]);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toBe(tokens[1]);
    expect(out).toMatch(new RegExp(`${PIXEL.source}</BODY>$`));
  });
});
