import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { htmlToText } from "./content";
import { decodeEntities, NAMED } from "./entities";

describe("htmlToText", () => {
  it("reads as the page does: blocks on lines, links with their address, nothing hidden", async () => {
    const html = `<!doctype html><html><head><title>Invoice</title><style>p { color: red }</style></head>
      <body><!-- <p>draft</p> --><h1>Invoice&nbsp;#42</h1>
      <p>Dear   Ann,<br>your total is <b>&euro;10&#44;50</b> &mdash; due &#x2F;&#X32;&#48;.</p>
      <p><a href="https://pay.test/i?id=42&amp;t=1" title="a > b">Pay now</a> or <a href="mailto:help@acme.test">help@acme.test</a></p>
      <script>if (a < b) document.write("<p>x</p>")</script><table><tr><td>One</td><td>Two</td></tr></table></body></html>`;
    expect(await htmlToText(html)).toBe("Invoice #42\n\nDear Ann,\nyour total is €10,50 — due /20.\n\nPay now (https://pay.test/i?id=42&t=1) or help@acme.test\n\nOne Two");
  });

  it("decodes every reference once, and leaves unknown names and stray < as a person would read them", async () => {
    expect(await htmlToText("<p>&amp;lt; &lt;b&gt; &copy; &COPY; &#169; &#xA9; &#0; &#x110000; &#128; &unknown; a < b</p>")).toBe("&lt; <b> © © © © \uFFFD \uFFFD € &unknown; a < b");
    expect(decodeEntities("?a=1&copy=2 &copy2 &copy.")).toBe("?a=1&copy=2 &copy2 ©.");
  });

  it("reads a hostile body in one pass: unclosed quotes and tags do not backtrack", async () => {
    expect(await htmlToText(`ok <a x="${'<b y="'.repeat(20_000)}`)).toBe("ok");
    expect(await htmlToText("<p>".repeat(10_000) + "end")).toBe("end");
    // Past the parser's open-element limit the body has no text alternative, and nothing throws.
    expect(await htmlToText("<p>".repeat(30_000) + "end")).toBe("");
  });

  it("drops script, style and head content, keeps nested markup's text, and a link's address once", async () => {
    expect(await htmlToText(`<head><title>T</title></head><p>a<script>x = "<p>no</p>"</script><style>p{}</style>b</p>`)).toBe("ab");
    expect(await htmlToText(`<p><a href="https://a.test/x?y=1&amp;z=2"><b>Pay</b> <i>now</i></a> · <a href="mailto:ann@acme.test">ann@acme.test</a> · <a>none</a> · <a href="#top">top</a></p>`)).toBe(
      "Pay now (https://a.test/x?y=1&z=2) · ann@acme.test · none · top",
    );
    expect(await htmlToText(`<a title='say "hi" > there' href='https://a.test/'>A</a><br>B<br/>C`)).toBe("A (https://a.test/)\nB\nC");
  });

  it("leaves no markup and no reference from any escaped text in any markup (property)", async () => {
    const named = new Map([...NAMED].map(([name, ch]) => [ch, name]));
    // Any code point but NUL, C1 controls (their references mean windows-1252) and lone surrogates.
    const codePoint = fc.integer({ min: 1, max: 0x10ffff }).filter((cp) => !(cp >= 0x80 && cp <= 0x9f) && !(cp >= 0xd800 && cp <= 0xdfff));
    const escaped = fc.tuple(codePoint, fc.nat(3)).map(([cp, how]) => {
      const ch = String.fromCodePoint(cp);
      const name = named.get(ch);
      if (how === 0 && name) return { ch, html: `&${name};` };
      if (how === 1) return { ch, html: `&#${cp};` };
      if (how === 2) return { ch, html: `&#x${cp.toString(16)};` };
      return { ch, html: ch === "&" ? "&amp;" : ch === "<" ? "&lt;" : ch === ">" ? "&gt;" : ch };
    });
    const segment = fc.tuple(
      fc.array(escaped, { maxLength: 12 }),
      fc.constantFrom("p", "div", "b", "span", "li", "td", "h2", "em", "font"),
      fc.constantFrom("", ' class="x"', ` title='a > "b"'`, " data-x=1", ' style="color:red"'),
      fc.boolean(),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { maxLength: 8 }), async (segments) => {
        const html = segments.map(([chars, tag, attrs, comment]) => `${comment ? "<!-- <p>no</p> -->" : ""}<${tag}${attrs}>${chars.map((c) => c.html).join("")}</${tag}>`).join(" ");
        const text = segments.map(([chars]) => chars.map((c) => c.ch).join("")).join(" ");
        const norm = (s: string) => s.replace(/\s+/g, " ").trim();
        expect(norm(await htmlToText(html))).toBe(norm(text));
      }),
      { numRuns: 300 },
    );
  });
});
