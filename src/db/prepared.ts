/**
 * Hot statements as SQL text written once, bound per call (issue 18 §6). A CPU profile put 25%
 * (API) to 43% (delivery) of the JavaScript in drizzle building queries: its builder walks the
 * table's columns, assembles SQL chunks and escapes names on every call, for statements whose
 * text never changes. Here the text is built from the same drizzle table (so a schema change
 * moves both), once per shape, and each call only encodes its values with the columns' own
 * encoders (timestamps to ms, JSON to text, booleans to 0/1) and binds them.
 *
 * A `Prepared` sits in drizzle's `db.batch()` beside builder queries, so the typed helpers keep
 * their signatures and their callers' batches stay one round trip. It speaks the batch protocol
 * of drizzle-orm 0.45's D1 driver (`d1/session.js`, `batch()`: `_prepare()`, `getQuery()`, `stmt`,
 * `mapResult()`); the delivery and accept contract tests run every hot path through it.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import type { Db } from "./client";

type Encoder = { key: string; name: string; encode: (value: unknown) => unknown };

/** The table's columns in declaration order: property name, column name, driver encoder. */
export function columnsOf(table: Table): Encoder[] {
  return Object.entries(getTableColumns(table)).map(([key, c]) => {
    const fallback = () => (c.defaultFn ? c.defaultFn() : c.default !== undefined && !isSql(c.default) ? c.default : null);
    return {
      key,
      name: c.name,
      encode: (value: unknown) => {
        const v = value === undefined ? fallback() : value;
        return v === null ? null : c.mapToDriverValue(v);
      },
    };
  });
}

const isSql = (v: unknown) => typeof v === "object" && v !== null && "queryChunks" in v;

export const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const tableName = (table: Table) => quote(getTableName(table));

/**
 * Turns rows D1 returns (objects keyed by column name) into the table's typed shape, decoding
 * each value with its column's own decoder, as drizzle's result mapping does. `only` picks the
 * properties a narrower select returns.
 */
export function decoder<R>(table: Table, only?: string[]) {
  const columns = Object.entries(getTableColumns(table))
    .filter(([key]) => !only || only.includes(key))
    .map(([key, c]) => ({ key, name: c.name, decode: (v: unknown) => (v === null || v === undefined ? null : c.mapFromDriverValue(v)) }));
  return {
    names: columns.map((c) => quote(c.name)).join(", "),
    rows: (result: D1Result) => (result.results as Record<string, unknown>[]).map((row) => Object.fromEntries(columns.map((c) => [c.key, c.decode(row[c.name])])) as R),
  };
}

/** `?, ?, …` for `n` parameters, one text per n. */
const placeholderTexts: string[] = [];
export const placeholders = (n: number) => (placeholderTexts[n] ??= Array.from({ length: n }, () => "?").join(", "));

/** A bound statement drizzle's batch runs as it is; its result is the D1 result (or `map` of it). */
export class Prepared<T = D1Result> {
  readonly stmt: D1PreparedStatement;
  constructor(
    db: Db,
    readonly sql: string,
    readonly params: unknown[],
    private readonly map: (result: D1Result) => T = (r) => r as T,
  ) {
    this.stmt = db.$client.prepare(sql);
  }
  /** drizzle's batch asks each item for a prepared query; this is already one. */
  _prepare() {
    return this;
  }
  getQuery() {
    return { sql: this.sql, params: this.params };
  }
  mapResult(result: unknown) {
    return this.map(result as D1Result);
  }
  async run(): Promise<T> {
    return this.map(await this.stmt.bind(...this.params).run());
  }
}

/** The same statement, typed for the batch lists the helpers' callers build. */
export const batchItem = (p: Prepared<unknown>) => p as unknown as BatchItem<"sqlite">;

/**
 * `INSERT INTO t (every column) VALUES (?, …), …` for `rows` rows, and a function turning rows
 * into its parameters. One text per row count, built on first use.
 */
export function inserter<R extends object>(table: Table, suffix = "") {
  const columns = columnsOf(table);
  const head = `insert into ${tableName(table)} (${columns.map((c) => quote(c.name)).join(", ")}) values `;
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const texts = new Map<number, string>();
  return {
    sql(rows: number) {
      let text = texts.get(rows);
      if (!text) texts.set(rows, (text = head + Array.from({ length: rows }, () => tuple).join(", ") + suffix));
      return text;
    },
    params: (rows: R[]) => rows.flatMap((row) => columns.map((c) => c.encode((row as Record<string, unknown>)[c.key]))),
    columns,
  };
}
