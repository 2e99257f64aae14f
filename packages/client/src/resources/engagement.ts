/** Audiences and campaigns, conversations, recipients (devices, export, erasure, preference link), audit log, usage, API keys. */
import { byCursor, byPage } from "../paginate.js";
import { seg, type CallOptions, type Transport } from "../transport.js";
import type {
  ApiKeyList,
  CreateApiKey,
  IssuedApiKey,
  PreferenceLink,
  RevokedApiKey,
  RotateApiKey,
  RotatedApiKey,
  Audience,
  AuditEntry,
  AuditQuery,
  Campaign,
  CampaignDetail,
  Conversation,
  ConversationListQuery,
  ConversationMessage,
  CreateAudience,
  CreateCampaign,
  CursorPage,
  Device,
  List,
  MemberInput,
  MemberKey,
  MemberPage,
  MembersAdded,
  MembersRemoved,
  MessageListQuery,
  Page,
  RecipientErased,
  RecipientExport,
  RegisterDevice,
  Reply,
  ReplyRequest,
  Subscription,
  Usage,
} from "../types/index.js";

const aud = (id: string) => `/api/audiences/${seg(id)}`;
export const audiences = (t: Transport) => ({
  create: (body: CreateAudience, o: CallOptions = {}) => t.request<Audience>("POST", "/api/audiences", { ...o, body }),
  list: (o: CallOptions = {}) => t.request<List<Audience>>("GET", "/api/audiences", o),
  get: (id: string, o: CallOptions = {}) => t.request<Audience & { members: number }>("GET", aud(id), o),
  delete: (id: string, o: CallOptions = {}) => t.request<void>("DELETE", aud(id), o),
  count: (id: string, o: CallOptions = {}) => t.request<{ count: number }>("GET", `${aud(id)}/count`, o),
  members: (id: string, query: { size?: number; after?: string } = {}, o: CallOptions = {}) => t.request<MemberPage>("GET", `${aud(id)}/members`, { ...o, query }),
  /** Every member, in recipient order. */
  allMembers: (id: string, query: { size?: number } = {}, o: CallOptions = {}) =>
    byCursor((after) => t.request<MemberPage>("GET", `${aud(id)}/members`, { ...o, query: { ...query, after } }), (p) => p.next),
  addMembers: (id: string, members: MemberInput[], o: CallOptions = {}) => t.request<MembersAdded>("POST", `${aud(id)}/members`, { ...o, body: { members } }),
  /** A CSV file with a header row (recipientType, recipientId, name, email, phone, …). */
  importCsv: (id: string, csv: string, o: CallOptions = {}) => t.request<MembersAdded>("POST", `${aud(id)}/import`, { ...o, raw: { body: csv, contentType: "text/csv" } }),
  removeMembers: (id: string, members: MemberKey[], o: CallOptions = {}) => t.request<MembersRemoved>("POST", `${aud(id)}/members/remove`, { ...o, body: { members } }),
  subscribe: (id: string, member: MemberInput, o: CallOptions = {}) => t.request<Subscription>("POST", `${aud(id)}/subscribe`, { ...o, body: member }),
  unsubscribe: (id: string, member: MemberKey, o: CallOptions = {}) => t.request<Subscription>("POST", `${aud(id)}/unsubscribe`, { ...o, body: member }),
});

const camp = (id: string) => `/api/campaigns/${seg(id)}`;
export const campaigns = (t: Transport) => ({
  create: (body: CreateCampaign, o: CallOptions = {}) => t.request<Campaign>("POST", "/api/campaigns", { ...o, body }),
  list: (query: { page?: number; size?: number } = {}, o: CallOptions = {}) => t.request<Page<Campaign>>("GET", "/api/campaigns", { ...o, query }),
  all: (query: { size?: number } = {}, o: CallOptions = {}) => byPage((page) => t.request<Page<Campaign>>("GET", "/api/campaigns", { ...o, query: { ...query, page } })),
  get: (id: string, o: CallOptions = {}) => t.request<CampaignDetail>("GET", camp(id), o),
  send: (id: string, o: CallOptions = {}) => t.request<CampaignDetail>("POST", `${camp(id)}/send`, o),
  pause: (id: string, o: CallOptions = {}) => t.request<CampaignDetail>("POST", `${camp(id)}/pause`, o),
  resume: (id: string, o: CallOptions = {}) => t.request<CampaignDetail>("POST", `${camp(id)}/resume`, o),
  cancel: (id: string, o: CallOptions = {}) => t.request<CampaignDetail & { cancelledMessages: number }>("POST", `${camp(id)}/cancel`, o),
  /** Ends an A/B test early with this variant. */
  winner: (id: string, variant: string, o: CallOptions = {}) => t.request<CampaignDetail>("POST", `${camp(id)}/winner`, { ...o, body: { variant } }),
});

