/**
 * `<herald-inbox>`: Herald's in-app inbox as a web component, for plain HTML or any framework
 * (attributes and properties in, DOM events out). A bell with the unread count opening a popover,
 * or a full-page feed (`mode="page"`); tabs for all, unread and archived; read/unread, mark all
 * read, archive, snooze, and the items' action buttons. The token comes from the `token`
 * attribute and, when the server refuses it, from the host's `tokenProvider`; with neither it
 * shows a signed-out state (slot `signed-out`) instead of retrying forever.
 */
import { html, LitElement, nothing, type PropertyValues } from "lit";
import { InboxConnection } from "./connection";
import { renderItem, webUrl, type ItemHandlers } from "./item-view";
import { nextTab, trapFocus } from "./keyboard";
import { fill, stringsFor, type InboxStrings } from "./strings";
import { styles } from "./styles";
import type { InboxCounts, InboxItem, InboxStatus, InboxTab, SnoozeOption, TokenProvider } from "./types";

export type { InboxAction, InboxCounts, InboxItem, InboxStatus, InboxTab, SnoozeOption, TokenProvider } from "./types";
export type { InboxStrings } from "./strings";
export { LOCALES } from "./strings";

const list = { fromAttribute: (v: string | null) => (v ?? "").split(",").map((c) => c.trim()).filter(Boolean) };
const BELL = html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"/></svg>`;
/** Where this module was loaded from: Herald itself, when included with a script tag. */
const SCRIPT_ORIGIN = (() => {
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return "";
  }
})();

const defaultSnoozeOptions = (s: InboxStrings): SnoozeOption[] => [
  { label: s.snoozeHour, until: (now) => new Date(now.getTime() + 3_600_000) },
  { label: s.snoozeTomorrow, until: (now) => new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 9) },
  { label: s.snoozeWeek, until: (now) => new Date(now.getTime() + 7 * 86_400_000) },
];

export class HeraldInbox extends LitElement {
  static override styles = styles;
  static override properties = {
    baseUrl: { attribute: "base-url" },
    token: {},
    mode: { reflect: true },
    locale: {},
    open: { type: Boolean, reflect: true },
    tab: { reflect: true },
    categories: { converter: list },
    categoryLabels: { attribute: false },
    strings: { attribute: false },
    tokenProvider: { attribute: false },
    snoozeOptions: { attribute: false },
    status: { reflect: true },
    items: { state: true },
    counts: { state: true },
    snoozeMenuFor: { state: true },
    announcement: { state: true },
  };

  /** Herald's origin; defaults to where this script was loaded from. */
  declare baseUrl: string;
  /** A recipient token minted by the tenant's backend (POST /api/inbox/tokens). */
  declare token: string | null;
  declare mode: "popover" | "page";
  declare locale: string;
  /** Whether the popover is open (always shown in page mode). */
  declare open: boolean;
  declare tab: InboxTab;
  /** Categories (the sends' `type`) that get a tab of their own, between Unread and Archived. */
  declare categories: string[];
  /** Tab names for those categories; the category itself otherwise. */
  declare categoryLabels: Record<string, string>;
  /** Overrides of the locale's strings. */
  declare strings: Partial<InboxStrings>;
  /** Called for a new token when the server refuses the current one (expired, revoked). */
  declare tokenProvider: TokenProvider | null;
  declare snoozeOptions: SnoozeOption[] | null;
  /** The connection's state, reflected as the `status` attribute (read it, do not set it). */
  declare status: InboxStatus;
  declare protected items: Map<string, InboxItem>;
  declare protected counts: InboxCounts;
  declare protected snoozeMenuFor: string | null;
  declare protected announcement: string;

  private connection: InboxConnection | undefined;

  constructor() {
    super();
    this.baseUrl = SCRIPT_ORIGIN;
    this.token = null;
    this.mode = "popover";
    this.locale = document.documentElement.lang || navigator.language || "en";
    this.open = false;
    this.tab = "all";
    this.categories = [];
    this.categoryLabels = {};
    this.strings = {};
    this.tokenProvider = null;
    this.snoozeOptions = null;
    this.status = "idle";
    this.items = new Map();
    this.counts = { unread: 0, unseen: 0, total: 0 };
    this.snoozeMenuFor = null;
    this.announcement = "";
    this.addEventListener("keydown", (e) => this.onKeydown(e));
  }

