/** Locale fallback for template variants: `fr-CA` → `fr` → the default locale. */
export const DEFAULT_LOCALE = "en";

/** BCP 47-ish tags: language, optional script/region parts. */
export const LOCALE_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export function localeChain(requested: string | undefined): string[] {
  const chain: string[] = [];
  if (requested) {
    const parts = requested.split("-");
    for (let i = parts.length; i > 0; i--) chain.push(parts.slice(0, i).join("-"));
  }
  if (!chain.includes(DEFAULT_LOCALE)) chain.push(DEFAULT_LOCALE);
  return chain;
}
