// An Inference.net webhook receiver for Bun: the seed page's Bun server, made
// correct.
//
//   WEBHOOK_HARNESS_WEBHOOK_ID=... bun server.ts [PORT]
//
// What the seed page's example leaves out, and this one does:
// - it verifies X-Inference-Webhook-ID (401 otherwise), in constant time;
// - malformed JSON or a body that is not an object is answered 400, not 500
//   (the seed's `await req.json()` throws, and Bun answers 500: the sender retries);
// - it accepts both dialects and checks the event type before acting;
// - each event's effect runs at most once, also for concurrent copies, after a
//   restart and across several processes: the handled keys are kept in SQLite,
//   in the file WEBHOOK_HARNESS_DB (default: webhooks.sqlite3 beside this file);
// - it logs the event and its id, not every header (X-Inference-Webhook-ID is
//   a secret) and not the body (up to 10 MB);
// - it listens on 127.0.0.1 only, unless HOST says otherwise.
// With WEBHOOK_HARNESS_TEST_PROBE=1 it also serves GET /test/effects?key=KEY.
import { Database } from "bun:sqlite";
import { createHash, timingSafeEqual } from "node:crypto";
import { join } from "node:path";

const WEBHOOK_ID = process.env.WEBHOOK_HARNESS_WEBHOOK_ID;
if (!WEBHOOK_ID) {
  console.error("error: set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier");
  process.exit(2);
}
const TEST_PROBE = process.env.WEBHOOK_HARNESS_TEST_PROBE === "1";
const PORT = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const HOST = process.env.HOST ?? "127.0.0.1";
const DB_PATH = process.env.WEBHOOK_HARNESS_DB || join(import.meta.dir, "webhooks.sqlite3");

// Payloads go up to 10 MB. Bun's default limit is 128 MB: keep it near what is needed.
const MAX_BODY_BYTES = 10 * 1024 * 1024;

const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "POST, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type",
};

type Payload = Record<string, unknown>;

// Not well-formed (a lone surrogate, "\ud800" in the JSON): SQLite would store
// it as U+FFFD, the same as another such key.
const nonEmptyString = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" && v.isWellFormed() ? v : undefined;

// The idempotency key of each known event, in the current dialect (data.id,
// groupId) or else the legacy one (generation_id, group_id).
const generationKey = (body: Payload) => {
  const data = body.data;
  const current =
    data !== null && typeof data === "object" ? nonEmptyString((data as Payload).id) : undefined;
  return current ?? nonEmptyString(body.generation_id);
};
const groupKey = (body: Payload) => nonEmptyString(body.groupId) ?? nonEmptyString(body.group_id);
// A Map, not an object literal: an event named "constructor" or "__proto__"
// must not find Object.prototype's members.
const KEY_OF = new Map<string, (body: Payload) => string | undefined>([
  ["generation.completed", generationKey],
  ["async-embedding.completed", generationKey],
  ["slow-group.completed", groupKey],
]);

// Compares digests, so the comparison takes the same time whatever the header
// holds, and timingSafeEqual never sees buffers of different lengths.
const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();
const EXPECTED_DIGEST = sha256(WEBHOOK_ID);
const isOurWebhook = (header: string | null) =>
  header !== null && timingSafeEqual(sha256(header), EXPECTED_DIGEST);

// The handled keys, in SQLite rather than a Map: a Map is lost at every restart
// and is not shared by several workers or replicas, so a retry that reaches
// another process would do the work again. The primary key makes the claim
// atomic across processes.
const db = new Database(DB_PATH, { create: true });
// Wait up to 5 s for another process's write instead of failing (bun:sqlite is
// synchronous: the wait blocks this process).
db.run("PRAGMA busy_timeout = 5000");
// Several copies may start at once on a new file: switching it to WAL (one
// writer and many readers at a time, across processes) can report "busy"
// despite the timeout, so try again.
for (let attempt = 1; ; attempt++) {
  try {
    db.run("PRAGMA journal_mode = WAL");
    db.run(`CREATE TABLE IF NOT EXISTS handled (
      key TEXT PRIMARY KEY,
      event TEXT NOT NULL,
      handled_at TEXT NOT NULL
    )`);
    break;
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (!code.startsWith("SQLITE_BUSY") || attempt === 50) throw err;
    Bun.sleepSync(100);
  }
}
const claimKey = db.query<unknown, [string, string, string]>(
  "INSERT INTO handled (key, event, handled_at) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING",
);
const countHandled = db.query<{ count: number }, [string]>(
  "SELECT count(*) AS count FROM handled WHERE key = ?",
);

function handOff(event: string, key: string) {
  // Heavy work (storing the completion, notifying users, ...) does not belong in
  // the request: push a job to your queue here (BullMQ, SQS, an outbox row) and
  // let a worker do it. This example only logs it once the answer has gone out.
  setImmediate(() => console.log(`processing ${event} ${key}`));
}

const json = (body: unknown, status = 200) => Response.json(body, { status });
const error = (status: number, message: string) => json({ success: false, message }, status);

async function handleWebhook(req: Request): Promise<Response> {
  // Checked before the body is read: a stranger's 10 MB body is never read.
  if (!isOurWebhook(req.headers.get("x-inference-webhook-id"))) {
    return error(401, "unknown webhook");
  }
  const mediaType = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json") {
    return error(415, "expected Content-Type: application/json");
  }
  let body: unknown;
  try {
    body = JSON.parse(await req.text());
  } catch {
    return error(400, "malformed JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return error(400, "expected a JSON object with a string `event`");
  }
  const payload = body as Payload;
  const event = payload.event;
  if (typeof event !== "string") {
    return error(400, "expected a JSON object with a string `event`");
  }
  if (event === "webhook.test") {
    // The dashboard's ping: nothing to do, whatever else it carries.
    return json({ success: true, test: true });
  }
  const keyOf = KEY_OF.get(event);
  if (!keyOf) {
    return json({ success: true, ignored: true });
  }
  const key = keyOf(payload);
  if (key === undefined) {
    return error(400, `${event} without its id`);
  }

  // Claim the key before acting, in one INSERT: of concurrent copies (in this
  // process or another), only the one that inserted the row hands off the work.
  const { changes } = claimKey.run(key, event, new Date().toISOString());
  if (changes === 0) {
    return json({ success: true, duplicate: true });
  }
  handOff(event, key);
  return json({ success: true });
}

const server = Bun.serve({
  hostname: HOST,
  port: PORT,
  maxRequestBodySize: MAX_BODY_BYTES,
  fetch: async (req) => {
    const url = new URL(req.url);

    // The sender's readiness check: OPTIONS on the endpoint (answered on any path).
    if (req.method === "OPTIONS") {
      return new Response(null, { status: 200, headers: CORS_HEADERS });
    }

    if (req.method === "POST" && url.pathname === "/webhook") {
      return handleWebhook(req);
    }

    if (TEST_PROBE && req.method === "GET" && url.pathname === "/test/effects") {
      // Test-only: how many times the effect ran for a key, for webhook-harness,
      // read from the database that every process shares.
      const key = url.searchParams.get("key");
      if (key === null) return error(400, "give ?key=KEY");
      return json({ key, count: countHandled.get(key)!.count });
    }

    return error(404, "not found");
  },
  // A bug in a handler is a 500 without details (Bun's default shows an error page).
  error(err) {
    console.error(err);
    return error(500, "internal error");
  },
});

console.log(
  `listening on http://${server.hostname}:${server.port}/webhook${TEST_PROBE ? " (test probe on /test/effects)" : ""}`,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.stop();
    process.exit(0);
  });
}
