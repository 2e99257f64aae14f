/**
 * Decoding HTML character references in text, as a browser does (WHATWG HTML §13.2.5.72–80) for
 * the references that occur in email: every numeric form (decimal and hex, with or without the
 * semicolon, invalid code points as U+FFFD and C1 codes read as windows-1252, like browsers) and a
 * compact table of named ones: all of HTML 4 Latin-1 (U+00A0–U+00FF) plus the punctuation,
 * currency and arrows templates use. Names outside the table are left as written, as browsers do
 * with unknown names. A single pass, so `&amp;lt;` reads `&lt;`, never `<`.
 */

/** U+00A0–U+00FF in order; these (with amp, lt, gt, quot) also decode without a semicolon. */
const LATIN1 = (
  "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot " +
  "cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml " +
  "Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig " +
  "agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute " +
  "ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml"
).split(" ");

const OTHERS: Record<string, number> = {
  amp: 38, lt: 60, gt: 62, quot: 34, apos: 39, AMP: 38, LT: 60, GT: 62, QUOT: 34, COPY: 169, REG: 174,
  OElig: 338, oelig: 339, Scaron: 352, scaron: 353, Yuml: 376, fnof: 402, circ: 710, tilde: 732,
  ensp: 8194, emsp: 8195, thinsp: 8201, zwnj: 8204, zwj: 8205, lrm: 8206, rlm: 8207, ndash: 8211, mdash: 8212,
  lsquo: 8216, rsquo: 8217, sbquo: 8218, ldquo: 8220, rdquo: 8221, bdquo: 8222, dagger: 8224, Dagger: 8225,
  bull: 8226, hellip: 8230, permil: 8240, prime: 8242, Prime: 8243, lsaquo: 8249, rsaquo: 8250, oline: 8254,
  frasl: 8260, euro: 8364, trade: 8482, larr: 8592, uarr: 8593, rarr: 8594, darr: 8595, harr: 8596,
  minus: 8722, infin: 8734, asymp: 8776, ne: 8800, le: 8804, ge: 8805, loz: 9674, spades: 9824, clubs: 9827,
  hearts: 9829, diams: 9830, check: 10003, star: 9734, starf: 9733, phone: 9742, female: 9792, male: 9794,
  Alpha: 913, Beta: 914, Gamma: 915, Delta: 916, Omega: 937, alpha: 945, beta: 946, gamma: 947, delta: 948,
  epsilon: 949, lambda: 955, mu: 956, pi: 960, sigma: 963, omega: 969,
};

export const NAMED: ReadonlyMap<string, string> = new Map([
  ...LATIN1.map((name, i) => [name, String.fromCodePoint(0xa0 + i)] as const),
  ...Object.entries(OTHERS).map(([name, cp]) => [name, String.fromCodePoint(cp)] as const),
]);

/** The names a browser also decodes without a semicolon (the HTML 4 legacy set). */
const LEGACY = new Set([...LATIN1, "amp", "lt", "gt", "quot", "AMP", "LT", "GT", "QUOT", "COPY", "REG"]);

/** WHATWG's numeric reference end state: C1 codes 0x80–0x9F name windows-1252 characters. */
const WINDOWS_1252: Record<number, number> = {
  0x80: 0x20ac, 0x82: 0x201a, 0x83: 0x0192, 0x84: 0x201e, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021, 0x88: 0x02c6,
  0x89: 0x2030, 0x8a: 0x0160, 0x8b: 0x2039, 0x8c: 0x0152, 0x8e: 0x017d, 0x91: 0x2018, 0x92: 0x2019, 0x93: 0x201c,
  0x94: 0x201d, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014, 0x98: 0x02dc, 0x99: 0x2122, 0x9a: 0x0161, 0x9b: 0x203a,
  0x9c: 0x0153, 0x9e: 0x017e, 0x9f: 0x0178,
};

function fromCodePoint(cp: number): string {
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return "\uFFFD";
  return String.fromCodePoint(WINDOWS_1252[cp] ?? cp);
}

/** Leading zeros are allowed in any number; past 8 digits it is out of range whatever follows. */
function number(digits: string, base: number) {
  const d = digits.replace(/^0+/, "");
  return d.length > 8 ? Infinity : Number.parseInt(d || "0", base);
}

const REFERENCE = /&(?:#([0-9]+)|#[xX]([0-9a-fA-F]+)|([A-Za-z][A-Za-z0-9]*))(;?)/g;

export function decodeEntities(text: string): string {
  return text.replace(REFERENCE, (whole, dec: string | undefined, hex: string | undefined, name: string | undefined, semi: string, at: number) => {
    if (dec !== undefined) return fromCodePoint(number(dec, 10));
    if (hex !== undefined) return fromCodePoint(number(hex, 16));
    const char = NAMED.get(name!);
    if (char === undefined) return whole;
    if (semi) return char;
    // Without its semicolon only a legacy name decodes, and not where it runs into a word or an
    // `=` (a query string such as `?a=1&copy=2` stays as written).
    const next = text[at + whole.length];
    return LEGACY.has(name!) && (next === undefined || !/[A-Za-z0-9=]/.test(next)) ? char : whole;
  });
}
