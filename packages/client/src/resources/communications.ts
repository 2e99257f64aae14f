/** `/api/communications`: send, batch, read, list, resend, cancel; and the statistics. */
import { byPage } from "../paginate.js";
import { seg, type CallOptions, type Transport } from "../transport.js";

import type {
  BatchResult,
  Communication,
  CommunicationDetail,
  CommunicationListQuery,
  Page,
  ResendRequest,
  Resent,
  SendRequest,
  SendResult,
  Stats,
  StatsQuery,
  TimelineEntry,
} from "../types/index.js";

export const communications = (t: Transport) => ({
  /** Retried safely: the Idempotency-Key makes the API replay the first answer. */
  send: (req: SendRequest, o: CallOptions = {}) => t.request<SendResult>("POST", "/api/communications/send", { ...o, body: req, dedupe: true }),
  batch: (items: SendRequest[], o: CallOptions = {}) => t.request<BatchResult>("POST", "/api/communications/batch", { ...o, body: { items }, dedupe: true }),
  get: (id: string, o: CallOptions = {}) => t.request<CommunicationDetail>("GET", `/api/communications/${seg(id)}`, o),
  /** The communication's timeline, opened by its acceptance. */
  timeline: async (id: string, o: CallOptions = {}): Promise<TimelineEntry[]> => (await t.request<CommunicationDetail>("GET", `/api/communications/${seg(id)}`, o)).events,
  list: (query: CommunicationListQuery = {}, o: CallOptions = {}) => t.request<Page<Communication>>("GET", "/api/communications", { ...o, query }),
  /** Every communication matching the query, page after page. */
  all: (query: Omit<CommunicationListQuery, "page"> = {}, o: CallOptions = {}) =>
    byPage((page) => t.request<Page<Communication>>("GET", "/api/communications", { ...o, query: { ...query, page } })),
  resend: (id: string, overrides: ResendRequest = {}, o: CallOptions = {}) => t.request<Resent>("POST", `/api/communications/${seg(id)}/resend`, { ...o, body: overrides }),
  cancel: (id: string, o: CallOptions = {}) => t.request<Communication>("POST", `/api/communications/${seg(id)}/cancel`, o),
  /** Validates, plans and renders a send without making it. */
  dryRun: (req: SendRequest, o: CallOptions = {}) => t.request<Record<string, unknown>>("POST", "/api/communications/send/dry-run", { ...o, body: req, dedupe: true }),
});

export const stats = (t: Transport) => ({
  get: (query: StatsQuery = {}, o: CallOptions = {}) => t.request<Stats>("GET", "/api/communications/stats", { ...o, query }),
});

