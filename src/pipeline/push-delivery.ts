/**
 * Delivery on the `push` channel: the recipient's registered devices, each reached through the
 * tenant's push providers that serve its transport (FCM tokens, APNs tokens, Web Push
 * subscriptions) in priority order, with the usual failover classes. One timeline attempt per
 * device and provider call, naming the device. A device the push service calls dead is removed.
 *
 * Push services give no delivery receipt, so `sent` (any device accepted) is final. With no device
 * accepted, only retryable failures bring the message back with back-off; a message that comes
 * back (a throttle wait, a retry) skips the devices its timeline shows accepted it already.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { PROVIDERS } from "../channels/registry";
import type { OutboundMessage, SendOutcome } from "../channels/types";
import { pushExtrasOf } from "../channels/push/message";
import type { CommunicationEventRow, CommunicationRow } from "../db/communications";
import { deleteDevices, type DeviceRow } from "../db/devices";
import type { ProviderConfigRow } from "../db/providers";
import type { CommunicationStatus } from "../domain";
import type { DeliveryDeps } from "./deliver";
import { retrying, type Recorded } from "./recorded";
import { retryDelaySeconds } from "./retry-policy";
import type { Transition } from "./transitions";
import { duplicateRisk } from "./possible-duplicate";

export const NO_DEVICES = "recipient has no registered push devices";

/** What deliver.ts lends the push path: its timeline, its bookkeeping and its provider call. */
export type PushRecorder = {
  event(e: Partial<CommunicationEventRow> & Pick<CommunicationEventRow, "kind">): void;
  transition(status: CommunicationStatus, at: Date, extra?: Partial<Transition>): Transition;
  finish(patch: Partial<CommunicationRow>, transitions: Transition[], extra?: BatchItem<"sqlite">[]): Recorded;
  defer(config: ProviderConfigRow, waitMs: number): Recorded;
  attempt(config: ProviderConfigRow, message: OutboundMessage): Promise<SendOutcome>;
  outbound(config: ProviderConfigRow): OutboundMessage;
};

type Failure = Extract<SendOutcome, { ok: false }>;
type Accepted = { providerConfigId: string | null; provider: string | null; providerMessageId: string };

/** What the batch loaded for a push communication (src/pipeline/batch-context.ts). */
export type PushContext = { devices: DeviceRow[]; accepted: (Accepted & { deviceId: string })[] };

const serves = (config: ProviderConfigRow, device: DeviceRow) => {
  const transport = PROVIDERS[config.provider].transport;
  return !transport || transport === device.transport;
};

