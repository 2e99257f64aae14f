/**
 * An approved WhatsApp template as a sender asks for it, in a communication's
 * `metadata.whatsappTemplate`: `{ name, language, components? }` (components in Meta's format).
 * The send pipeline reads it into `OutboundMessage.providerTemplate`; checking it when the send is
 * accepted turns a malformed one into a 422 rather than a free-text message WhatsApp may refuse.
 */
import { z } from "zod";
import type { ProviderTemplate } from "../types";

export const WhatsappTemplate = z
  .object({
    name: z.string().regex(/^[a-z0-9_]{1,512}$/, "a template name: lowercase letters, digits and underscores"),
    language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, "a language code such as en or en_US"),
    components: z.array(z.record(z.string(), z.unknown())).max(20).optional(),
  })
  .strict();

/** The template the metadata asks for, or undefined when there is none (or it is malformed). */
export function whatsappTemplate(metadata: Record<string, unknown> | null | undefined): ProviderTemplate | undefined {
  const parsed = WhatsappTemplate.safeParse(metadata?.whatsappTemplate);
  return parsed.success ? parsed.data : undefined;
}
