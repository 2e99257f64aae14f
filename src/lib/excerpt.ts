/**
 * A short, inert excerpt of text someone else wrote: a tenant endpoint's answer, a provider's error
 * message. Those bodies end up in fields tenants read back (`lastError`, `errorMessage`, the
 * timeline) and in consoles that render them, so whatever a foreign server says is cut to a line:
 * no markup, no control or bidi characters, whitespace collapsed, at most `max` characters.
 */
export const EXCERPT_MAX = 200;

// C0/C1 controls and DEL, zero-width and bidi controls (which can make a line read backwards).
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function excerpt(text: string, max = EXCERPT_MAX): string {
  const plain = text
    .slice(0, max * 20)
    .replace(/<(script|style)\b[^>]*>[\s\S]*?(<\/\1\s*>|$)/gi, " ")
    .replace(/<!--[\s\S]*?(-->|$)/g, " ")
    // Tags and declarations, not every "<": `Acme <billing@acme.test>` keeps its address.
    .replace(/<\/?[a-z][a-z0-9-]*(\s[^>]*)?\/?(>|$)|<[!?][^>]*(>|$)/gi, " ")
    .replace(/[<>]/g, " ")
    .replace(INVISIBLE, " ")
    .replace(/\s+/g, " ")
    .trim();
  return plain.length > max ? `${plain.slice(0, max - 1).trimEnd()}…` : plain;
}

/** An excerpt of a response body, reading at most the first few kilobytes of it. */
export async function bodyExcerpt(res: Response, max = EXCERPT_MAX): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < max * 20) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return excerpt(text, max);
}