export async function deliverPush(deps: DeliveryDeps, claimed: CommunicationRow, configs: ProviderConfigRow[], loaded: PushContext, rec: PushRecorder): Promise<Recorded> {
  const { devices, accepted: before } = loaded;
  const accepted: Accepted[] = before.map(({ deviceId: _, ...a }) => a);
  const done = new Set(before.map((a) => a.deviceId));
  const pending = devices.filter((d) => !done.has(d.id));
  if (devices.length === 0 && accepted.length === 0) return failed(rec, deps.now(), NO_DEVICES);
  if (configs.length === 0 && accepted.length === 0) return failed(rec, deps.now(), `no provider is configured for channel "push"`);

  const extras = pushExtrasOf(claimed.metadata);
  const urgent = claimed.priority === "high" || claimed.priority === "urgent";
  const dead: DeviceRow[] = [];
  const failures: Failure[] = [];
  for (const device of pending) {
    const serving = configs.filter((c) => serves(c, device));
    if (serving.length === 0) {
      const reason = `no enabled push provider reaches ${device.transport} devices`;
      failures.push({ ok: false, failure: "permanent", reason });
      rec.event({ kind: "note", error: reason, detail: { deviceId: device.id, platform: device.platform } });
      continue;
    }
    for (const [index, config] of serving.entries()) {
      const waitMs = await deps.throttle.take(config, `${claimed.id}:${device.id}`);
      // What went out so far is on the timeline the deferral records, so it is not sent twice.
      if (waitMs > 0) return rec.defer(config, waitMs);
      const started = Date.now();
      const message = { ...rec.outbound(config), to: device.address, push: { device, extras, urgent } };
      const outcome = await rec.attempt(config, message);
      const detail = { deviceId: device.id, platform: device.platform };
      rec.event({
        kind: "attempt",
        provider: config.provider,
        providerConfigId: config.id,
        httpStatus: outcome.httpStatus ?? null,
        error: outcome.ok ? null : outcome.reason,
        latencyMs: Date.now() - started,
        detail: outcome.ok ? { ...detail, providerMessageId: outcome.providerMessageId } : { ...detail, failure: outcome.failure, ...(outcome.deadDevice ? { deadDevice: true } : {}) },
      });
      if (outcome.ok) {
        accepted.push({ provider: config.provider, providerConfigId: config.id, providerMessageId: outcome.providerMessageId });
        break;
      }
      if (outcome.httpStatus === 429) await deps.throttle.slowDown(config, outcome.retryAfterSeconds);
      failures.push(outcome);
      if (outcome.deadDevice) {
        dead.push(device);
        rec.event({ kind: "note", provider: config.provider, providerConfigId: config.id, error: `device removed: ${outcome.reason}`, detail: { ...detail, removed: true } });
        break;
      }
      if (outcome.failure === "permanent") break;
      const next = serving[index + 1];
      if (next) rec.event({ kind: "failover", provider: next.provider, providerConfigId: next.id, error: `failing over from ${config.provider}: ${outcome.reason}`, detail: { ...detail, ...duplicateRisk(outcome, config) } });
    }
  }

  const removals = dead.length ? [deleteDevices(deps.db, claimed.tenantId, dead.map((d) => d.id))] : [];
  const first = accepted[0];
  if (first) {
    const at = deps.now();
    rec.event({ kind: "status", status: "sent", provider: first.provider, providerConfigId: first.providerConfigId, detail: { devices: accepted.length, of: devices.length } });
    const latency = at.getTime() - (claimed.scheduledAt ?? claimed.createdAt).getTime();
    return rec.finish(
      {
        status: "sent",
        sentAt: at,
        provider: first.provider,
        providerConfigId: first.providerConfigId,
        providerMessageId: first.providerMessageId,
        providerResponse: { devices: accepted.length, of: devices.length, attempt: claimed.retryCount + 1 },
        errorMessage: null,
        updatedAt: at,
      },
      [rec.transition("sent", at, { sendLatencyMs: latency })],
      removals,
    );
  }

  const last = failures.at(-1);
  const retryable = failures.some((f) => f.failure === "retryable");
  if (retryable && claimed.retryCount < claimed.maxRetries) {
    const retry = claimed.retryCount + 1;
    const delaySeconds = retryDelaySeconds(retry, Math.max(...failures.map((f) => f.retryAfterSeconds ?? 0)));
    const at = deps.now();
    const reason = failures.find((f) => f.failure === "retryable")!.reason;
    rec.event({ kind: "retry", status: "queued", error: reason, detail: { retry, of: claimed.maxRetries, delaySeconds } });
    return retrying(rec.finish({ status: "queued", retryCount: retry, nextRetryAt: new Date(at.getTime() + delaySeconds * 1000), enqueuedAt: at, errorMessage: reason, updatedAt: at }, [], removals), delaySeconds);
  }
  const reason =
    dead.length === pending.length && dead.length > 0
      ? `every registered push device was gone (${dead.length} removed): ${last!.reason}`
      : retryable
        ? `gave up after ${claimed.retryCount + 1} attempts: ${last!.reason}`
        : (failures.find((f) => !f.deadDevice) ?? last)?.reason ?? NO_DEVICES;
  return failed(rec, deps.now(), reason, removals);
}

function failed(rec: PushRecorder, at: Date, reason: string, extra: BatchItem<"sqlite">[] = []): Recorded {
  rec.event({ kind: "status", status: "failed", error: reason });
  return rec.finish({ status: "failed", failedAt: at, errorMessage: reason, updatedAt: at }, [rec.transition("failed", at)], extra);
}
