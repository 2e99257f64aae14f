/**
 * One logical call to the API, however many attempts it takes: JSON in and out, the API key,
 * retries by the policy in retry.ts, and an Idempotency-Key generated once per call and sent on
 * every attempt of a POST, so the API replays a send it already accepted instead of sending twice.
 *
 * A POST is retried after a network error or a 5xx only where the API deduplicates by that key
 * (`dedupe: true`: sends, batches, events); other POSTs are retried on 429 only, which the API
 * answers before doing anything. GET, PUT, PATCH and DELETE are retried on all three.
 */
import { problemFrom } from "./problem.js";
import { backoffMs, exceedsCap, retryableStatus, retryPolicy, type RetryOptions, type RetryPolicy } from "./retry.js";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export type HeraldOptions = {
  /** Where Herald is served, e.g. `https://herald.example.com`. */
  baseUrl: string;
  /** A tenant API key (`hk_…`). */
  apiKey: string;
  /** Defaults to the global fetch; pass a Worker's service binding's, or a test's. */
  fetch?: FetchLike;
  /** Sent with every request, e.g. a `traceparent`. */
  headers?: Record<string, string>;
  /** Retry policy, or `false` for none. */
  retry?: RetryOptions | false;
};

/** Options every method takes last. */
export type CallOptions = {
  /** Your own key for this call (otherwise one is generated per call for POSTs). */
  idempotencyKey?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
};

export type Query = Record<string, string | number | boolean | null | undefined>;

export type Call = CallOptions & {
  query?: Query;
  body?: unknown;
  /** Raw body with its content type (CSV imports), instead of JSON. */
  raw?: { body: string; contentType: string };
  /** The API deduplicates this POST by Idempotency-Key, so it is safe to resend after a failure. */
  dedupe?: boolean;
};

export class Transport {
  readonly #base: string;
  readonly #fetch: FetchLike;
  readonly #headers: Record<string, string>;
  readonly #retry: RetryPolicy;

  constructor(options: HeraldOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#headers = { ...options.headers, authorization: `Bearer ${options.apiKey}` };
    this.#retry = retryPolicy(options.retry);
  }

  async request<T>(method: string, path: string, call: Call = {}): Promise<T> {
    const url = `${this.#base}${path}${queryString(call.query)}`;
    const headers: Record<string, string> = { accept: "application/json", ...this.#headers, ...call.headers };
    if (method === "POST") headers["idempotency-key"] = call.idempotencyKey ?? crypto.randomUUID();
    let body: string | undefined;
    if (call.raw) {
      headers["content-type"] = call.raw.contentType;
      body = call.raw.body;
    } else if (call.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(call.body);
    }
    const resendable = method !== "POST" || call.dedupe === true;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.#retry.retries;
      let res: Response;
      try {
        res = await this.#fetch(url, { method, headers, body, signal: call.signal });
      } catch (error) {
        if (last || !resendable || call.signal?.aborted) throw error;
        await this.#retry.sleep(backoffMs(this.#retry, attempt + 1, null), call.signal);
        continue;
      }
      if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
      const problem = await problemFrom(res);
      const retryable = retryableStatus(res.status) && (resendable || res.status === 429);
      if (last || !retryable || exceedsCap(this.#retry, problem.retryAfterSeconds)) throw problem;
      await this.#retry.sleep(backoffMs(this.#retry, attempt + 1, problem.retryAfterSeconds), call.signal);
    }
  }
}

function queryString(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}

/** A path segment from a caller's value: ids and contacts may hold `/`, `+` or `@`. */
export const seg = (value: string | number) => encodeURIComponent(String(value));
