"""An Inference.net webhook receiver for FastAPI.

    WEBHOOK_HARNESS_WEBHOOK_ID=... uvicorn app:app --host 127.0.0.1 --port PORT

Answers the OPTIONS readiness check, verifies X-Inference-Webhook-ID, accepts
both payload dialects, performs each event's effect at most once, and answers
within milliseconds. The handled keys are kept in SQLite, in the file
WEBHOOK_HARNESS_DB (default: webhooks.sqlite3 beside this file), so a restart
forgets none and several processes on one file share them. With
WEBHOOK_HARNESS_TEST_PROBE=1 it also serves GET /test/effects?key=KEY for
webhook-harness.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

WEBHOOK_ID = os.environ.get("WEBHOOK_HARNESS_WEBHOOK_ID", "")
if not WEBHOOK_ID:
    sys.exit("error: set WEBHOOK_HARNESS_WEBHOOK_ID to your webhook identifier")
TEST_PROBE = os.environ.get("WEBHOOK_HARNESS_TEST_PROBE") == "1"
DB_PATH = os.environ.get("WEBHOOK_HARNESS_DB") or str(Path(__file__).with_name("webhooks.sqlite3"))

# Payloads go up to 10 MB. Neither uvicorn nor Starlette limits a body, so the
# limit is ours to set: enough for every real payload, not unbounded.
MAX_BODY_BYTES = 10 * 1024 * 1024

log = logging.getLogger("receiver")
logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}

# The handled keys, in SQLite rather than a dict: a dict is lost at every
# restart and is not shared by several workers or replicas, so a retry that
# reaches another process would do the work again. The primary key makes the
# claim atomic across processes.
SCHEMA = """CREATE TABLE IF NOT EXISTS handled (
    key TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    handled_at TEXT NOT NULL
)"""
# One connection for the process, used by one thread at a time (db_lock): the
# thread pool's threads then take turns without delay, where a connection per
# thread would make them wait for each other in SQLite's busy handler, which
# sleeps up to 100 ms at a time. isolation_level=None: each statement commits
# by itself.
db = sqlite3.connect(DB_PATH, isolation_level=None, check_same_thread=False)
db_lock = threading.Lock()
# Wait up to 5 s for another process's write instead of failing.
db.execute("PRAGMA busy_timeout = 5000")


def init_db() -> None:
    # Several copies may start at once on a new file: switching it to WAL (one
    # writer and many readers at a time, across processes) can report "busy"
    # despite the busy timeout, so try again.
    for attempt in range(50):
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(SCHEMA)
            return
        except sqlite3.OperationalError as e:
            if not e.sqlite_errorname.startswith("SQLITE_BUSY") or attempt == 49:
                raise
            time.sleep(0.1)


def claim(key: str, event: str) -> bool:
    # One atomic statement: True for the one copy that inserted the row.
    with db_lock:
        cursor = db.execute(
            "INSERT INTO handled (key, event, handled_at) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING",
            (key, event, datetime.now(timezone.utc).isoformat()),
        )
        return cursor.rowcount == 1


jobs: asyncio.Queue[tuple[str, str]] = asyncio.Queue()


async def worker() -> None:
    # Heavy work (storing the completion, notifying users, ...) does not belong
    # in the request: the handler puts a job on a queue and a worker does it.
    # In production use a durable queue (Celery, RQ, SQS, an outbox table);
    # this example only logs the job.
    while True:
        event, key = await jobs.get()
        log.info("processing %s %s", event, key)
        jobs.task_done()


@asynccontextmanager
async def lifespan(app: FastAPI):
    init_db()  # before uvicorn accepts the first request
    task = asyncio.create_task(worker())
    yield
    task.cancel()


app = FastAPI(lifespan=lifespan, openapi_url=None)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status_code=status)


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


_EXPECTED_DIGEST = _digest(WEBHOOK_ID.encode())


def is_our_webhook(request: Request) -> bool:
    # Raw bytes, so a non-ASCII header cannot make compare_digest raise; exactly
    # one header, as the sender sends; digests, so the comparison time does not
    # depend on where the values differ.
    values = [v for k, v in request.scope["headers"] if k == b"x-inference-webhook-id"]
    return len(values) == 1 and hmac.compare_digest(_digest(values[0]), _EXPECTED_DIGEST)


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
    return bytes(body)


def non_empty_str(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        value.encode()  # sqlite3 cannot store a lone surrogate ("\ud800" in the JSON)
    except UnicodeEncodeError:
        return None
    return value


def generation_key(payload: dict) -> str | None:
    # Current dialect: data.id; legacy dialect: top-level generation_id.
    data = payload.get("data")
    current = non_empty_str(data.get("id")) if isinstance(data, dict) else None
    return current or non_empty_str(payload.get("generation_id"))


def group_key(payload: dict) -> str | None:
    # Current dialect: groupId; legacy dialect: group_id.
    return non_empty_str(payload.get("groupId")) or non_empty_str(payload.get("group_id"))


KEY_OF = {
    "generation.completed": generation_key,
    "async-embedding.completed": generation_key,
    "slow-group.completed": group_key,
}


class ReadinessCheck:
    """The sender's readiness check: OPTIONS on the endpoint, answered on any path.

    A pure ASGI middleware rather than an `@app.options("/{path:path}")` route,
    which would turn every unknown path's 404 into a 405.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            await Response(status_code=200, headers=CORS_HEADERS)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


app.add_middleware(ReadinessCheck)


@app.post("/webhook")
async def webhook(request: Request) -> JSONResponse:
    # Checked before the body is read: a stranger's 10 MB body is never read.
    if not is_our_webhook(request):
        return error(401, "unknown webhook")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return error(415, "expected Content-Type: application/json")
    try:
        raw = await read_body(request)
    except BodyTooLarge:
        return error(413, f"body over {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # also invalid UTF-8 and absurd nesting
        return error(400, "malformed JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        return error(400, "expected a JSON object with a string `event`")

    event = payload["event"]
    if event == "webhook.test":
        # The dashboard's ping: nothing to do, whatever else it carries.
        return JSONResponse({"success": True, "test": True})
    key_of = KEY_OF.get(event)
    if key_of is None:
        return JSONResponse({"success": True, "ignored": True})
    key = key_of(payload)
    if key is None:
        return error(400, f"{event} without its id")

    # Claim the key before acting, in one INSERT: of concurrent copies (in this
    # process or another), only the one that inserted the row hands off the work.
    # sqlite3 blocks, so it runs in the thread pool, off the event loop.
    if not await run_in_threadpool(claim, key, event):
        return JSONResponse({"success": True, "duplicate": True})
    jobs.put_nowait((event, key))
    return JSONResponse({"success": True})


if TEST_PROBE:

    # Test-only: how many times the effect ran for a key, for webhook-harness,
    # read from the database that every process shares. A plain `def`: FastAPI
    # runs it in the thread pool.
    @app.get("/test/effects")
    def test_effects(key: str) -> dict:
        with db_lock:
            (count,) = db.execute("SELECT count(*) FROM handled WHERE key = ?", (key,)).fetchone()
        return {"key": key, "count": count}
