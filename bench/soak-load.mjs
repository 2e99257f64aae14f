/**
 * The soak's load: `count` messages split over the tenants, alternating email and SMS, sent as
 * single sends (POST /api/communications/send) and batches of BATCH_SIZE (POST
 * /api/communications/batch) in turn, a few requests in flight. Each message carries a ref
 * (`[soak t1-42]`) in its content so the fault mocks can key their faults on it.
 *
 * Every request has an Idempotency-Key and is retried with it until it gets an answer: the stack is
 * killed and restarted mid-run, and a request cut off by the restart may or may not have been
 * stored. The replay answers with the same ids, so "accepted" is exact: a message counts once its
 * id is in an answer, and never twice.
 */
import { setTimeout as sleep } from "node:timers/promises";

export const BATCH_SIZE = 20;
const IN_FLIGHT = 6;
/** Tries per request before it is reported as refused; at 0.25–2 s apart, minutes of outage. */
const MAX_TRIES = 120;

/** The requests, deterministic for a count and a set of tenants. */
export function planLoad(count, tenants) {
  const requests = [];
  tenants.forEach((tenant, t) => {
    const share = Math.floor(count / tenants.length) + (t < count % tenants.length ? 1 : 0);
    // Half the messages each way: BATCH_SIZE single sends, then one batch of BATCH_SIZE, and so on.
    let i = 0;
    for (let r = 0; i < share; r++) {
      const single = r % (BATCH_SIZE + 1) < BATCH_SIZE;
      const size = single ? 1 : Math.min(BATCH_SIZE, share - i);
      const items = [];
      for (let k = 0; k < size; k++, i++) items.push(message(tenant, t, i));
      requests.push({ tenant, kind: single ? "single" : "batch", key: `soak-${tenant.name}-r${r}`, items });
    }
  });
  // Tenants interleaved, so both are under load at once.
  return requests.sort((a, b) => Number(a.key.split("-r")[1]) - Number(b.key.split("-r")[1]) || a.tenant.name.localeCompare(b.tenant.name));
}

function message(tenant, t, i) {
  const ref = `${tenant.name}-${i}`;
  const channel = i % 2 === 0 ? "email" : "sms";
  const body =
    channel === "email"
      ? { channel, recipientContact: `soak+${ref}@example.com`, subject: `Receipt ${i}`, content: `Your receipt #${i} is ready. [soak ${ref}]` }
      : { channel, recipientContact: `+1415${String(5_000_000 + t * 500_000 + i).padStart(7, "0")}`, content: `Code ${i} [soak ${ref}]` };
  return { ref, channel, body };
}

/**
 * Runs the plan against `stack.url` (read on each try: the stack restarts under it). Returns the
 * accepted messages ({ ref, id, tenant, channel, via }), the refused requests and how many tries
 * failed on the way. `onAccepted(n)` is told the running count after each answer.
 */
export async function runLoad(stack, requests, { onAccepted = () => {} } = {}) {
  const accepted = [];
  const refused = [];
  let failedTries = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < requests.length) {
        const request = requests[next++];
        const result = await sendWithRetry(stack, request, () => failedTries++);
        if (!result.ok) {
          refused.push({ key: request.key, refs: request.items.map((m) => m.ref), why: result.why });
          continue;
        }
        request.items.forEach((m, index) => {
          const id = result.ids[index];
          if (id) accepted.push({ ref: m.ref, id, tenant: request.tenant.name, tenantId: request.tenant.tenantId, channel: m.channel, via: request.kind });
          else refused.push({ key: request.key, refs: [m.ref], why: `item ${index} refused: ${JSON.stringify(result.errors[index])}` });
        });
        onAccepted(accepted.length);
      }
    }),
  );
  return { accepted, refused, failedTries };
}

/** One request, retried on no answer, 5xx and 429 with the same key; ids in item order. */
async function sendWithRetry(stack, request, countFailure) {
  const single = request.kind === "single";
  const path = single ? "/api/communications/send" : "/api/communications/batch";
  const body = JSON.stringify(single ? request.items[0].body : { items: request.items.map((m) => m.body) });
  let why = "";
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    try {
      const res = await fetch(`${stack.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${request.tenant.apiKey}`, "content-type": "application/json", "idempotency-key": request.key },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status === 201) {
        const json = JSON.parse(text);
        if (single) return { ok: true, ids: [json.id], errors: [] };
        const byIndex = new Map(json.results.map((r) => [r.index, r]));
        return {
          ok: true,
          ids: request.items.map((_, i) => byIndex.get(i)?.id ?? null),
          errors: request.items.map((_, i) => byIndex.get(i)?.error ?? null),
        };
      }
      why = `${res.status}: ${text.slice(0, 300)}`;
      if (res.status < 500 && res.status !== 429) return { ok: false, why };
    } catch (error) {
      why = String(error?.cause?.code ?? error?.message ?? error);
    }
    countFailure();
    await sleep(Math.min(2000, 250 * attempt));
  }
  return { ok: false, why: `no answer after ${MAX_TRIES} tries, last: ${why}` };
}
