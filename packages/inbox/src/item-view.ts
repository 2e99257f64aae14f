/**
 * One inbox item as a list entry: avatar, title (a link when the item has an action URL), body,
 * when and what kind, its action buttons, and the per-item tools (read/unread, archive, snooze).
 */
import { html, nothing } from "lit";
import { fill, type InboxStrings } from "./strings";
import type { InboxItem, SnoozeOption } from "./types";

export type ItemHandlers = {
  open(item: InboxItem, event: Event): void;
  toggleRead(item: InboxItem): void;
  toggleArchive(item: InboxItem): void;
  toggleSnoozeMenu(item: InboxItem): void;
  snooze(item: InboxItem, option: SnoozeOption): void;
  act(item: InboxItem, index: number, event: Event): void;
};

export type ItemContext = { strings: InboxStrings; locale: string; now: Date; snoozeOptions: SnoozeOption[]; snoozeMenuFor: string | null; on: ItemHandlers };

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [["year", 31_536_000], ["month", 2_592_000], ["week", 604_800], ["day", 86_400], ["hour", 3_600], ["minute", 60]];

/** "5 minutes ago", "yesterday", in the component's locale. */
export function relativeTime(iso: string, now: Date, locale: string): string {
  const seconds = (new Date(iso).getTime() - now.getTime()) / 1000;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  for (const [unit, size] of UNITS) if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  return format.format(0, "second");
}

/**
 * Only http(s) links: a `javascript:` URL in an href would run in the host app's page. Herald
 * checks buttons and avatars when a send is accepted, but not the older `metadata.actionUrl`.
 */
export const webUrl = (url: string | null): string | null => (url && /^https?:\/\//i.test(url) ? url : null);

export function renderItem(item: InboxItem, { strings, locale, now, snoozeOptions, snoozeMenuFor, on }: ItemContext) {
  const title = item.title ?? item.body.slice(0, 60);
  const unread = !item.readAt && !item.archivedAt;
  const link = webUrl(item.actionUrl);
  const heading = link
    ? html`<a class="title" part="title" href=${link} @click=${(e: Event) => on.open(item, e)}>${item.title ?? ""}</a>`
    : html`<p class="title" part="title">${item.title ?? ""}</p>`;
  const menuOpen = snoozeMenuFor === item.id;
  return html`<li class=${unread ? "unread" : ""} part=${unread ? "item item-unread" : "item"} data-id=${item.id} aria-label=${title} tabindex="-1">
    ${webUrl(item.avatarUrl) ? html`<img class="avatar" part="avatar" src=${item.avatarUrl} alt="" />` : nothing}
    <div class="content">
      ${item.title ? heading : nothing}
      <p class="body" part="body">${item.body}</p>
      <div class="meta" part="meta"><time datetime=${item.createdAt}>${relativeTime(item.createdAt, now, locale)}</time> · ${item.category}</div>
      ${item.actions.length
        ? html`<div class="actions" role="group" aria-label=${fill(strings.itemActions, { title })}>
            ${item.actions.map(
              (a, i) => html`<button type="button" class="action ${i === 0 ? "primary" : "secondary"}" part=${i === 0 ? "action action-primary" : "action action-secondary"}
                ?disabled=${item.actedAction !== null} @click=${(e: Event) => on.act(item, i, e)}>${item.actedAction === i ? fill(strings.done, { label: a.label }) : a.label}</button>`,
            )}
          </div>`
        : nothing}
      <div class="tools" part="tools">
        ${item.archivedAt
          ? nothing
          : html`<button type="button" class="tool" part="tool" @click=${() => on.toggleRead(item)}>${item.readAt ? strings.markUnread : strings.markRead}</button>`}
        <button type="button" class="tool" part="tool" @click=${() => on.toggleArchive(item)}>${item.archivedAt ? strings.unarchive : strings.archive}</button>
        ${item.archivedAt
          ? nothing
          : html`<button type="button" class="tool" part="tool" aria-expanded=${menuOpen ? "true" : "false"} @click=${() => on.toggleSnoozeMenu(item)}>${strings.snooze}</button>`}
      </div>
      ${menuOpen
        ? html`<div class="snooze-menu" part="snooze-menu" role="group" aria-label=${strings.snooze}>
            ${snoozeOptions.map((o) => html`<button type="button" class="tool" part="tool" @click=${() => on.snooze(item, o)}>${o.label}</button>`)}
          </div>`
        : nothing}
    </div>
  </li>`;
}