const conv = (id: string) => `/api/conversations/${seg(id)}`;
export const conversations = (t: Transport) => ({
  list: (query: ConversationListQuery = {}, o: CallOptions = {}) => t.request<CursorPage<Conversation>>("GET", "/api/conversations", { ...o, query }),
  all: (query: Omit<ConversationListQuery, "cursor"> = {}, o: CallOptions = {}) =>
    byCursor((cursor) => t.request<CursorPage<Conversation>>("GET", "/api/conversations", { ...o, query: { ...query, cursor } }), (p) => p.nextCursor),
  get: (id: string, o: CallOptions = {}) => t.request<Conversation>("GET", conv(id), o),
  messages: (id: string, query: MessageListQuery = {}, o: CallOptions = {}) => t.request<CursorPage<ConversationMessage>>("GET", `${conv(id)}/messages`, { ...o, query }),
  allMessages: (id: string, query: { limit?: number } = {}, o: CallOptions = {}) =>
    byCursor((cursor) => t.request<CursorPage<ConversationMessage>>("GET", `${conv(id)}/messages`, { ...o, query: { ...query, cursor } }), (p) => p.nextCursor),
  markRead: (id: string, o: CallOptions = {}) => t.request<Conversation>("POST", `${conv(id)}/read`, o),
  reply: (id: string, body: ReplyRequest, o: CallOptions = {}) => t.request<Reply>("POST", `${conv(id)}/reply`, { ...o, body }),
});

const rcpt = (type: string, id: string) => `/api/recipients/${seg(type)}/${seg(id)}`;
export const recipients = (t: Transport) => ({
  /** A signed link to the hosted preference center, for an email footer; `expiresIn` in seconds. */
  preferenceLink: (type: string, id: string, query: { expiresIn?: number } = {}, o: CallOptions = {}) =>
    t.request<PreferenceLink>("GET", `${rcpt(type, id)}/preference-link`, { ...o, query }),
  export: (type: string, id: string, o: CallOptions = {}) => t.request<RecipientExport>("GET", `${rcpt(type, id)}/export`, o),
  /** Erases everything Herald holds about the recipient, leaving an opt-out marker. */
  erase: (type: string, id: string, o: CallOptions = {}) => t.request<RecipientErased>("DELETE", rcpt(type, id), o),
  devices: {
    /** Registering a known token again refreshes it instead of adding a second device. */
    register: (type: string, id: string, body: RegisterDevice, o: CallOptions = {}) => t.request<Device>("POST", `${rcpt(type, id)}/devices`, { ...o, body }),
    list: (type: string, id: string, o: CallOptions = {}) => t.request<List<Device>>("GET", `${rcpt(type, id)}/devices`, o),
    remove: (type: string, id: string, deviceId: string, o: CallOptions = {}) => t.request<void>("DELETE", `${rcpt(type, id)}/devices/${seg(deviceId)}`, o),
  },
});

export const auditLog = (t: Transport) => ({
  list: (query: AuditQuery = {}, o: CallOptions = {}) => t.request<CursorPage<AuditEntry>>("GET", "/api/audit-log", { ...o, query }),
  all: (query: Omit<AuditQuery, "cursor"> = {}, o: CallOptions = {}) =>
    byCursor((cursor) => t.request<CursorPage<AuditEntry>>("GET", "/api/audit-log", { ...o, query: { ...query, cursor } }), (p) => p.nextCursor),
});

export const usage = (t: Transport) => ({
  get: (o: CallOptions = {}) => t.request<Usage>("GET", "/api/usage", o),
});

/** The tenant's own API keys (scope `keys:manage`): a key grants, rotates or revokes only scopes it holds. */
export const keys = (t: Transport) => ({
  list: (o: CallOptions = {}) => t.request<ApiKeyList>("GET", "/api/keys", o),
  create: (body: CreateApiKey = {}, o: CallOptions = {}) => t.request<IssuedApiKey>("POST", "/api/keys", { ...o, body }),
  rotate: (id: string, body: RotateApiKey = {}, o: CallOptions = {}) => t.request<RotatedApiKey>("POST", `/api/keys/${seg(id)}/rotate`, { ...o, body }),
  revoke: (id: string, o: CallOptions = {}) => t.request<RevokedApiKey>("DELETE", `/api/keys/${seg(id)}`, o),
});
