/**
 * What an in-app item carries beyond title and body, from the send's `metadata.inbox` (validated
 * when the send is accepted, so a bad button is a 422 naming the field, not a broken inbox):
 * up to two action buttons, each opening a URL or sending a named event back to the tenant
 * (the `inbox.action` webhook), and an avatar image.
 */
import { z } from "zod";

const webUrl = z.url({ protocol: /^https?$/ }).max(2048);
const label = z.string().trim().min(1).max(40);

export const ItemAction = z.union([
  z.object({ label, url: webUrl }).strict(),
  z.object({ label, event: z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/, "must be a lowercase event name (a-z, 0-9, _ . : -)"), }).strict(),
]);
export type ItemAction = z.infer<typeof ItemAction>;

export const InboxExtras = z
  .object({
    /** The first is the primary button, the second the secondary one. */
    actions: z.array(ItemAction).max(2, "at most 2 actions").optional(),
    avatarUrl: webUrl.optional(),
  })
  .strict();
export type InboxExtras = z.infer<typeof InboxExtras>;

/** The extras of a stored communication: validated at the API, so anything else is dropped. */
export const inboxExtrasOf = (metadata: Record<string, unknown> | null | undefined): InboxExtras => {
  const parsed = InboxExtras.safeParse(metadata?.inbox ?? {});
  return parsed.success ? parsed.data : {};
};
