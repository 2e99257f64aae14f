/**
 * Keyboard handling the ARIA patterns ask for: arrow keys, Home and End move between tabs, and
 * Tab / Shift+Tab wrap around inside the open popover (a dialog keeps focus until it closes).
 */
import type { InboxTab } from "./types";

/** The tab a key moves to, or undefined for any other key. */
export function nextTab(tabs: InboxTab[], current: InboxTab, key: string): InboxTab | undefined {
  const at = Math.max(0, tabs.indexOf(current));
  const to = { Home: 0, End: tabs.length - 1, ArrowRight: (at + 1) % tabs.length, ArrowLeft: (at + tabs.length - 1) % tabs.length }[key];
  return to === undefined ? undefined : tabs[to];
}

type Focusable = { focus(): void };
/** The parts of a shadow root and a key event used here (structural, so the pure part above type-checks without the DOM). */
type Root = { activeElement: unknown; querySelectorAll(selector: string): Iterable<Focusable> };

/** Wraps Tab from the last focusable control of the panel to the first, and Shift+Tab back. */
export function trapFocus(root: Root, e: { shiftKey: boolean; preventDefault(): void }) {
  const focusable = [...root.querySelectorAll(".panel a[href], .panel button:not([disabled]), .panel [tabindex='0']")];
  const first = focusable[0];
  const last = focusable.at(-1);
  if (!first || !last) return;
  if (e.shiftKey && root.activeElement === first) (last.focus(), e.preventDefault());
  else if (!e.shiftKey && root.activeElement === last) (first.focus(), e.preventDefault());
}
