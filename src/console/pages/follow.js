// Following a resource that is still moving (a campaign sending, a run waiting, a conversation
// open on screen): re-read it every 1.5 s (or `every` ms) while the page stays where it was, at
// most 40 (or `max`) times, and hand each answer to the page.

const POLL_MS = 1500;
const POLLS = 40;

/**
 * `read()` fetches the resource; `onNext(next)` shows it and returns true to keep following (it
 * returns false when it redrew the page, which then follows on its own). Stops when the hash
 * changes, when `anchor` (an element of this drawing of the page) leaves the document — a redraw
 * starts its own follower, and two must not poll side by side — or when `moving(latest)` fails.
 */
export function follow(anchor, seen, options, polls = 0) {
  const { read, moving, onNext, every = POLL_MS, max = POLLS } = options;
  if (!moving(seen) || polls >= max) return;
  const hash = location.hash;
  setTimeout(async () => {
    if (location.hash !== hash || !anchor.isConnected) return;
    const next = await read().catch(() => null);
    if (!next || location.hash !== hash || !anchor.isConnected) return;
    if (onNext(next, polls + 1)) follow(anchor, next, options, polls + 1);
  }, every);
}
