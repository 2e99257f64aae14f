// Following a resource that is still moving (a campaign sending, a run waiting): re-read it every
// 1.5 s while the page stays where it was, at most 40 times, and hand each answer to the page.

const POLL_MS = 1500;
const POLLS = 40;

/**
 * `read()` fetches the resource; `onNext(next)` shows it and returns true to keep following (it
 * returns false when it redrew the page, which then follows on its own). Stops when the hash
 * changes, the view is replaced, or `moving(latest)` no longer holds.
 */
export function follow(view, seen, { read, moving, onNext }, polls = 0) {
  if (!moving(seen) || polls >= POLLS) return;
  const hash = location.hash;
  setTimeout(async () => {
    if (location.hash !== hash || !view.isConnected) return;
    const next = await read().catch(() => null);
    if (!next || location.hash !== hash) return;
    if (onNext(next, polls + 1)) follow(view, next, { read, moving, onNext }, polls + 1);
  }, POLL_MS);
}
