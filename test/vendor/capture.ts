/**
 * Captures outgoing HTTP requests at one boundary, the global `fetch`, for both sides of a vendor
 * cross-check: our adapters call `fetch` directly, and the vendor SDKs are switched from axios's
 * Node `http` adapter to its `fetch` adapter. Only the transport changes: the SDKs build their
 * URL, headers and serialised body before axios picks an adapter. Each request is read back
 * through the same `Request` parsing, and nothing leaves the process: every call is answered
 * with `respond()`.
 */
import { vi } from "vitest";

export type CapturedRequest = { method: string; url: URL; headers: Headers; body: string };

export function captureFetch(respond: () => Response) {
  const requests: CapturedRequest[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push({ method: request.method, url: new URL(request.url), headers: request.headers, body: await request.text() });
    return respond();
  });
  return {
    requests,
    /** The single request made since the last call; fails the test on zero or several. */
    take(): CapturedRequest {
      if (requests.length !== 1) throw new Error(`expected exactly one request, captured ${requests.length}`);
      return requests.pop()!;
    },
  };
}
