/**
 * One message that takes several provider calls (Meta takes one medium per message; Telegram one
 * album per kind of file, and a caption of at most 1,024 characters), sent in order. Once a part
 * is out, a later failure is permanent: a retry or another provider would repeat what arrived.
 */
import type { SendOutcome } from "./types";

/** The first part's outcome names the send; a failure after it names the part that went out. */
export async function sendInParts<T>(parts: T[], sendOne: (part: T) => Promise<SendOutcome>): Promise<SendOutcome> {
  let first: SendOutcome | undefined;
  for (const [i, part] of parts.entries()) {
    const outcome = await sendOne(part);
    if (!outcome.ok && first?.ok) {
      return { ...outcome, failure: "permanent", reason: `part ${i + 1} of ${parts.length} failed after ${first.providerMessageId} was sent: ${outcome.reason}` };
    }
    if (!outcome.ok) return outcome;
    first ??= outcome;
  }
  if (!first) return { ok: false, failure: "permanent", reason: "nothing to send" };
  return first;
}
