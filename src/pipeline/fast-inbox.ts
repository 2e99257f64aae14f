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
import { deliver } from "./deliver";
import { sendMessage } from "./queue-message";

export function deliverInAppNow(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }, rows: CommunicationRow[]) {
  const now = rows.filter((r) => r.channel === "in_app" && r.status === "queued");
  if (now.length === 0) return;
  const deps = deliveryDeps(env);
  ctx.waitUntil(
    Promise.all(
      now.map((r) =>
        deliver(deps, sendMessage(r.tenantId, r.id)).catch((error) =>
          console.error(JSON.stringify({ msg: "early in-app delivery failed; the queue will deliver it", communicationId: r.id, error: String(error) })),
        ),
      ),
    ),
  );
}
