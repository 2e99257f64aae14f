/**
 * Email body helpers: deciding whether content is HTML, and the text/plain alternative derived
 * from an HTML body. That alternative is the text a person sees in the HTML: what is never shown
 * (comments, head, style, script, template, noscript) goes, whitespace collapses as a browser
 * collapses it, blocks and `<br>` become line breaks, a link keeps its address after its label,
 * no tag survives, and every character reference is decoded once (./entities.ts). One linear
 * scan: a tag is read to its closing `>` with quoted attribute values skipped, so a `>` inside a
 * quote does not end it, and no regex backtracks over a hostile 100 KB body.
 */
import { decodeEntities } from "./entities";

export const looksLikeHtml = (content: string) => /<(html|body|p|div|br|table|a|span|h[1-6]|strong|em|ul|ol|li|img)\b[^>]*>/i.test(content);

const HIDDEN = new Set(["style", "script", "head", "title", "template", "noscript", "xml"]);
const BLOCK = new Set(
  "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd tr table thead tbody tfoot blockquote pre section article header footer nav aside main figure figcaption address hr center form fieldset legend".split(" "),
);
const HREF = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;

/** The index just past the `>` that closes the tag opened at `from`, skipping quoted values; -1 if none. */
function tagEnd(html: string, from: number): number {
  let quote = "";
  for (let i = from + 1; i < html.length; i++) {
    const ch = html[i]!;
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") {
      // Only a quote after `=` opens a value; elsewhere it is part of a name (`<a b"c>`).
      if (/=\s*$/.test(html.slice(Math.max(from, i - 8), i))) quote = ch;
    } else if (ch === ">") return i + 1;
  }
  return -1;
}

/** Skips past `end` from `from`, or to the end of the input when it never comes (as browsers do). */
const skipPast = (html: string, from: number, end: string) => {
  const at = html.indexOf(end, from);
  return at === -1 ? html.length : at + end.length;
};

export function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  let out = "";
  const links: { href: string; start: number }[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt === -1) {
      out += collapse(html.slice(i));
      break;
    }
    out += collapse(html.slice(i, lt));
    i = lt;
    if (html.startsWith("<!--", i)) {
      i = skipPast(html, i + 4, "-->");
      continue;
    }
    const next = html[i + 1] ?? "";
    if (next === "!" || next === "?") {
      i = skipPast(html, i + 2, ">");
      continue;
    }
    const closing = next === "/";
    const name = /^[A-Za-z][^\s/>]*/.exec(html.slice(i + (closing ? 2 : 1), i + 40))?.[0].toLowerCase();
    if (!name) {
      // Not a tag: a `<` a person reads as a `<`.
      out += "<";
      i += 1;
      continue;
    }
    const end = tagEnd(html, i);
    if (end === -1) break; // a tag cut off at the end of the input shows nothing
    const tag = html.slice(i, end);
    i = end;
    if (!closing && HIDDEN.has(name)) {
      // Everything up to the element's end tag is never shown (a script's `<` is not a tag).
      const close = lower.indexOf(`</${name}`, i);
      const e = close === -1 ? -1 : tagEnd(html, close);
      i = e === -1 ? html.length : e;
      continue;
    }
    if (name === "br") out += "\n";
    else if (BLOCK.has(name)) out += "\n";
    else if (closing && (name === "td" || name === "th")) out += " ";
    else if (name === "a" && !closing) {
      const m = HREF.exec(tag);
      links.push({ href: m ? (m[1] ?? m[2] ?? m[3] ?? "").trim() : "", start: out.length });
    } else if (name === "a" && closing) {
      const open = links.pop();
      if (open) out += linkSuffix(open.href, out.slice(open.start));
    }
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
