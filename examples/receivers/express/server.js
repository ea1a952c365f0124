// An Inference.net webhook receiver for Express 5.
//
//   WEBHOOK_HARNESS_WEBHOOK_ID=... node server.js [PORT]
//
// Answers the OPTIONS readiness check, verifies X-Inference-Webhook-ID, accepts
// both payload dialects, performs each event's effect at most once, and answers
// within milliseconds. The handled keys are kept in SQLite, in the file
// WEBHOOK_HARNESS_DB (default: webhooks.sqlite3 beside this file), so a restart
// forgets none and several processes on one file share them. With
// WEBHOOK_HARNESS_TEST_PROBE=1 it also serves GET /test/effects?key=KEY for
// webhook-harness.
import { createHash, timingSafeEqual } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import express from "express";

const WEBHOOK_ID = process.env.WEBHOOK_HARNESS_WEBHOOK_ID;
if (!WEBHOOK_ID) {
  console.error("error: set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier");
  process.exit(2);
}
const TEST_PROBE = process.env.WEBHOOK_HARNESS_TEST_PROBE === "1";
const PORT = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const HOST = process.env.HOST ?? "127.0.0.1";
const DB_PATH = process.env.WEBHOOK_HARNESS_DB || fileURLToPath(new URL("webhooks.sqlite3", import.meta.url));

// Payloads go up to 10 MB; express.json() refuses anything over 100 kB by default.
const BODY_LIMIT = "10mb";

const nonEmptyString = (v) => (typeof v === "string" && v !== "" ? v : undefined);

// The idempotency key of each known event, in the current dialect (data.id,
// groupId) or else the legacy one (generation_id, group_id).
const generationKey = (body) => nonEmptyString(body.data?.id) ?? nonEmptyString(body.generation_id);
const groupKey = (body) => nonEmptyString(body.groupId) ?? nonEmptyString(body.group_id);
// A Map, not an object literal: an event named "constructor" or "__proto__"
// must not find Object.prototype's members.
const KEY_OF = new Map([
  ["generation.completed", generationKey],
  ["async-embedding.completed", generationKey],
  ["slow-group.completed", groupKey],
]);

// Compares digests, so the comparison takes the same time whatever the header
// holds, and timingSafeEqual never sees buffers of different lengths.
const sha256 = (s) => createHash("sha256").update(s, "utf8").digest();
const EXPECTED_DIGEST = sha256(WEBHOOK_ID);
function isOurWebhook(header) {
  return typeof header === "string" && timingSafeEqual(sha256(header), EXPECTED_DIGEST);
}

// The handled keys, in SQLite rather than a Map: a Map is lost at every restart
// and is not shared by several workers or replicas, so a retry that reaches
// another process would do the work again. The primary key makes the claim
// atomic across processes. timeout: wait up to 5 s for another process's write
// instead of failing (better-sqlite3 is synchronous: the wait blocks this process).
const db = new Database(DB_PATH, { timeout: 5000 });
// Several copies may start at once on a new file: switching it to WAL (one
// writer and many readers at a time, across processes) can report "busy"
// despite the timeout, so try again.
for (let attempt = 1; ; attempt++) {
  try {
    db.pragma("journal_mode = WAL");
    db.exec(`CREATE TABLE IF NOT EXISTS handled (
      key TEXT PRIMARY KEY,
      event TEXT NOT NULL,
      handled_at TEXT NOT NULL
    )`);
    break;
  } catch (err) {
    if (!err.code?.startsWith("SQLITE_BUSY") || attempt === 50) throw err;
    await sleep(100);
  }
}
const claimKey = db.prepare(
  "INSERT INTO handled (key, event, handled_at) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING",
);
const countHandled = db.prepare("SELECT count(*) AS count FROM handled WHERE key = ?");

function handOff(event, key) {
  // Heavy work (storing the completion, notifying users, ...) does not belong in
  // the request: push a job to your queue here (BullMQ, SQS, an outbox row) and
  // let a worker do it. This example only logs it once the answer has gone out.
  setImmediate(() => console.log(`processing ${event} ${key}`));
}

const app = express();
app.disable("x-powered-by");

// The sender's readiness check: OPTIONS on the endpoint (answered on any path).
app.use((req, res, next) => {
  if (req.method !== "OPTIONS") return next();
  res
    .status(200)
    .set({
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Methods": "POST, OPTIONS",
      "Access-Control-Allow-Headers": "Content-Type",
    })
    .end();
});

// Checked before the body is parsed: a stranger's 10 MB body is never read into memory.
function verifyWebhookId(req, res, next) {
  if (!isOurWebhook(req.get("X-Inference-Webhook-ID"))) {
    return res.status(401).json({ success: false, message: "unknown webhook" });
  }
  next();
}

app.post("/webhook", verifyWebhookId, express.json({ limit: BODY_LIMIT }), (req, res) => {
  const body = req.body;
  if (body === undefined) {
    // express.json() only parses application/json bodies.
    return res.status(415).json({ success: false, message: "expected Content-Type: application/json" });
  }
  if (body === null || typeof body !== "object" || Array.isArray(body) || typeof body.event !== "string") {
    return res.status(400).json({ success: false, message: "expected a JSON object with a string `event`" });
  }
  const { event } = body;
  if (event === "webhook.test") {
    // The dashboard's ping: nothing to do, whatever else it carries.
    return res.status(200).json({ success: true, test: true });
  }
  const keyOf = KEY_OF.get(event);
  if (!keyOf) {
    return res.status(200).json({ success: true, ignored: true });
  }
  const key = keyOf(body);
  if (key === undefined) {
    return res.status(400).json({ success: false, message: `${event} without its id` });
  }

  // Claim the key before acting, in one INSERT: of concurrent copies (in this
  // process or another), only the one that inserted the row hands off the work.
  const { changes } = claimKey.run(key, event, new Date().toISOString());
  if (changes === 0) {
    return res.status(200).json({ success: true, duplicate: true });
  }
  handOff(event, key);
  res.status(200).json({ success: true });
});

if (TEST_PROBE) {
  // Test-only: how many times the effect ran for a key, for webhook-harness,
  // read from the database that every process shares.
  app.get("/test/effects", (req, res) => {
    const key = req.query.key;
    if (typeof key !== "string") {
      return res.status(400).json({ success: false, message: "give ?key=KEY" });
    }
    res.json({ key, count: countHandled.get(key).count });
  });
}

app.use((req, res) => {
  res.status(404).json({ success: false, message: "not found" });
});

// Parser errors (malformed JSON 400, too large 413, bad charset 415) keep their
// 4xx status; anything else is a 500 without details.
app.use((err, req, res, next) => {
  const status = Number.isInteger(err.status) && err.status >= 400 && err.status < 600 ? err.status : 500;
  if (status >= 500) console.error(err);
  if (res.headersSent) return next(err);
  res.status(status).json({ success: false, message: status < 500 && err.expose ? err.message : "internal error" });
});

const server = app.listen(PORT, HOST, (err) => {
  if (err) {
    console.error(`error: cannot listen on ${HOST}:${PORT}: ${err.message}`);
    process.exit(1);
  }
  // The port it got, not the one asked for: with PORT=0 the system picks one.
  const { port } = server.address();
  console.log(`listening on http://${HOST}:${port}/webhook${TEST_PROBE ? " (test probe on /test/effects)" : ""}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
