/**
 * The seed's helper calls — `{{currency amount}}`, `{{currency amount "EUR"}}`, `{{date dueDate}}`,
 * `{{date dueDate "long"}}` — on top of mustache, which has no helpers. Before compiling, each call
 * is rewritten into a section lambda (`{{#__h_currency}}amount "EUR"{{/__h_currency}}`) that looks
 * the value up in the current context, so helpers work inside loops too. Formatting uses Intl in
 * the recipient's locale; nothing is evaluated as code.
 */
export const HELPERS = ["currency", "date", "datetime", "number", "uppercase", "lowercase"] as const;
export type Helper = (typeof HELPERS)[number];

const CALL = new RegExp(`\\{\\{\\s*(${HELPERS.join("|")})\\s+([A-Za-z_][\\w.]*)(?:\\s+"([^"]*)")?\\s*\\}\\}`, "g");
export const LAMBDA_PREFIX = "__h_";

export function rewriteHelpers(source: string): string {
  return source.replace(CALL, (_, helper: string, path: string, arg?: string) => {
    const inner = arg === undefined ? path : `${path} "${arg}"`;
    return `{{#${LAMBDA_PREFIX}${helper}}}${inner}{{/${LAMBDA_PREFIX}${helper}}}`;
  });
}

/** `amount "EUR"` → { path: "amount", arg: "EUR" } */
export function parseHelperArgs(text: string): { path: string; arg?: string } {
  const m = /^\s*([A-Za-z_][\w.]*)(?:\s+"([^"]*)")?\s*$/.exec(text);
  return m ? { path: m[1]!, arg: m[2] } : { path: text.trim() };
}

export type FormatOptions = { locale: string; currency: string; timeZone?: string };

const DATE_STYLES = ["full", "long", "medium", "short"] as const;
type DateStyle = (typeof DATE_STYLES)[number];
const dateStyle = (arg: string | undefined): DateStyle => (DATE_STYLES as readonly string[]).includes(arg ?? "") ? (arg as DateStyle) : "medium";

/**
 * Building an Intl formatter costs far more than using one, so formatters are kept per locale and
 * options. Isolate-wide on purpose: they are immutable, and the set of keys is small and bounded.
 */
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let f = formatters.get(key) as T | undefined;
  if (!f) {
    if (formatters.size > 500) formatters.clear();
    f = make();
    formatters.set(key, f);
  }
  return f;
}
const numberFormat = (key: string, locale: string, options: Intl.NumberFormatOptions) =>
  cached(`n|${locale}|${key}`, () => new Intl.NumberFormat(locale, options));
const dateFormat = (key: string, locale: string, options: Intl.DateTimeFormatOptions) =>
  cached(`d|${locale}|${key}`, () => new Intl.DateTimeFormat(locale, options));

/** Formats `value` with `helper`; a value that cannot be formatted is returned as given. */
export function applyHelper(helper: Helper, value: unknown, arg: string | undefined, o: FormatOptions): string {
  if (value === undefined || value === null) return "";
  const safe = (f: () => string) => {
    try {
      return f();
    } catch {
      return String(value);
    }
  };
  switch (helper) {
    case "currency": {
      const n = Number(value);
      if (!Number.isFinite(n)) return String(value);
      const currency = (arg ?? o.currency).toUpperCase();
      return safe(() => numberFormat(`c${currency}`, o.locale, { style: "currency", currency }).format(n));
    }
    case "number": {
      const n = Number(value);
      const digits = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : undefined;
      return Number.isFinite(n)
        ? safe(() => numberFormat(`f${digits ?? ""}`, o.locale, digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n))
        : String(value);
    }
    case "date":
    case "datetime": {
      const d = value instanceof Date ? value : new Date(typeof value === "number" ? value : String(value));
      if (Number.isNaN(d.getTime())) return String(value);
      const style = dateStyle(arg);
      return safe(() =>
        dateFormat(`${helper}|${style}|${o.timeZone ?? "UTC"}`, o.locale, {
          dateStyle: style,
          ...(helper === "datetime" ? { timeStyle: "short" } : {}),
          timeZone: o.timeZone ?? "UTC",
        }).format(d),
      );
    }
    case "uppercase":
      return String(value).toLocaleUpperCase(o.locale);
    case "lowercase":
      return String(value).toLocaleLowerCase(o.locale);
  }
}
