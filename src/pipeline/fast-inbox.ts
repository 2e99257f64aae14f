/**
 * In-app items go out at once. The queue's batching window (a second locally, up to five in
 * production) is most of an in-app message's latency, and an inbox needs no provider. So the API
 * Worker delivers in-app sends itself right after accepting them, off the response path. The
 * queue message still goes out; by the time it arrives the claim is taken, so it is a no-op, and
 * if this early attempt failed, that message delivers instead.
 */
import type { Env } from "../env";
import type { CommunicationRow } from "../db/communications";
import { deliveryDeps } from "./consume";
import { deliverBatch } from "./deliver-batch";
import { sendMessage } from "./queue-message";

export function deliverInAppNow(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }, rows: CommunicationRow[]) {
  const now = rows.filter((r) => r.channel === "in_app" && r.status === "queued");
  if (now.length === 0) return;
  const deps = deliveryDeps(env);
  // One batch, as the consumer would take them: one claim-and-load, one write.
  ctx.waitUntil(
    deliverBatch(deps, now.map((r) => sendMessage(r.tenantId, r.id))).then(
      (settled) => settled.forEach((s, i) => "error" in s && logFailure(now[i]!.id, s.error)),
      (error) => now.forEach((r) => logFailure(r.id, error)),
    ),
  );
}

const logFailure = (communicationId: string, error: unknown) =>
  console.error(JSON.stringify({ msg: "early in-app delivery failed; the queue will deliver it", communicationId, error: String(error) }));
