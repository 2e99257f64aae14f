import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { htmlToText } from "./content";
import { decodeEntities, NAMED } from "./entities";

describe("htmlToText", () => {
  it("reads as the page does: blocks on lines, links with their address, nothing hidden", () => {
    const html = `<!doctype html><html><head><title>Invoice</title><style>p { color: red }</style></head>
      <body><!-- <p>draft</p> --><h1>Invoice&nbsp;#42</h1>
      <p>Dear   Ann,<br>your total is <b>&euro;10&#44;50</b> &mdash; due &#x2F;&#X32;&#48;.</p>
      <p><a href="https://pay.test/i?id=42&amp;t=1" title="a > b">Pay now</a> or <a href="mailto:help@acme.test">help@acme.test</a></p>
      <script>if (a < b) document.write("<p>x</p>")</script><table><tr><td>One</td><td>Two</td></tr></table></body></html>`;
    expect(htmlToText(html)).toBe("Invoice #42\n\nDear Ann,\nyour total is €10,50 — due /20.\n\nPay now (https://pay.test/i?id=42&t=1) or help@acme.test\n\nOne Two");
  });

  it("decodes every reference once, and leaves unknown names and stray < as a person would read them", () => {
    expect(htmlToText("<p>&amp;lt; &lt;b&gt; &copy; &COPY; &#169; &#xA9; &#0; &#x110000; &#128; &unknown; a < b</p>")).toBe("&lt; <b> © © © © \uFFFD \uFFFD € &unknown; a < b");
    expect(decodeEntities("?a=1&copy=2 &copy2 &copy.")).toBe("?a=1&copy=2 &copy2 ©.");
  });

  it("reads a hostile body in one pass: unclosed quotes and tags do not backtrack", () => {
    expect(htmlToText(`ok <a x="${'<b y="'.repeat(20_000)}`)).toBe("ok");
    expect(htmlToText("<p>".repeat(30_000) + "end")).toBe("end");
  });

  it("leaves no markup and no reference from any escaped text in any markup (property)", () => {
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
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const html = segments.map(([chars, tag, attrs, comment]) => `${comment ? "<!-- <p>no</p> -->" : ""}<${tag}${attrs}>${chars.map((c) => c.html).join("")}</${tag}>`).join(" ");
        const text = segments.map(([chars]) => chars.map((c) => c.ch).join("")).join(" ");
        const norm = (s: string) => s.replace(/\s+/g, " ").trim();
        expect(norm(htmlToText(html))).toBe(norm(text));
      }),
      { numRuns: 300 },
    );
  });
});
