"""A local fake Mastodon instance for fault tests and the fan-out benchmark.

It answers, on 127.0.0.1, the part of the documented Mastodon REST API that Legation's Mastodon provider uses to
publish and to reconcile: ``POST /api/v1/statuses`` (honouring ``Idempotency-Key`` per account, as Mastodon
does: a repeated key returns the status created the first time), ``GET/PUT/DELETE /api/v1/statuses/:id``,
``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/:id/statuses`` (id pagination with
``min_id``/``max_id``/``since_id``/``limit``) and ``GET /api/v1/instance`` / ``/api/v2/instance``.

What makes it useful for fault testing:

- ``latency``: seconds added to every API answer (the benchmark uses 0.2);
- rate limits as Mastodon enforces them with rack-attack: fixed windows aligned on the clock, per access token
  and for all requests together (every client here has the same address); every answer carries
  ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (ISO 8601), and a refused request
  gets ``429 {"error": "Too many requests"}``, with ``Retry-After`` too when ``retry_after_header`` is set;
- faults on ``POST /api/v1/statuses``: a scripted queue (:meth:`FakeMastodon.script`) and random fractions
  (:class:`Faults`): ``5xx`` refused before any work, ``5xx_after`` (the status was created, then the gateway
  failed), ``timeout`` (the status was created and the answer comes too late), ``429`` and bursts of 429.

Every status created is kept per account, so a test counts duplicates with :meth:`FakeMastodon.duplicates`.

The server can run inside a test (:func:`running`) or as its own process for the benchmark
(``python -m legation.publishing.tests.fake_mastodon --port 0 ...``); a process is controlled through a few
``/_fake/...`` endpoints that are not part of Mastodon's API.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import itertools
import json
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DOMAIN = "fake.mastodon.test"


@dataclass
class Faults:
    """Random faults on ``POST /api/v1/statuses``, as fractions of requests (0 to 1)."""

    error_5xx: float = 0.0  # 503 before anything is done
    error_5xx_after: float = 0.0  # the status is created, then a 502 comes back (a failing proxy)
    timeout: float = 0.0  # the status is created, then the answer is held for ``hang`` seconds
    rate_429: float = 0.0  # an unexplained 429 with Retry-After
    hang: float = 2.0
    seed: int = 1


@dataclass
class RateLimit:
    """``limit`` requests per ``window`` seconds (fixed windows, as rack-attack counts them)."""

    limit: int
    window: float


class Clock:
    """The platform's time; tests replace it with :class:`ManualClock` to wait out windows without sleeping."""

    def now(self) -> float:
        return time.time()


class ManualClock(Clock):
    """The real clock plus the time tests skip with :meth:`advance`. It runs on between skips: a wait the
    delivery asks for is measured in real time from the 429, so a platform clock that stood still while the test
    worked would be behind by that work when the wait is skipped (and the retry would meet the old window on a
    loaded machine)."""

    def __init__(self, start: float | None = None) -> None:
        self._offset = 0.0 if start is None else start - time.time()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)


@dataclass
class Account:
    id: str
    username: str
    token: str
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, str] = field(default_factory=dict)  # key -> status id
    created: list[str] = field(default_factory=list)  # texts of every status ever created, in order

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "username": self.username, "acct": self.username, "display_name": self.username,
            "locked": False, "bot": False, "discoverable": True, "group": False,
            "created_at": "2024-01-01T00:00:00.000Z", "note": "", "url": f"https://{DOMAIN}/@{self.username}",
            "avatar": f"https://{DOMAIN}/avatars/original/missing.png",
            "avatar_static": f"https://{DOMAIN}/avatars/original/missing.png",
            "header": f"https://{DOMAIN}/headers/original/missing.png",
            "header_static": f"https://{DOMAIN}/headers/original/missing.png",
            "followers_count": 0, "following_count": 0, "statuses_count": len(self.statuses),
            "last_status_at": None, "emojis": [], "fields": [],
        }


