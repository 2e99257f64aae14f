/**
 * Delivery on the `in_app` channel: no provider, the recipient's inbox object stores the item and
 * pushes it to their devices. Stored is delivered. Optional `metadata.actionUrl` and
 * `metadata.data` become the item's action link and payload; `metadata.inbox` its buttons and
 * avatar (src/inbox/item-extras.ts).
 */
import type { CommunicationRow } from "../db/communications";
import { inboxStub, type Inbox } from "../durable/inbox";
import { inboxExtrasOf } from "../inbox/item-extras";

export async function deliverToInbox(ns: DurableObjectNamespace<Inbox>, c: CommunicationRow, retentionDays?: number | null) {
  const slash = c.recipientContact.indexOf("/");
  const stub = inboxStub(ns, c.tenantId, c.recipientContact.slice(0, slash), c.recipientContact.slice(slash + 1));
  const meta = c.metadata ?? {};
  const extras = inboxExtrasOf(meta);
  return stub.deliver(c.tenantId, {
    id: c.id,
    title: c.subject,
    body: c.content,
    actionUrl: typeof meta.actionUrl === "string" ? meta.actionUrl : null,
    category: c.type,
    data: meta.data ?? null,
    actions: extras.actions ?? [],
    avatarUrl: extras.avatarUrl ?? null,
    createdAt: c.createdAt.getTime(),
  }, retentionDays);
}
