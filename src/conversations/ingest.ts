/** Placeholder replaced by the batch ingest in the next commit. */
import type { Env } from "../env";
import type { InboundMessage, ReceiveResult } from "./inbound";

export async function ingestInbound(_env: Env, _tenantId: string, _messages: InboundMessage[]): Promise<ReceiveResult[]> {
  throw new Error("receiveInbound is not implemented yet");
}
