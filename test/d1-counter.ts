/**
 * A D1 binding behind a counter, for tests that hold a path to a round-trip budget. Every
 * `batch()` and every single-statement run is one round trip; each statement is kept with its SQL,
 * so a test can ask how many touched a table. API requests run in a D1 session
 * (src/api/middleware/d1-session.ts), so sessions count into the same totals.
 */
export function countingDb(d1: D1Database, counts = { roundTrips: 0, statements: [] as string[] }) {
  const sqlOf = new WeakMap<object, string>();
  const instrument = (s: D1PreparedStatement, sql: string): D1PreparedStatement => {
    sqlOf.set(s, sql);
    const bind = s.bind.bind(s);
    s.bind = (...values: unknown[]) => instrument(bind(...values), sql);
    for (const method of ["run", "all", "first", "raw"] as const) {
      const original = (s[method] as (...a: unknown[]) => Promise<unknown>).bind(s);
      (s as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
        counts.roundTrips++;
        counts.statements.push(sql);
        return original(...a);
      };
    }
    return s;
  };
  const db = new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => instrument(target.prepare(sql), sql);
      // API requests run in a D1 session (src/api/middleware/d1-session.ts): count through it.
      if (prop === "withSession") return (constraint?: string) => countingDb(target.withSession(constraint) as unknown as D1Database, counts).db;
      if (prop === "batch")
        return (statements: D1PreparedStatement[]) => {
          counts.roundTrips++;
          counts.statements.push(...statements.map((s) => sqlOf.get(s) ?? "?"));
          return target.batch(statements);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, counts };
}
