"""A local Mastodon: a pytest-httpserver answering the documented REST API from the JSON fixtures."""

from __future__ import annotations

import copy
import itertools
import json
import re
import zlib
from typing import Any

import pytest
from werkzeug import Request, Response

from legation.connectors.mastodon.provider import MastodonProvider
from legation.connectors.testing import fixtures_dir, json_fixtures

FIXTURES = fixtures_dir(__file__)
TOKEN = "mastodon-test-token"


fixture = json_fixtures(FIXTURES)


class FakeMastodon:
    """Holds the instance's state and answers requests as Mastodon 4.x does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.me = fixture("account")
        self.statuses: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.faults: list[tuple[str, str, Response]] = []
        self.requests: list[tuple[str, str]] = []
        self._ids = itertools.count(113000000000001000)

    # -- scripting failures --------------------------------------------------------------------------

    def fail_next(self, method: str, path_prefix: str, status: int, body: Any = None, headers=None) -> None:
        """Answer the next matching request with an error instead of the real answer."""
        text = body if isinstance(body, str) else json.dumps(body if body is not None else {"error": "x"})
        self.faults.append(
            (
                method,
                path_prefix,
                Response(text, status=status, headers=headers or {}, content_type="application/json"),
            )
        )

    # -- data ----------------------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(next(self._ids))

    def add_mention(self, text: str, *, direct: bool = False) -> dict[str, Any]:
        note = copy.deepcopy(fixture("notification_direct" if direct else "notification_mention"))
        note["id"] = self.new_id()
        note["status"]["id"] = self.new_id()
        note["status"]["content"] = f"<p>{text}</p>"
        self.notifications.append(note)
        return note

    def add_own_status(self, text: str, tags: tuple[str, ...] = ()) -> dict[str, Any]:
        status = copy.deepcopy(fixture("status"))
        status["id"] = self.new_id()
        status["content"] = f"<p>{text}</p>"
        status["url"] = f"https://diplo.example/@embassy_example/{status['id']}"
        status["tags"] = [{"name": t, "url": f"https://diplo.example/tags/{t}"} for t in tags]
        self.statuses[status["id"]] = status
        return status

    def add_status_of(self, acct: str, text: str, visibility: str = "public") -> dict[str, Any]:
        """A post by another account (``name`` on this instance, ``name@other.example`` elsewhere)."""
        status = self.add_own_status(text)
        account = copy.deepcopy(self.me)
        account["id"] = str(zlib.crc32(acct.encode()) + 500000)
        account["acct"], account["username"] = acct, acct.split("@")[0]
        account["url"] = f"https://diplo.example/@{acct}"
        status["account"], status["visibility"] = account, visibility
        return status

    # -- the API -------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        for i, (method, prefix, response) in enumerate(self.faults):
            if request.method == method and request.path.startswith(prefix):
                del self.faults[i]
                return response
        if request.path == "/api/v1/instance":
            return self.json(fixture("instance"))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.json(fixture("error_401_invalid_token"), 401)
        return self.route(request)

    def route(self, request: Request) -> Response:
        path, method, args = request.path, request.method, request.args
        if path == "/api/v1/accounts/verify_credentials":
            return self.json(self.me)
        if path == "/api/v2/media" and method == "POST":
            upload = request.files["file"]
            media = copy.deepcopy(fixture("media_attachment"))
            media["id"] = self.new_id()
            media["description"] = request.form.get("description")
            media["size"] = len(upload.read())
            self.media[media["id"]] = media
            return self.json(media)
        if path == "/api/v1/statuses" and method == "POST":
            key = request.headers.get("Idempotency-Key")
            if key and key in self.idempotency:
                return self.json(self.idempotency[key])
            text = request.form.get("status", "")
            if len(text) > 500:
                return self.json(fixture("error_422_validation"), 422)
            status = self.add_own_status(text)
            status["in_reply_to_id"] = request.form.get("in_reply_to_id")
            status["visibility"] = request.form.get("visibility", "public")
            status["language"] = request.form.get("language")
            status["media_attachments"] = [self.media[m] for m in request.form.getlist("media_ids[]")]
            if key:
                self.idempotency[key] = status
            return self.json(status)
        match = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        if match:
            status = self.statuses.get(match.group(1))  # type: ignore[assignment]
            if status is None:
                return self.json({"error": "Record not found"}, 404)
            if method == "GET":
                return self.json(status)
            if method == "PUT":
                status["content"] = f"<p>{request.form.get('status', '')}</p>"
                status["edited_at"] = "2025-03-01T12:00:00.000Z"
                return self.json(status)
            if method == "DELETE":
                del self.statuses[match.group(1)]
                return self.json(status)
        if path == "/api/v1/notifications":
            types = args.getlist("types[]") or args.getlist("types")
            notes = [n for n in self.notifications if not types or n["type"] in types]
            return self.json(self.paginate(notes, args))
        if path == "/api/v1/accounts/lookup":
            acct = args.get("acct", "").lower()
            for status in self.statuses.values():
                if status["account"]["acct"].lower() == acct:
                    return self.json(status["account"])
            return self.json({"error": "Record not found"}, 404)
        match = re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", path)
        if match:
            theirs = [s for s in self.statuses.values() if s["account"]["id"] == match.group(1)]
            return self.json(self.paginate(theirs, args))
        match = re.fullmatch(r"/api/v1/timelines/tag/(\w+)", path)
        if match:
            tag = match.group(1).lower()
            tagged = [s for s in self.statuses.values() if tag in {t["name"].lower() for t in s["tags"]}]
            return self.json(self.paginate(tagged, args))
        if path == "/api/v2/search":
            q = args.get("q", "").lower()
            found = [s for s in self.statuses.values() if q in s["content"].lower()]
            return self.json({"accounts": [], "hashtags": [], "statuses": self.paginate(found, args)})
        return self.json({"error": "Record not found"}, 404)

    @staticmethod
    def paginate(items: list[dict[str, Any]], args) -> list[dict[str, Any]]:
        """Mastodon's id pagination: newest first; ``min_id`` gives the page right after it."""
        limit = int(args.get("limit", 20))
        ordered = sorted(items, key=lambda x: int(x["id"]))
        if args.get("max_id"):
            ordered = [x for x in ordered if int(x["id"]) < int(args["max_id"])]
        if args.get("min_id"):
            page = [x for x in ordered if int(x["id"]) > int(args["min_id"])][:limit]
        else:
            page = ordered[-limit:]
        return list(reversed(page))

    @staticmethod
    def json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")


@pytest.fixture
def fake(httpserver, allow_loopback, waits) -> FakeMastodon:
    server = FakeMastodon(httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request(re.compile(".*")).respond_with_handler(server)
    return server


@pytest.fixture
def provider(fake) -> MastodonProvider:
    return MastodonProvider(
        {"api_base_url": fake.base_url, "account_id": fake.me["id"]},
        {"access_token": TOKEN, "webhook_secret": "hook-secret"},
    )
