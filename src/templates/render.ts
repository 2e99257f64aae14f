/**
 * Mustache rendering, pure and cached. `html` mode escapes variables; `text` mode (plain-text
 * email, SMS, WhatsApp) inserts them as they are, so nothing is double-escaped. Syntax errors are
 * reported with line and column; the variables a template needs are found from its parse tree,
 * so a send can be refused before a customer ever reads "Dear ,".
 */
import Mustache from "mustache";
import { applyHelper, HELPERS, LAMBDA_PREFIX, parseHelperArgs, rewriteHelpers, type FormatOptions, type Helper } from "./helpers";

export type Mode = "html" | "text";
type Token = [string, string, number, number, Token[]?, number?];

export type SyntaxProblem = { message: string; line: number; column: number };

/** Compiled forms, keyed by source. Isolate-wide: templates are immutable per version. */
const cache = new Map<string, { source: string; tokens: Token[] }>();
const CACHE_LIMIT = 1000;

/** A template that cannot be rendered for these variables: refused, never a crash. */
export class RenderError extends Error {}

/** Element visits one render may make: nested sections over arrays multiply fast. */
const MAX_ITEM_VISITS = 100_000;
/** Characters one rendered part may have. */
export const MAX_OUTPUT = 1_000_000;

function compile(template: string): { source: string; tokens: Token[] } {
  let compiled = cache.get(template);
  if (!compiled) {
    // The helper lambdas live under these names; a template may only reach them through helpers.
    if (/\{\{[^}]*__h_/.test(template)) throw new RenderError(`names starting with ${LAMBDA_PREFIX} are reserved at 0`);
    const source = rewriteHelpers(template);
    compiled = { source, tokens: Mustache.parse(source) as unknown as Token[] };
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(template, compiled);
  }
  return compiled;
}

function position(template: string, index: number) {
  const before = template.slice(0, index);
  const line = before.split("\n").length;
  return { line, column: index - before.lastIndexOf("\n") };
}

/** Parses a template; returns its syntax problem, if any, located in the text the author wrote. */
export function checkSyntax(template: string): SyntaxProblem | undefined {
  try {
    // Helper rewriting changes offsets, so errors are located against a parse of the original:
    // a helper call parses there as an ordinary (oddly named) variable.
    Mustache.parse(template);
    compile(template);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    const { line, column } = position(template, errorIndex(template, message));
    return { message: message.replace(/\s*at \d+\s*$/, ""), line, column };
  }
}

/**
 * Mustache reports unclosed sections and tags where the input ended; the author's mistake is at
 * the opening tag, so point there.
 */
function errorIndex(template: string, message: string): number {
  const section = /Unclosed section "([^"]+)"/.exec(message);
  if (section) {
    const name = section[1]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const opens = [...template.matchAll(new RegExp(`\\{\\{\\s*[#^]\\s*${name}\\s*\\}\\}`, "g"))];
    if (opens.length) return opens.at(-1)!.index!;
  }
  if (/Unclosed tag/.test(message)) return Math.max(0, template.lastIndexOf("{{"));
  const at = /at (\d+)\s*$/.exec(message);
  return at ? Number(at[1]) : 0;
}

const lookup = (view: Record<string, unknown>, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>((v, key) => (v !== null && typeof v === "object" && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined), view);

/**
 * The variables as the renderer sees them: objects without a prototype (so `{{constructor}}` or
 * `{{__defineGetter__}}` finds nothing, instead of a built-in mustache would call), and arrays
 * that count their element reads against the render's budget.
 */
function guard(value: unknown, budget: { left: number }): unknown {
  if (Array.isArray(value)) {
    const copy = value.map((v) => guard(v, budget));
    return new Proxy(copy, {
      get(target, prop, receiver) {
        if (typeof prop === "string" && /^\d+$/.test(prop) && --budget.left < 0) {
          throw new RenderError("the template repeats more than these variables allow; simplify its sections");
        }
        return Reflect.get(target, prop, receiver);
      },
    });
  }
  if (value !== null && typeof value === "object") {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) out[k] = guard(v, budget);
    return out;
  }
  return value;
}

