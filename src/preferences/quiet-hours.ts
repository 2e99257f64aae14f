/**
 * Quiet hours in the recipient's own time zone (IANA names, so DST is Intl's problem, not ours).
 * A window like 22:00–07:00 crosses midnight. Given an instant, `quietUntil` says whether it
 * falls inside the window and, if so, the instant the window ends — computed from wall-clock
 * time on the right local day, so it is right on the nights the clocks change.
 */
export type QuietHours = { start: string; end: string };
export const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

type Wall = { year: number; month: number; day: number; minute: number };

function wallClock(at: Date, timeZone: string): Wall {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { year: +parts.year!, month: +parts.month!, day: +parts.day!, minute: +parts.hour! * 60 + +parts.minute! };
}

/** Offset of `timeZone` from UTC at `at`, in milliseconds. */
function offsetMs(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, 0, w.minute);
  return asUtc - Math.floor(at.getTime() / 60_000) * 60_000;
}

/** The instant a local wall-clock time happens; a time skipped by a DST jump resolves to just after it. */
export function instantOf(year: number, month: number, day: number, minute: number, timeZone: string): Date {
  const naive = Date.UTC(year, month - 1, day, 0, minute);
  let guess = naive - offsetMs(new Date(naive), timeZone);
  guess = naive - offsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** When the quiet window holding `at` ends, or undefined if `at` is outside it. */
export function quietUntil(at: Date, window: QuietHours, timeZone: string): Date | undefined {
  const start = minutes(window.start);
  const end = minutes(window.end);
  if (start === end) return undefined;
  const w = wallClock(at, timeZone);
  const crossesMidnight = start > end;
  const inside = crossesMidnight ? w.minute >= start || w.minute < end : w.minute >= start && w.minute < end;
  if (!inside) return undefined;
  // The window ends today, unless it started today and runs past midnight.
  const endsTomorrow = crossesMidnight && w.minute >= start;
  const day = new Date(Date.UTC(w.year, w.month - 1, w.day + (endsTomorrow ? 1 : 0)));
  return instantOf(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), end, timeZone);
}

/** The next instant after `after` at which it is `hhmm` on the wall clock in `timeZone` (workflow delays and digests). */
export function nextLocalTime(after: Date, hhmm: string, timeZone: string): Date {
  const w = wallClock(after, timeZone);
  const target = minutes(hhmm);
  for (let addDays = 0; addDays < 3; addDays++) {
    const day = new Date(Date.UTC(w.year, w.month - 1, w.day + addDays));
    const at = instantOf(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), target, timeZone);
    if (at.getTime() > after.getTime()) return at;
  }
  return new Date(after.getTime() + 86_400_000);
}
