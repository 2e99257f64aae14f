/**
 * What blanked data says in place of itself. Retention expires old content (`REDACTED`); an
 * erasure request removes a person's (`ERASED`). Rows keep their place (counts, stats, dedupe keys
 * stay true), so readers meet these values and must not take them for a contact or a text.
 */
export const REDACTED = "[redacted]";
export const ERASED = "[erased]";

/** A stored value that is a marker, not data (a contact to look up, a text to show as written). */
export const isMarker = (value: string) => value === REDACTED || value === ERASED;