def status_html(text: str) -> str:
    """Plain text as Mastodon renders it: paragraphs on blank lines, ``<br />`` for single line breaks."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
    return "".join(f"<p>{html.escape(p, quote=False).replace(chr(10), '<br />')}</p>" for p in paragraphs)


class Refused(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class FakeMastodon:
    """The instance's state and its answers; thread-safe (the HTTP server answers each request in a thread)."""

    def __init__(self, *, latency: float = 0.0, per_token: RateLimit | None = None,
                 per_address: RateLimit | None = None, faults: Faults | None = None,
                 retry_after_header: bool = False, clock: Clock | None = None) -> None:
        self.latency = latency
        self.per_token = per_token
        self.per_address = per_address
        self.faults = faults or Faults()
        self.retry_after_header = retry_after_header
        self.clock = clock or Clock()
        self.base_url = ""
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}  # by token
        self.scripted: list[str] = []
        self.burst = 0  # the next ``burst`` API requests are answered 429
        self.replays = 0  # statuses answered again for a repeated Idempotency-Key
        self.requests: Counter[str] = Counter()  # "POST /api/v1/statuses 200" -> count
        self.windows: dict[tuple[str, int], int] = {}
        self.random = random.Random(self.faults.seed)
        self._ids = itertools.count(int(self.clock.now() * 1000) << 16)
        self._account_ids = itertools.count(110000000000000001)

    # -- set-up and inspection ---------------------------------------------------------------------------

    def add_account(self, username: str, token: str) -> Account:
        with self.lock:
            account = Account(id=str(next(self._account_ids)), username=username, token=token)
            self.accounts[token] = account
            return account

    def script(self, *faults: str) -> None:
        """Answer the next ``POST /api/v1/statuses`` requests with these, in order: ``503``, ``500``,
        ``5xx_after``, ``timeout``, ``429``, or ``ok`` (answer normally)."""
        with self.lock:
            self.scripted.extend(faults)

    def burst_429(self, count: int) -> None:
        """Refuse the next ``count`` API requests with 429 (a burst of throttling)."""
        with self.lock:
            self.burst += count

    def created_texts(self) -> dict[str, list[str]]:
        """Every status ever created, by account username, deleted ones included."""
        with self.lock:
            return {a.username: list(a.created) for a in self.accounts.values()}

    def duplicates(self) -> int:
        """Statuses created more than once with the same text on the same account."""
        with self.lock:
            return sum(n - 1 for a in self.accounts.values() for n in Counter(a.created).values() if n > 1)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {"accounts": len(self.accounts),
                    "statuses": sum(len(a.created) for a in self.accounts.values()),
                    "duplicates": self.duplicates(), "idempotent_replays": self.replays,
                    "requests": dict(self.requests)}

    # -- rules -------------------------------------------------------------------------------------------

    def _rate_headers(self, key: str, rule: RateLimit, now: float) -> tuple[dict[str, str], bool]:
        window = int(now // rule.window)
        used = self.windows.get((key, window), 0) + 1
        self.windows[(key, window)] = used
        reset = (window + 1) * rule.window
        headers = {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Remaining": str(max(0, rule.limit - used)),
            "X-RateLimit-Reset": datetime.fromtimestamp(reset, UTC).isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
        }
        if used > rule.limit and self.retry_after_header:
            headers["Retry-After"] = str(max(1, int(reset - now + 0.999)))
        return headers, used > rule.limit

    def _throttle(self, token: str) -> dict[str, str]:
        """Count the request; raise 429 when over a limit; return the rate-limit headers to send."""
        now = self.clock.now()
        with self.lock:
            if self.burst > 0:
                self.burst -= 1
                raise Refused(429, {"error": "Too many requests"}, {"Retry-After": "1"})
            headers: dict[str, str] = {}
            over = False
            for key, rule in (("address", self.per_address), (f"token:{token}", self.per_token)):
                if rule is None:
                    continue
                found, exceeded = self._rate_headers(key, rule, now)
                if exceeded or not headers:
                    headers = found
                over = over or exceeded
            if over:
                raise Refused(429, {"error": "Too many requests"}, headers)
            return headers

    def _next_fault(self) -> str:
        with self.lock:
            if self.scripted:
                return self.scripted.pop(0)
            draw = self.random.random()
        f = self.faults
        for name, share in (("503", f.error_5xx), ("5xx_after", f.error_5xx_after), ("timeout", f.timeout),
                            ("429", f.rate_429)):
            if draw < share:
                return name
            draw -= share
        return "ok"

    # -- the API -----------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[int, Any, dict[str, str], float]:
        """Answer one request: (status, JSON body, headers, seconds to hold the answer after the latency)."""
        if path.startswith("/_fake/"):
            return self._control(method, path, body)
        try:
            if path in ("/api/v1/instance", "/api/v2/instance"):
                return 200, self._instance(), {}, 0.0
            auth = headers.get("authorization", "")
            with self.lock:
                account = self.accounts.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") \
                    else None
            if account is None:
                raise Refused(401, {"error": "The access token is invalid"})
            rate = self._throttle(account.token)
            status, data, hold = self._route(account, method, path, query, headers, body)
            return status, data, rate, hold
        except Refused as refused:
            return refused.status, refused.body, refused.headers, 0.0

    def _route(self, account: Account, method: str, path: str, query: dict[str, list[str]],
               headers: dict[str, str], body: bytes) -> tuple[int, Any, float]:
        if path == "/api/v1/accounts/verify_credentials" and method == "GET":
            return 200, account.as_json(), 0.0
        if path == "/api/v1/statuses" and method == "POST":
            return self._post_status(account, headers, _form(headers, body))
        match = re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", path)
        if match and method == "GET":
            with self.lock:
                owner = next((a for a in self.accounts.values() if a.id == match.group(1)), None)
                if owner is None:
                    raise Refused(404, {"error": "Record not found"})
                return 200, _paginate(list(owner.statuses.values()), query), 0.0
        match = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        if match:
            with self.lock:
                status = account.statuses.get(match.group(1))
                if status is None:
                    raise Refused(404, {"error": "Record not found"})
                if method == "PUT":
                    form = _form(headers, body)
                    status["content"] = status_html(_one(form, "status"))
                    status["edited_at"] = _iso(self.clock.now())
                elif method == "DELETE":
                    del account.statuses[match.group(1)]
                return 200, status, 0.0
        raise Refused(404, {"error": "Record not found"})

    def _post_status(self, account: Account, headers: dict[str, str],
                     form: dict[str, list[str]]) -> tuple[int, Any, float]:
        fault = self._next_fault()
        if fault in ("500", "503"):
            raise Refused(int(fault), {"error": "Service Unavailable"})
        if fault == "429":
            raise Refused(429, {"error": "Too many requests"}, {"Retry-After": "2"})
        text = _one(form, "status")
        if not text.strip():
            raise Refused(422, {"error": "Validation failed: Text can't be blank"})
        key = headers.get("idempotency-key", "")
        with self.lock:
            if key and key in account.idempotency and account.idempotency[key] in account.statuses:
                status = account.statuses[account.idempotency[key]]  # Mastodon: the first status again
                self.replays += 1
            else:
                status = self._create(account, form, text, key)
        if fault == "5xx_after":
            raise Refused(502, {"error": "Bad Gateway"})
        if fault == "timeout":
            return 200, status, self.faults.hang
        return 200, status, 0.0

    def _create(self, account: Account, form: dict[str, list[str]], text: str, key: str) -> dict[str, Any]:
        with self.lock:
            status_id = str(next(self._ids))
            status: dict[str, Any] = {
                "id": status_id, "created_at": _iso(self.clock.now()), "in_reply_to_id": _one(form, "in_reply_to_id")
                or None, "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
                "visibility": _one(form, "visibility") or "public", "language": _one(form, "language") or None,
                "uri": f"https://{DOMAIN}/users/{account.username}/statuses/{status_id}",
                "url": f"https://{DOMAIN}/@{account.username}/{status_id}", "replies_count": 0,
                "reblogs_count": 0, "favourites_count": 0, "edited_at": None, "content": status_html(text),
                "reblog": None, "application": {"name": "Legation", "website": None},
                "account": account.as_json(), "media_attachments": [], "mentions": [], "tags": [], "emojis": [],
                "card": None, "poll": None,
            }
            account.statuses[status_id] = status
            account.created.append(text)
            if key:
                account.idempotency[key] = status_id
            return status

    def _instance(self) -> dict[str, Any]:
        return {"uri": DOMAIN, "domain": DOMAIN, "title": "Fake Mastodon", "version": "4.3.0",
                "short_description": "", "description": "", "email": "", "languages": ["en"],
                "registrations": False, "approval_required": False, "invites_enabled": False,
                "configuration": {"statuses": {"max_characters": 500, "max_media_attachments": 4}},
                "stats": {"user_count": len(self.accounts), "status_count": 0, "domain_count": 1},
                "urls": {}, "rules": [], "contact_account": None}

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, Any, dict[str, str], float]:
        data = json.loads(body or b"{}")
        if path == "/_fake/accounts" and method == "POST":
            made = [self.add_account(a["username"], a["token"]) for a in data["accounts"]]
            return 200, [{"id": a.id, "username": a.username} for a in made], {}, 0.0
        if path == "/_fake/statuses":
            return 200, self.created_texts(), {}, 0.0
        if path == "/_fake/stats":
            return 200, self.stats(), {}, 0.0
        if path == "/_fake/script" and method == "POST":
            self.script(*data.get("faults", []))
            self.burst_429(int(data.get("burst_429", 0)))
            return 200, {"ok": True}, {}, 0.0
        return 404, {"error": "unknown control endpoint"}, {}, 0.0


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _form(headers: dict[str, str], body: bytes) -> dict[str, list[str]]:
    if headers.get("content-type", "").startswith("application/json"):
        data = json.loads(body or b"{}")
        return {k: [str(v)] for k, v in data.items() if v is not None and not isinstance(v, list | dict)}
    return parse_qs(body.decode("utf-8"), keep_blank_values=True)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _paginate(items: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Mastodon's id pagination: newest first; ``min_id`` gives the page right after it."""
    limit = min(40, int((query.get("limit") or ["20"])[0]))
    ordered = sorted(items, key=lambda s: int(s["id"]))
    if query.get("max_id"):
        ordered = [s for s in ordered if int(s["id"]) < int(query["max_id"][0])]
    if query.get("since_id"):
        ordered = [s for s in ordered if int(s["id"]) > int(query["since_id"][0])]
    if query.get("min_id"):
        page = [s for s in ordered if int(s["id"]) > int(query["min_id"][0])][:limit]
    else:
        page = ordered[-limit:]
    return list(reversed(page))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if fake.latency and not parts.path.startswith("/_fake/"):
            time.sleep(fake.latency)
        status, data, extra, hold = fake.handle(self.command, parts.path, parse_qs(parts.query), headers, body)
        with fake.lock:
            fake.requests[f"{self.command} {_route_name(parts.path)} {status}"] += 1
        if hold:
            time.sleep(hold)  # the client has given up by now; the status exists all the same
        payload = json.dumps(data).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer  # noqa: N815 - http.server's naming

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.server.fake.clock.now() if timestamp is None else timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        pass


def _route_name(path: str) -> str:
    return re.sub(r"/\d+", "/:id", path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    fake: FakeMastodon

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def running(fake: FakeMastodon, port: int = 0) -> Iterator[FakeMastodon]:
    """Serve ``fake`` on 127.0.0.1 in a background thread; ``fake.base_url`` is set while it runs."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.fake = fake
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def main(argv: list[str] | None = None, ready: Callable[[str], None] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Mastodon instance on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to each API answer")
    parser.add_argument("--rate-limit", type=int, default=0, help="requests per window from one address (0: none)")
    parser.add_argument("--token-limit", type=int, default=300, help="requests per token window (Mastodon: 300)")
    parser.add_argument("--token-window", type=float, default=300.0)
    parser.add_argument("--window", type=float, default=1.0, help="the address window in seconds")
    parser.add_argument("--retry-after", action="store_true", help="send Retry-After with 429 answers")
    parser.add_argument("--faults", default="{}", help='JSON for Faults, e.g. {"error_5xx": 0.05}')
    args = parser.parse_args(argv)
    fake = FakeMastodon(
        latency=args.latency,
        per_address=RateLimit(args.rate_limit, args.window) if args.rate_limit else None,
        per_token=RateLimit(args.token_limit, args.token_window) if args.token_limit else None,
        faults=Faults(**json.loads(args.faults)), retry_after_header=args.retry_after,
    )
    with running(fake, args.port):
        (ready or (lambda url: print(url, flush=True)))(fake.base_url)
        print(json.dumps({"faults": asdict(fake.faults)}), file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
