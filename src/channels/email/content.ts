/**
 * Email body helpers: deciding whether content is HTML, and the text/plain alternative derived
 * from an HTML body. That alternative is the text a person sees in the HTML: what is never shown
 * (comments, head, style, script, template, noscript) goes, whitespace collapses as a browser
 * collapses it, blocks and `<br>` become line breaks, a link keeps its address after its label,
 * no tag survives, and every character reference is decoded once (./entities.ts). The HTML is
 * read by the runtime's own streaming parser (HTMLRewriter, lol-html), which tokenises as a
 * browser does: a `>` inside a quoted attribute, a `<` in a script, a comment or an unclosed tag
 * at the end are handled by the HTML grammar, in one linear pass, not by regexes.
 */
import { decodeEntities } from "./entities";

export const looksLikeHtml = (content: string) => /<(html|body|p|div|br|table|a|span|h[1-6]|strong|em|ul|ol|li|img)\b[^>]*>/i.test(content);

const HIDDEN = new Set(["style", "script", "head", "title", "template", "noscript", "xml"]);
const BLOCK = new Set(
  "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd tr table thead tbody tfoot blockquote pre section article header footer nav aside main figure figcaption address hr center form fieldset legend".split(" "),
);
// No end tag to wait for (an end-tag handler cannot be set on these).
const VOID = new Set("area base br col embed hr img input link meta param source track wbr".split(" "));

/** The text/plain alternative of an HTML body (see above). */
export async function htmlToText(html: string): Promise<string> {
  let out = "";
  // Inside an element that is never shown (nested ones count too).
  let hidden = 0;
  const endOf = (e: Element, then: () => void) => {
    if (!VOID.has(e.tagName)) e.onEndTag(then);
  };
  const parsed = new HTMLRewriter()
    .on("*", {
      element(e) {
        const name = e.tagName;
        if (HIDDEN.has(name)) {
          hidden++;
          endOf(e, () => hidden--);
          return;
        }
        if (hidden) return;
        if (name === "br") out += "\n";
        else if (BLOCK.has(name)) {
          out += "\n";
          endOf(e, () => (out += hidden ? "" : "\n"));
        } else if (name === "td" || name === "th") endOf(e, () => (out += hidden ? "" : " "));
        else if (name === "a") {
          const href = (e.getAttribute("href") ?? "").trim();
          const start = out.length;
          endOf(e, () => (out += hidden ? "" : linkSuffix(href, out.slice(start))));
        }
      },
    })
    .onDocument({
      // Text arrives as written (references not yet decoded), in pieces; comments never come here.
      text(t) {
        if (!hidden) out += collapse(t.text);
      },
    })
    .transform(new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } }))
    .arrayBuffer();
  try {
    await parsed;
  } catch (error) {
    // The parser keeps a stack of open elements and refuses past its memory limit (some 15,000
    // unclosed tags, never a real email): such a body goes without a text part, not without a send.
    if (error instanceof TypeError && /memory limit/i.test(error.message)) return "";
    throw error;
  }
  return decodeEntities(out)
    .replace(/\u00a0/g, " ")
    .replace(/ *\n */g, "\n")
    .replace(/ {2,}/g, " ")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** HTML collapses runs of its whitespace to one space. */
const collapse = (text: string) => text.replace(/[ \t\n\r\f]+/g, " ");

/** " (address)" after a link's label, unless the label already is the address or it has none. */
function linkSuffix(href: string, label: string): string {
  if (!href || href.startsWith("#")) return "";
  const address = decodeEntities(href);
  const shown = decodeEntities(label).trim();
  return shown === address || shown === address.replace(/^mailto:/i, "") ? "" : ` (${href})`;
}
