/**
 * A fetch for the client tests that holds every successful answer of a documented route to the
 * response schema /openapi.json shows for it (src/api/openapi/responses.ts), by parsing it with
 * that zod schema: a missing field, a wrong type or a null where none is documented fails the
 * call. (Extra fields are caught against the JSON Schema by test/docs/client-package.test.ts.)
 */
import { RESPONSE_SCHEMAS, type ResponseName } from "../src/api/responses";
import { ROUTE_RESPONSES } from "../src/api/openapi/responses";
import { ROUTES as CATALOG } from "../src/api/openapi/document";

type Fetch = (input: string, init: RequestInit) => Promise<Response>;

// Every catalogued route, literal segments before parameters as the app matches them:
// `/api/communications/stats` is not `/api/communications/:id`.
const ROUTES = CATALOG.map((r) => ({
  method: r.method,
  name: ROUTE_RESPONSES[`${r.method} ${r.path}`],
  params: (r.path.match(/:/g) ?? []).length,
  pattern: new RegExp(`^${r.path.replace(/:\w+/g, "[^/]+")}$`),
})).sort((a, b) => a.params - b.params);

export function documentedFetch(inner: Fetch) {
  const checked = new Set<ResponseName>();
  const fetch: Fetch = async (input, init) => {
    const res = await inner(input, init);
    const path = new URL(input).pathname;
    const route = ROUTES.find((r) => r.method === (init.method ?? "GET") && r.pattern.test(path));
    if (!route?.name || !res.ok || res.status === 204) return res;
    const result = RESPONSE_SCHEMAS[route.name].safeParse(await res.clone().json());
    if (!result.success) throw new Error(`${init.method} ${path} does not match the documented ${route.name}: ${JSON.stringify(result.error.issues)}`);
    checked.add(route.name);
    return res;
  };
  return { fetch, checked };
}