const isBlank = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");

/**
 * Variables the template cannot render without: those used outside any section. Names inside a
 * section may resolve against the section's item, and a section itself is how a template says
 * "optional", so neither is required.
 */
export function requiredVariables(template: string): string[] {
  const required = new Set<string>();
  for (const token of compile(template).tokens) {
    const [kind, name] = token;
    if (kind === "name" || kind === "&") required.add(name);
    else if (kind === "#" && name.startsWith(LAMBDA_PREFIX)) required.add(parseHelperArgs(helperText(token)).path);
  }
  return [...required];
}

/** Every top-level name a template refers to, for checking against `availableVariables`. */
export function usedVariables(template: string): string[] {
  const used = new Set<string>();
  const walk = (tokens: Token[], depth: number) => {
    for (const token of tokens) {
      const [kind, name, , , children] = token;
      if (kind === "name" || kind === "&") {
        if (depth === 0) used.add(name.split(".")[0]!);
      } else if (kind === "#" || kind === "^") {
        if (name.startsWith(LAMBDA_PREFIX)) {
          if (depth === 0) used.add(parseHelperArgs(helperText(token)).path.split(".")[0]!);
        } else {
          if (depth === 0) used.add(name.split(".")[0]!);
          walk(children ?? [], depth + 1);
        }
      }
    }
  };
  walk(compile(template).tokens, 0);
  return [...used];
}

const helperText = (token: Token) => (token[4] ?? []).map((t) => (t[0] === "text" ? t[1] : "")).join("");

export function missingVariables(template: string, variables: Record<string, unknown>): string[] {
  return requiredVariables(template).filter((name) => isBlank(lookup(variables, name)));
}

const noEscape = (value: unknown) => String(value);

/**
 * The helper lambdas for one mode and format, built once: every render's view inherits them, so a
 * render allocates no closures. Mustache finds them through the prototype (it looks names up with
 * `in`).
 */
const helperViews = new Map<string, Record<string, unknown>>();
function helpersFor(mode: Mode, format: FormatOptions): Record<string, unknown> {
  const key = `${mode}|${format.locale}|${format.currency}|${format.timeZone ?? ""}`;
  let proto = helperViews.get(key);
  if (!proto) {
    const escape = mode === "html" ? Mustache.escape : noEscape;
    proto = Object.create(null) as Record<string, unknown>;
    for (const helper of HELPERS) {
      // Mustache calls a section's function to get the lambda, then the lambda with the raw text.
      const lambda = (text: string, renderInContext: (t: string) => string) => {
        const { path, arg } = parseHelperArgs(text);
        const raw = renderInContext(`{{&${path}}}`);
        return escape(applyHelper(helper as Helper, raw === "" ? undefined : raw, arg, format));
      };
      proto[LAMBDA_PREFIX + helper] = () => lambda;
    }
    if (helperViews.size > 200) helperViews.clear();
    helperViews.set(key, proto);
  }
  return proto;
}

/** Throws RenderError when the template cannot be rendered safely for these variables. */
export function render(template: string, variables: Record<string, unknown>, mode: Mode, format: FormatOptions): string {
  const { source } = compile(template);
  const view = Object.assign(Object.create(helpersFor(mode, format)) as Record<string, unknown>, guard(variables, { left: MAX_ITEM_VISITS }));
  let out: string;
  try {
    out = Mustache.render(source, view, {}, { escape: mode === "html" ? Mustache.escape : noEscape });
  } catch (error) {
    if (error instanceof RenderError) throw error;
    throw new RenderError(`the template could not be rendered: ${(error as Error).message}`);
  }
  if (out.length > MAX_OUTPUT) throw new RenderError(`the rendered text is over ${MAX_OUTPUT} characters`);
  return out;
}
