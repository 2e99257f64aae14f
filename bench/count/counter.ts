/**
 * Counts what a piece of code costs in billed calls: D1 round trips and statements, Durable Object
 * calls and queue sends. It wraps the bindings themselves (never production code): D1 statements
 * and DO stubs become counting Proxies, and the methods that start a round trip (prepare/bind →
 * first/all/run/raw, batch, exec, and the same on a `withSession` session), reach an object
 * (`get`, `getByName`) or send (`send`, `sendBatch`) are replaced on the binding objects, calling
 * whatever was there before, a test's queue capture included. `restore()` puts them back.
 */

export type Counts = {
  /** Calls to D1: each statement run alone, each batch, each exec. */
  roundTrips: number;
  /** SQL statements those calls carried (a batch of three is one round trip, three statements). */
  statements: number;
  /** Calls on Durable Object stubs (RPC methods and fetch). */
  doCalls: number;
  /** `send` and `sendBatch` calls, over every queue producer. */
  queueSends: number;
  /** Messages those calls carried. */
  queueMessages: number;
};

const zero = (): Counts => ({ roundTrips: 0, statements: 0, doCalls: 0, queueSends: 0, queueMessages: 0 });

type Restore = () => void;

/** Replaces obj[name] with make(previous), remembering how to undo it. */
function patch<T extends object>(obj: T, name: string, make: (previous: (...args: any[]) => any) => (...args: any[]) => any): Restore {
  const own = Object.getOwnPropertyDescriptor(obj, name);
  const previous = (obj as any)[name] as (...args: any[]) => any;
  Object.defineProperty(obj, name, { value: make(Function.prototype.bind.call(previous, obj) as (...args: any[]) => any), configurable: true, writable: true });
  return () => (own ? Object.defineProperty(obj, name, own) : delete (obj as any)[name]);
}

const RUNS = new Set(["first", "all", "run", "raw"]);

/** D1 statements, wrapped: the proxies go back to their targets before a native batch sees them. */
function d1Counter(counts: Counts) {
  const targets = new WeakMap<object, D1PreparedStatement>();
  const unwrap = (s: D1PreparedStatement) => targets.get(s) ?? s;
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrap(Reflect.apply(value, target, args));
        if (typeof prop === "string" && RUNS.has(prop)) {
          return (...args: unknown[]) => {
            counts.roundTrips++;
            counts.statements++;
            return Reflect.apply(value, target, args);
          };
        }
        return value.bind(target);
      },
    });
    targets.set(proxy, statement);
    return proxy;
  };
  /** prepare, batch and exec on a database or a session. */
  const instrument = (db: D1Database | D1DatabaseSession): Restore[] => [
    patch(db, "prepare", (prepare) => (sql: string) => wrap(prepare(sql))),
    patch(db, "batch", (batch) => (statements: D1PreparedStatement[]) => {
      counts.roundTrips++;
      counts.statements += statements.length;
      return batch(statements.map(unwrap));
    }),
    ...("exec" in db
      ? [
          patch(db, "exec", (exec) => (sql: string) => {
            counts.roundTrips++;
            counts.statements += sql.split(";").filter((s) => s.trim()).length;
            return exec(sql);
          }),
        ]
      : []),
  ];
  return (db: D1Database): Restore[] => [
    ...instrument(db),
    ...("withSession" in db
      ? [
          patch(db, "withSession", (withSession) => (constraint?: string) => {
            const session = withSession(constraint) as D1DatabaseSession;
            instrument(session);
            return session;
          }),
        ]
      : []),
  ];
}

/** A DO stub whose method calls are counted. */
function countedStub<T extends object>(stub: T, counts: Counts): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function" || typeof prop !== "string" || prop === "then" || prop === "constructor") return value;
      return (...args: unknown[]) => {
        counts.doCalls++;
        return Reflect.apply(value, target, args);
      };
    },
  });
}

// By class, not by duck typing: a service binding (Fetcher) answers every property name with an
// RPC method, so it would look like a queue and a database at once.
const kind = (v: unknown) => (typeof v === "object" && v !== null ? v.constructor?.name : undefined);
const isQueue = (v: unknown): v is Queue<unknown> => kind(v) === "WorkerQueue";
const isNamespace = (v: unknown): v is DurableObjectNamespace => kind(v) === "DurableObjectNamespace";
const isD1 = (v: unknown): v is D1Database => kind(v) === "D1Database";

/**
 * Counts every D1, Durable Object namespace and queue binding found on `env` until `restore()`.
 * `take()` returns the counts so far and starts again from zero.
 */
export function countBindings(env: object) {
  let counts = zero();
  const live = () => counts;
  // The wrappers read the current object through this forwarder, so take() can swap it.
  const sink: Counts = new Proxy({} as Counts, {
    get: (_, p) => (live() as any)[p],
    set: (_, p, v) => (((live() as any)[p] = v), true),
  });
  const restores: Restore[] = [];
  const d1 = d1Counter(sink);
  for (const binding of Object.values(env)) {
    if (isD1(binding)) restores.push(...d1(binding));
    else if (isQueue(binding)) {
      restores.push(
        patch(binding, "send", (send) => (body: unknown, options?: unknown) => {
          sink.queueSends++;
          sink.queueMessages++;
          return send(body, options);
        }),
        patch(binding, "sendBatch", (sendBatch) => (messages: unknown[], options?: unknown) => {
          sink.queueSends++;
          sink.queueMessages += messages.length;
          return sendBatch(messages, options);
        }),
      );
    } else if (isNamespace(binding)) {
      restores.push(patch(binding, "get", (get) => (...args: unknown[]) => countedStub(get(...args), sink)));
      if (typeof (binding as { getByName?: unknown }).getByName === "function") {
        restores.push(patch(binding, "getByName", (getByName) => (...args: unknown[]) => countedStub(getByName(...args), sink)));
      }
    }
  }
  return {
    take(): Counts {
      const taken = counts;
      counts = zero();
      return taken;
    },
    restore() {
      for (const undo of restores.reverse()) undo();
    },
  };
}
