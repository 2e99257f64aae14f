/**
 * The few Herald API calls the bench makes besides the load itself: create a tenant, give it the
 * sandbox email provider (which marks a message delivered without any network), queue a backlog
 * with one batch request, and read the tenant's communication counts the way a client would.
 */

const SEND = {
  channel: "email",
  recipientContact: "a@b.test",
  subject: "Invoice",
  content: "Hello, your invoice INV-2026-0042 for 120.00 EUR is ready. It is due in 30 days. Thank you for your business.",
};
/** A valid send; every request with this body creates a new communication (no Idempotency-Key). */
export const SEND_BODY = JSON.stringify(SEND);

/** One API call with a bearer token; throws with the status and body on anything but 2xx. */
export async function call(url, token, method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

/**
 * A fresh tenant with a sandbox email provider; returns what the load and the polling need. Its
 * API rate limit is raised far above what the load can reach: every request still takes its token
 * from the tenant's limiter (the cost measured), but none is refused.
 */
export async function createSandboxTenant(url, adminToken, name) {
  const { tenant, apiKey } = await call(url, adminToken, "POST", "/admin/tenants", { name });
  await call(url, adminToken, "PATCH", `/admin/tenants/${tenant.id}`, { rateLimit: { perSecond: 100_000, burst: 1_000_000 } });
  await call(url, apiKey, "POST", "/api/providers", { channel: "email", provider: "sandbox" });
  return { tenantId: tenant.id, apiKey };
}

/** Accepts `count` sends in one POST /api/communications/batch; returns how many were accepted. */
export async function sendBatch(url, apiKey, count) {
  const { accepted, rejected } = await call(url, apiKey, "POST", "/api/communications/batch", { items: Array.from({ length: count }, () => SEND) });
  if (rejected) throw new Error(`the batch rejected ${rejected} of ${count} valid sends`);
  return accepted;
}

/** The tenant's communication count, all statuses or one. */
export async function countCommunications(url, apiKey, status) {
  const query = status ? `?status=${status}&size=1` : "?size=1";
  const { count } = await call(url, apiKey, "GET", `/api/communications${query}`);
  return count;
}
