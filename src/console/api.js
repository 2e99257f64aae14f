// The console's one way to the API: the tenant API key lives in sessionStorage (gone when the tab
// closes, never in a URL or localStorage) and goes out only as `Authorization: Bearer`.
const KEY = "herald.apiKey";

export const session = {
  get: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

/** A problem+json answer, with the field errors the API names. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `request failed (${status})`);
    this.status = status;
    this.errors = problem?.errors ?? [];
    this.requestId = problem?.requestId;
  }
}

/** Fires when the key stops working, so the app can ask for a new one. */
export const onUnauthorized = new EventTarget();

/** `body` is sent as JSON, or as it is when it is a Blob (a CSV file goes with its own type). */
export async function api(method, path, body, key = session.get()) {
  const headers = { authorization: `Bearer ${key}` };
  const raw = body instanceof Blob;
  if (body !== undefined) headers["content-type"] = raw ? body.type : "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined || raw ? body : JSON.stringify(body) });
  if (res.status === 204) return null;
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized.dispatchEvent(new Event("unauthorized"));
    throw new ApiError(res.status, json);
  }
  return json;
}

/** `?a=1&b=2` from an object, leaving out empty values. */
export const query = (params) => {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const s = q.toString();
  return s ? `?${s}` : "";
};

let openApiDoc;
/** The API's own OpenAPI document (public, fetched once): forms read enums from its schemas so they cannot drift. */
export const openApi = () => (openApiDoc ??= fetch("/openapi.json").then((r) => (r.ok ? r.json() : Promise.reject(new Error(`openapi.json answered ${r.status}`)))));
