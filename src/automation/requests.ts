/**
 * What an automated step asks the send pipeline for: plain SendRequest bodies, one per channel
 * (or one routed request when the recipient's preferences should choose), validated by the same
 * zod schema as `POST /api/communications/send`. Pure: the caller supplies whether Herald knows
 * the recipient's preferences.
 */
import type { Channel } from "../domain";
import type { PreferenceRow } from "../db/preferences";
import { preferredContact } from "../preferences/policy";
import type { EventRecipient } from "./event";
import type { SendStep } from "./rule";
import { valueAt } from "./rule";

/** The parts of a send every request of a step shares. */
export type StepBase = {
  templateVariables: Record<string, unknown>;
  entityType?: string;
  entityId?: string;
  scheduledAt?: string;
  attachments?: { filename: string; fileUrl: string; mimeType?: string }[];
  metadata: Record<string, unknown>;
};

export function contactFor(r: EventRecipient, channel: Channel): string | undefined {
  switch (channel) {
    case "email":
      return r.email;
    case "sms":
      return r.phone;
    case "whatsapp":
      return r.whatsapp ?? r.phone;
    case "messenger":
      return r.messengerId;
    case "push":
    case "in_app":
      return undefined;
  }
}

const reachable = (r: EventRecipient, c: Channel) => contactFor(r, c) !== undefined || ((c === "in_app" || c === "push") && r.id !== undefined);

/**
 * With `preferences` routing, a recipient whose stored preferences give a contact on one of the
 * step's channels is routed by them (channel per type, opt-outs, quiet hours); anyone else gets
 * the first of the step's channels the event gave a contact for — the seed's `|| ["email"]`.
 */
export function stepRequests(step: SendStep, r: EventRecipient, pref: PreferenceRow | undefined, base: StepBase): Record<string, unknown>[] {
  const common = {
    type: step.type ?? step.templateCode,
    templateCode: step.templateCode,
    recipientType: r.type,
    ...(r.id ? { recipientId: r.id } : {}),
    ...(r.name ? { recipientName: r.name } : {}),
    ...(r.locale ? { locale: r.locale } : {}),
    priority: step.priority,
    ...base,
  };
  if (step.routing === "preferences" && r.id && step.channels.some((c) => preferredContact(pref, c) !== null)) {
    return [{ ...common, channels: step.channels, strategy: step.strategy }];
  }
  let channels = step.channels;
  if (step.routing === "preferences") channels = channels.filter((c) => reachable(r, c)).slice(0, 1);
  else if (step.strategy === "first") channels = [channels.find((c) => reachable(r, c)) ?? channels[0]!];
  // No contact anywhere: one request on the first channel, which fails validation naming the field.
  if (channels.length === 0) channels = step.channels.slice(0, 1);
  return channels.map((channel) => {
    const contact = contactFor(r, channel);
    return { ...common, channel, ...(contact ? { recipientContact: contact } : {}) };
  });
}

/** Fills `{{name}}` placeholders from the event's data (attachment filenames). */
export const fill = (text: string, data: Record<string, unknown>) =>
  text.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_, path: string) => {
    const v = valueAt(data, path);
    return v === undefined || v === null ? "" : String(v);
  });

/** Variables a template sees: the event's data, with the recipient's name as a fallback for the usual names. */
export const variablesFor = (r: EventRecipient, data: Record<string, unknown>): Record<string, unknown> => ({
  ...(r.name ? { customerName: r.name, name: r.name } : {}),
  recipient: { type: r.type, id: r.id ?? null, name: r.name ?? null },
  ...data,
});
