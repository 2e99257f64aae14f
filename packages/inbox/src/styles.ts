/**
 * The component's look, all of it overridable from the host page: CSS custom properties for
 * colours, font, sizes and radius (inherited through the shadow root), and `::part()` for
 * anything else (docs/inbox.md lists both).
 */
import { css } from "lit";

export const styles = css`
  :host {
    --_bg: var(--herald-inbox-bg, #fff);
    --_fg: var(--herald-inbox-fg, #1f2933);
    --_muted: var(--herald-inbox-muted, #52606d);
    --_border: var(--herald-inbox-border, #d9dee3);
    --_accent: var(--herald-inbox-accent, #1d4ed8);
    --_accent-fg: var(--herald-inbox-accent-fg, #fff);
    --_unread-bg: var(--herald-inbox-unread-bg, #eef4ff);
    --_badge-bg: var(--herald-inbox-badge-bg, #c81e1e);
    --_badge-fg: var(--herald-inbox-badge-fg, #fff);
    --_radius: var(--herald-inbox-radius, 0.5rem);
    --_focus: var(--herald-inbox-focus, #1d4ed8);
    display: inline-block;
    position: relative;
    font-family: var(--herald-inbox-font, system-ui, sans-serif);
    font-size: var(--herald-inbox-font-size, 0.9375rem);
    color: var(--_fg);
  }
  :host([mode="page"]) { display: block; }
  [hidden] { display: none !important; }
  button { font: inherit; color: inherit; cursor: pointer; border-radius: calc(var(--_radius) / 2); }
  :focus-visible { outline: 2px solid var(--_focus); outline-offset: 2px; }
  .bell { position: relative; background: none; border: 0; padding: 0.35rem; line-height: 1; }
  .bell svg { width: var(--herald-inbox-bell-size, 1.5rem); height: var(--herald-inbox-bell-size, 1.5rem); fill: currentColor; }
  .badge {
    position: absolute; top: 0; right: 0; min-width: 1.1rem; padding: 0 0.3rem; border-radius: 1rem;
    background: var(--_badge-bg); color: var(--_badge-fg); font-size: 0.7rem; font-weight: 700; line-height: 1.1rem; text-align: center;
  }
  .panel {
    background: var(--_bg); color: var(--_fg); border: 1px solid var(--_border); border-radius: var(--_radius);
    box-sizing: border-box; display: flex; flex-direction: column;
  }
  .popover {
    position: absolute; z-index: var(--herald-inbox-z-index, 1000); top: 100%; right: 0; margin-top: 0.4rem;
    width: var(--herald-inbox-width, 24rem); max-width: 90vw; max-height: var(--herald-inbox-height, 32rem);
    box-shadow: 0 10px 30px rgb(0 0 0 / 0.15);
  }
  :host([align-start]) .popover { right: auto; left: 0; }
  header { display: flex; align-items: center; justify-content: space-between; gap: 0.5rem; padding: 0.6rem 0.8rem; border-bottom: 1px solid var(--_border); }
  h2 { font-size: 1rem; margin: 0; }
  .link { background: none; border: 0; color: var(--_accent); padding: 0.2rem; text-decoration: underline; }
  [role="tablist"] { display: flex; gap: 0.25rem; padding: 0.4rem 0.8rem 0; border-bottom: 1px solid var(--_border); }
  [role="tab"] { background: none; border: 0; border-bottom: 2px solid transparent; padding: 0.35rem 0.5rem; color: var(--_muted); border-radius: 0; }
  [role="tab"][aria-selected="true"] { border-bottom-color: var(--_accent); color: var(--_fg); font-weight: 600; }
  ul { list-style: none; margin: 0; padding: 0; overflow-y: auto; }
  li { display: flex; gap: 0.6rem; padding: 0.7rem 0.8rem; border-bottom: 1px solid var(--_border); }
  li.unread { background: var(--_unread-bg); }
  .avatar { width: 2.25rem; height: 2.25rem; border-radius: 50%; object-fit: cover; flex: none; }
  .content { flex: 1; min-width: 0; }
  .title { font-weight: 600; margin: 0 0 0.15rem; color: inherit; }
  li.unread .title::before { content: ""; display: inline-block; width: 0.5rem; height: 0.5rem; border-radius: 50%; background: var(--_accent); margin-right: 0.4rem; }
  a.title { text-decoration: none; }
  a.title:hover { text-decoration: underline; }
  .body { margin: 0; overflow-wrap: anywhere; }
  .meta { color: var(--_muted); font-size: 0.8rem; margin-top: 0.2rem; }
  .actions, .tools { display: flex; flex-wrap: wrap; gap: 0.4rem; margin-top: 0.45rem; }
  .action { border: 1px solid var(--_accent); padding: 0.25rem 0.7rem; background: var(--_bg); color: var(--_accent); }
  .action.primary { background: var(--_accent); color: var(--_accent-fg); }
  .action:disabled { opacity: 0.7; cursor: default; }
  .tool { background: none; border: 1px solid var(--_border); padding: 0.15rem 0.5rem; font-size: 0.8rem; color: var(--_muted); }
  .snooze-menu { display: flex; flex-direction: column; gap: 0.2rem; margin-top: 0.3rem; }
  .empty, .signed-out, .status { padding: 1.2rem 0.8rem; color: var(--_muted); text-align: center; margin: 0; }
  .status { padding: 0.3rem 0.8rem; font-size: 0.8rem; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
