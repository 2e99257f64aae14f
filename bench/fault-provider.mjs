/**
 * A fault-injecting provider mock on 127.0.0.1 for the soak (bench/soak.mjs), SendGrid-shaped
 * (`POST /v3/mail/send`, 202 with `X-Message-Id`) or Twilio-shaped (`POST
 * /2010-04-01/Accounts/{sid}/Messages.json`, 201 with a `sid`). A share of calls (`faultRate`) is
 * answered with one of FAULTS instead, chosen evenly:
 *
 * - `500`, `503`: refused, nothing sent;
 * - `429`: refused with `Retry-After` (1 or 2 s; Twilio's error 20429);
 * - `reset`: the connection is destroyed once the request is read, nothing sent;
 * - `hang-then-accept`: no answer for `hangMs` (past the caller's timeout), then the message is
 *   taken as sent: a real provider that was slow, not down. This is the fault that should produce
 *   double sends, and the one the reconciliation attributes them to.
 *
 * The choice is a keyed hash of (seed, mock name, message ref, n-th call for that ref here), not a
 * stream: the same seed gives every message the same faults whatever order the calls arrive in,
 * so a run can be repeated. The ref is the `[soak …]` tag the load generator writes into each
 * message's content (bench/soak-load.mjs); Herald's communication id is read from the request
 * (SendGrid's custom_args, Twilio's StatusCallback `?c=`) or an `Idempotency-Key` header.
 *
 * Every message taken as sent is recorded with the provider id it was given, so the reconciliation
 * can tell the acceptance Herald recorded from the ones it never heard of.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";

export const FAULTS = ["500", "503", "429", "reset", "hang-then-accept"];

/** A number in [0, 1) fixed by its inputs: the seeded RNG, one draw per key. */
export function draw(...key) {
  return createHash("sha256").update(key.join("|")).digest().readUInt32BE(0) / 2 ** 32;
}

/** The mode of the n-th call (0-based) for `ref` at mock `name`: "accept" or one of FAULTS. */
export function modeFor(seed, name, ref, n, faultRate) {
  if (draw(seed, name, ref, n, "fault") >= faultRate) return "accept";
  return FAULTS[Math.floor(draw(seed, name, ref, n, "kind") * FAULTS.length)];
}

const REF = /\[soak ([\w.-]+)\]/;

/** Herald's communication id and the soak's ref, from a request in either shape. */
function identify(shape, body, headers) {
  let id = null;
  let text = "";
  try {
    if (shape === "sendgrid") {
      const json = JSON.parse(body);
      id = json.personalizations?.[0]?.custom_args?.herald_communication_id ?? null;
      text = json.content?.map((c) => c.value).join("\n") ?? "";
    } else {
      const form = new URLSearchParams(body);
      const callback = form.get("StatusCallback");
      id = callback ? new URL(callback).searchParams.get("c") : null;
      text = form.get("Body") ?? "";
    }
  } catch {
    // left unidentified: the reconciliation reports those
  }
  return { id: headers["idempotency-key"] ?? id, ref: REF.exec(text)?.[1] ?? null };
}

/**
 * @param {{ name: string, shape: "sendgrid" | "twilio", seed: string, faultRate: number, hangMs: number, epoch: () => number }} options
 * `epoch` is the soak's restart counter, stamped on every call so a call cut off by a restart can
 * be told apart.
 */
export async function startFaultProvider({ name, shape, seed, faultRate, hangMs, epoch }) {
  const calls = []; // every call: { id, ref, n, mode, at, epoch }
  const accepted = []; // taken as sent: { id, ref, mode, providerMessageId, receivedAt, acceptedAt, epoch }
  const perRef = new Map();
  const sockets = new Set();
  const timers = new Set();
  let hanging = 0;
  const path = shape === "sendgrid" ? /^\/v3\/mail\/send$/ : /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Messages\.json$/;

  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.method !== "POST" || !path.test(req.url)) return void res.writeHead(404).end();
      const receivedAt = Date.now();
      const { id, ref } = identify(shape, body, req.headers);
      const key = ref ?? `unidentified-${calls.length}`;
      const n = perRef.get(key) ?? 0;
      perRef.set(key, n + 1);
      const mode = modeFor(seed, name, key, n, faultRate);
      const call = { id, ref, n, mode, at: receivedAt, epoch: epoch() };
      calls.push(call);
      const accept = () => {
        const providerMessageId = shape === "sendgrid" ? `${name}-${accepted.length + 1}` : `SM${randomBytes(16).toString("hex")}`;
        accepted.push({ id, ref, mode, providerMessageId, receivedAt, acceptedAt: Date.now(), epoch: call.epoch });
        return providerMessageId;
      };
      switch (mode) {
        case "accept": {
          const pid = accept();
          if (shape === "sendgrid") res.writeHead(202, { "x-message-id": pid }).end();
          else json(res, 201, { sid: pid, status: "queued" });
          return;
        }
        case "500":
        case "503":
          return shape === "sendgrid"
            ? json(res, Number(mode), { errors: [{ message: "simulated outage" }] })
            : json(res, Number(mode), { code: 20500, message: "simulated outage", status: Number(mode) });
        case "429": {
          const retryAfter = String(1 + Math.floor(draw(seed, name, key, n, "retry-after") * 2));
          const headers = { "retry-after": retryAfter };
          return shape === "sendgrid"
            ? json(res, 429, { errors: [{ message: "too many requests" }] }, headers)
            : json(res, 429, { code: 20429, message: "Too Many Requests", status: 429 }, headers);
        }
        case "reset":
          return void req.socket.destroy();
        case "hang-then-accept": {
          hanging++;
          const timer = setTimeout(() => {
            timers.delete(timer);
            hanging--;
            const pid = accept();
            // The caller gave up long ago; the answer goes nowhere, as a slow provider's would.
            if (!res.destroyed) {
              if (shape === "sendgrid") res.writeHead(202, { "x-message-id": pid }).end();
              else json(res, 201, { sid: pid, status: "queued" });
            }
          }, hangMs);
          timers.add(timer);
          return;
        }
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return {
    name,
    shape,
    origin: `http://127.0.0.1:${server.address().port}`,
    calls,
    accepted,
    /** Hung calls that have not been taken as sent yet: wait for 0 before reconciling. */
    hanging: () => hanging,
    close: () =>
      new Promise((done) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}
