/**
 * Where one inbound message goes, decided from what the batch read (pure: rows in, decision out).
 * A message joins the thread of its channel, contact and our address. It answers the
 * communication it names (a WhatsApp context id or an email In-Reply-To/References matching our
 * provider message id, or a signed reply token), else the latest send to that contact on that
 * channel within ANSWER_WINDOW_MS. The recipient profile comes from that communication, else from
 * a profile whose preferred contact is this one. Keywords are exact one-word messages.
 */
import type { ConversationRow, SentRow } from "../db/conversations";
import type { Channel } from "../domain";
import { keywordOf } from "../pipeline/opt-out";
import { normaliseContact } from "../pipeline/send-request";
import type { InboundMessage } from "./inbound";
import { tokenOfAddress } from "./reply-token";

/** A reply with no reference answers a send to that contact from the last 7 days. */
export const ANSWER_WINDOW_MS = 7 * 24 * 3600 * 1000;

export type ThreadKey = { channel: Channel; contact: string; ourAddress: string };
export const keyString = (k: ThreadKey) => `${k.channel}\u0000${k.contact}\u0000${k.ourAddress}`;

export type Profile = { entityType: string; entityId: string; email: string | null; phone: string | null; whatsapp: string | null; messenger: string | null };

export type BatchView = {
  /** `${configId}\0${providerMessageId}` → the stored message. */
  stored: Map<string, { id: string; conversationId: string }>;
  threads: Map<string, ConversationRow>;
  sentByProviderId: Map<string, SentRow>;
  /** Communications named by verified reply tokens. */
  sentById: Map<string, SentRow>;
  /** Sends to the batch's contacts within the window, newest first. */
  recent: SentRow[];
  profiles: Profile[];
  keywords: { keyword: string; event: string }[];
};

export type Keyword = "stop" | "start" | "help" | "tenant";

export type Decision =
  | { kind: "duplicate"; messageId: string; conversationId: string }
  | {
      kind: "store";
      key: ThreadKey;
      /** The existing thread, when there is one. */
      thread?: ConversationRow;
      answered?: SentRow;
      recipient?: { type: string; id: string };
      keyword?: Keyword;
      tenantEvent?: string;
    };

/** Channels where a one-word reply is a keyword (email opts out by its unsubscribe link). */
export const hasKeywords = (channel: Channel) => channel !== "email";

export function contactOf(channel: Channel, raw: string): string {
  const r = normaliseContact(channel, raw) as ReturnType<typeof normaliseContact> | undefined;
  return r?.ok ? r.value : raw.trim().toLowerCase();
}

/** Our address as the thread knows it: every `reply+<token>@d` of a domain is one address. */
export function ourAddressOf(channel: Channel, raw: string): string {
  if (channel === "email") return tokenOfAddress(raw) ? raw.trim().toLowerCase().replace(/^reply\+[^@]+@/, "reply@") : raw.trim().toLowerCase();
  return contactOf(channel, raw);
}

/** The ids an In-Reply-To/References value (or a provider context id) may name. */
export function referencedIds(inReplyTo: string | undefined): string[] {
  if (!inReplyTo) return [];
  const ids = inReplyTo.split(/[\s,]+/).filter(Boolean);
  return [...new Set(ids.flatMap((id) => [id, id.replace(/^<|>$/g, "")]))];
}

export const storedKey = (configId: string, providerMessageId: string) => `${configId}\u0000${providerMessageId}`;

export function decide(m: InboundMessage, view: BatchView, tokenCommunication: string | undefined, receivedAt: Date): Decision {
  const already = view.stored.get(storedKey(m.providerConfigId, m.providerMessageId));
  if (already) return { kind: "duplicate", messageId: already.id, conversationId: already.conversationId };
  const key: ThreadKey = { channel: m.channel, contact: contactOf(m.channel, m.from), ourAddress: ourAddressOf(m.channel, m.to) };
  const named = referencedIds(m.inReplyTo)
    .map((id) => view.sentByProviderId.get(id))
    .find((s) => s !== undefined && s.channel === m.channel);
  const byToken = tokenCommunication ? view.sentById.get(tokenCommunication) : undefined;
  const latest = view.recent.find(
    (s) => s.channel === m.channel && s.recipientContact === key.contact && s.createdAt.getTime() <= receivedAt.getTime() && receivedAt.getTime() - s.createdAt.getTime() <= ANSWER_WINDOW_MS,
  );
  const answered = named ?? byToken ?? latest;
  const thread = view.threads.get(keyString(key));
  const profile = view.profiles.find((p) => [p.email, p.phone, p.whatsapp, p.messenger].includes(key.contact));
  const recipient =
    answered?.recipientId ? { type: answered.recipientType, id: answered.recipientId }
    : thread?.recipientId && thread.recipientType ? { type: thread.recipientType, id: thread.recipientId }
    : profile ? { type: profile.entityType, id: profile.entityId }
    : undefined;
  const body = (m.text ?? m.button?.payload ?? m.button?.text ?? "").trim();
  let keyword: Keyword | undefined = hasKeywords(m.channel) ? keywordOf(body) : undefined;
  const tenant = view.keywords.find((k) => k.keyword === body.toLowerCase());
  if (!keyword && tenant) keyword = "tenant";
  return { kind: "store", key, thread, answered, recipient, keyword, ...(keyword === "tenant" ? { tenantEvent: tenant!.event } : {}) };
}