  /** The items as shown: newest first, snoozed ones hidden until they wake. */
  get visibleItems(): InboxItem[] {
    const keep = (i: InboxItem) =>
      !i.snoozedUntil &&
      (this.tab === "archived" ? !!i.archivedAt : !i.archivedAt && (this.tab === "all" || (this.tab === "unread" ? !i.readAt : i.category === this.tab)));
    return [...this.items.values()].filter(keep).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  private get tabs(): InboxTab[] {
    return ["all", "unread", ...this.categories.filter((c) => !["all", "unread", "archived"].includes(c)), "archived"];
  }

  get unreadCount(): number {
    return this.counts.unread;
  }

  markAllRead() {
    this.connection?.send({ type: "markAllRead" });
  }

  override connectedCallback() {
    super.connectedCallback();
    document.addEventListener("pointerdown", this.onOutside);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    document.removeEventListener("pointerdown", this.onOutside);
    this.connection?.stop();
    this.connection = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (changed.has("token") || changed.has("baseUrl") || changed.has("tokenProvider")) this.reconnect();
  }

  protected override updated(changed: PropertyValues<this>) {
    if (changed.has("open") && this.mode === "popover" && changed.get("open") !== undefined) {
      if (this.open) this.focusPanel();
      this.emit("inbox-toggle", { open: this.open });
    }
    if (changed.has("open") && this.open) this.markSeen();
    if ((changed as Map<PropertyKey, unknown>).has("items")) this.restoreFocus();
  }

  private reconnect() {
    this.connection?.stop();
    this.connection = undefined;
    if (!this.isConnected || (!this.token && !this.tokenProvider)) return this.setStatus(this.token || this.tokenProvider ? "idle" : "signed-out");
    this.items = new Map();
    this.connection = new InboxConnection({
      baseUrl: this.baseUrl,
      token: this.token,
      tokenProvider: this.tokenProvider ? () => this.tokenProvider!() : null,
      onItems: (items, counts, live) => this.merge(items, counts, live),
      onCounts: (counts) => this.setCounts(counts),
      onStatus: (status) => this.setStatus(status),
      onReset: () => (this.items = new Map()),
    });
    this.connection.start();
  }

  private merge(changed: InboxItem[], counts: InboxCounts, live: boolean) {
    const next = new Map(this.items);
    const arrived = changed.filter((i) => !next.has(i.id));
    for (const i of changed) if ((next.get(i.id)?.version ?? -1) < i.version) next.set(i.id, i);
    this.items = next;
    this.setCounts(counts);
    if (live && arrived.length) {
      const latest = arrived.at(-1)!;
      this.announcement = fill(this.text.newItem, { title: latest.title ?? latest.body.slice(0, 80) });
      if (this.open || this.mode === "page") this.markSeen();
    }
  }

  private setCounts(counts: InboxCounts) {
    const before = this.counts;
    this.counts = counts;
    if (before.unread !== counts.unread || before.unseen !== counts.unseen || before.total !== counts.total) this.emit("inbox-counts", counts);
  }

  private setStatus(status: InboxStatus) {
    if (this.status === status) return;
    this.status = status;
    this.emit("inbox-status", { status });
  }

  private emit(type: string, detail: unknown, cancelable = false) {
    return this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable }));
  }

  private get text(): InboxStrings {
    return stringsFor(this.locale, this.strings);
  }

  private markSeen() {
    const ids = this.visibleItems.filter((i) => !i.seenAt).map((i) => i.id);
    if (ids.length) this.connection?.send({ type: "mark", ids: ids.slice(0, 100), action: "seen" });
  }

  private handlers: ItemHandlers = {
    open: (item, event) => {
      // The host may route it itself (a single-page app): preventDefault() on inbox-item-click.
      if (!this.emit("inbox-item-click", { item }, true)) event.preventDefault();
      this.connection?.send({ type: "mark", ids: [item.id], action: "click" });
    },
    toggleRead: (item) => (this.keepFocusNear(item), this.connection?.send({ type: "mark", ids: [item.id], action: item.readAt ? "unread" : "read" })),
    toggleArchive: (item) => (this.keepFocusNear(item), this.connection?.send({ type: "mark", ids: [item.id], action: item.archivedAt ? "unarchive" : "archive" })),
    toggleSnoozeMenu: (item) => (this.snoozeMenuFor = this.snoozeMenuFor === item.id ? null : item.id),
    snooze: (item, option) => {
      this.snoozeMenuFor = null;
      this.keepFocusNear(item);
      this.connection?.send({ type: "snooze", ids: [item.id], until: option.until(new Date()).toISOString() });
    },
    act: (item, index, event) => {
      const action = item.actions[index];
      if (!action || !this.emit("inbox-action", { item, action, index }, true)) return;
      event.preventDefault();
      const url = "url" in action ? webUrl(action.url) : null;
      if (url) window.open(url, "_blank", "noopener");
      this.connection?.send({ type: "act", id: item.id, action: index });
    },
  };

  /** The item a tool was used on, and where it was: if the change takes it off the list, focus stays there. */
  private focusNear: { id: string; index: number } | null = null;

  private keepFocusNear(item: InboxItem) {
    this.focusNear = { id: item.id, index: this.visibleItems.findIndex((i) => i.id === item.id) };
  }

  private restoreFocus() {
    const near = this.focusNear;
    if (!near || this.visibleItems.some((i) => i.id === near.id)) return;
    this.focusNear = null;
    const root = this.shadowRoot;
    if (!root || root.activeElement) return;
    const items = [...root.querySelectorAll<HTMLElement>("li")];
    (items[Math.min(near.index, items.length - 1)] ?? root.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]'))?.focus();
  }

  private onOutside = (e: Event) => {
    if (this.open && this.mode === "popover" && !e.composedPath().includes(this)) this.open = false;
  };

  private onKeydown(e: KeyboardEvent) {
    if (e.key === "Escape" && this.open && this.mode === "popover") {
      this.open = false;
      this.shadowRoot?.querySelector<HTMLElement>(".bell")?.focus();
      e.stopPropagation();
    }
    if (e.key === "Tab" && this.open && this.mode === "popover" && this.shadowRoot) trapFocus(this.shadowRoot, e);
    const onTab = (e.composedPath()[0] as HTMLElement | undefined)?.getAttribute?.("role") === "tab";
    const next = onTab ? nextTab(this.tabs, this.tab, e.key) : undefined;
    if (next !== undefined) {
      this.tab = next;
      e.preventDefault();
      void this.updateComplete.then(() => this.shadowRoot?.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]')?.focus());
    }
  }

  /** Focus goes to the selected tab; the popover opens towards whichever side has room. */
  private focusPanel() {
    void this.updateComplete.then(() => {
      const panel = this.shadowRoot?.querySelector<HTMLElement>(".popover");
      if (panel) this.toggleAttribute("align-start", this.getBoundingClientRect().right < panel.offsetWidth);
      (this.shadowRoot?.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]') ?? panel)?.focus();
    });
  }

  protected override render() {
    const s = this.text;
    const popover = this.mode === "popover";
    const unread = this.counts.unread;
    return html`
      ${popover
        ? html`<button type="button" class="bell" part="bell" aria-haspopup="dialog" aria-expanded=${this.open ? "true" : "false"} aria-controls="panel"
            aria-label=${unread ? fill(s.bellUnread, { count: unread }) : s.bell} @click=${() => (this.open = !this.open)}>
            ${BELL}${unread && this.status !== "signed-out" ? html`<span class="badge" part="badge" aria-hidden="true">${unread > 99 ? "99+" : unread}</span>` : nothing}
          </button>`
        : nothing}
      <div class="sr-only" role="status" aria-live="polite">${this.announcement}</div>
      <section id="panel" class="panel ${popover ? "popover" : "page"}" part="panel" role=${popover ? "dialog" : "region"} aria-label=${s.title} ?hidden=${popover && !this.open}>
        ${this.status === "signed-out" ? this.renderSignedOut(s) : this.renderFeed(s)}
      </section>`;
  }

  private renderSignedOut(s: InboxStrings) {
    return html`<div class="signed-out" part="signed-out"><slot name="signed-out">${s.signedOut}</slot></div>`;
  }

  private renderFeed(s: InboxStrings) {
    const items = this.visibleItems;
    const empty = this.tab === "unread" ? s.emptyUnread : this.tab === "archived" ? s.emptyArchived : s.empty;
    const label = (t: InboxTab) => (t === "all" ? s.all : t === "unread" ? s.unread : t === "archived" ? s.archived : (this.categoryLabels[t] ?? t));
    const now = new Date();
    const context = { strings: s, locale: this.locale, now, snoozeOptions: this.snoozeOptions ?? defaultSnoozeOptions(s), snoozeMenuFor: this.snoozeMenuFor, on: this.handlers };
    return html`
      <header part="header">
        <h2>${s.title}</h2>
        <button type="button" class="link" part="mark-all" ?disabled=${!this.counts.unread} @click=${() => this.markAllRead()}>${s.markAllRead}</button>
        ${this.mode === "popover" ? html`<button type="button" class="link" part="close" @click=${() => (this.open = false)}>${s.close}</button>` : nothing}
      </header>
      <div role="tablist" part="tabs" aria-label=${s.tabs}>
        ${this.tabs.map(
          (t) => html`<button type="button" role="tab" id="tab-${t}" part=${this.tab === t ? "tab tab-selected" : "tab"} aria-selected=${this.tab === t ? "true" : "false"}
            aria-controls="feed" tabindex=${this.tab === t ? "0" : "-1"} @click=${() => (this.tab = t)}>${label(t)}</button>`,
        )}
      </div>
      ${this.status === "reconnecting" ? html`<p class="status" part="status">${s.reconnecting}</p>` : nothing}
      <div id="feed" role="tabpanel" aria-labelledby="tab-${this.tab}">
        ${items.length ? html`<ul part="list">${items.map((i) => renderItem(i, context))}</ul>` : html`<p class="empty" part="empty">${empty}</p>`}
      </div>`;
  }
}

if (!customElements.get("herald-inbox")) customElements.define("herald-inbox", HeraldInbox);

declare global {
  interface HTMLElementTagNameMap {
    "herald-inbox": HeraldInbox;
  }
}
