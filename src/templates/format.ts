/** Formatting settings for one render: the locale, and the currency the variables name (else USD). */
import type { FormatOptions } from "./helpers";

export function formatOptions(locale: string, variables: Record<string, unknown>): FormatOptions {
  const currency = typeof variables.currency === "string" && /^[A-Za-z]{3}$/.test(variables.currency) ? variables.currency : "USD";
  const timeZone = typeof variables.timeZone === "string" ? variables.timeZone : undefined;
  return { locale: Intl.NumberFormat.supportedLocalesOf([locale]).length ? locale : "en", currency, timeZone };
}
