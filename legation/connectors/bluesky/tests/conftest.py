"""A local Bluesky PDS: a pytest-httpserver answering the documented XRPC methods from the JSON fixtures."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import time
from typing import Any

import pytest
from werkzeug import Request, Response

from legation.connectors.bluesky.provider import BlueskyProvider
from legation.connectors.testing import fixtures_dir, json_fixtures

DID = "did:plc:embassy0000000000000000"
HANDLE = "embassy.example.com"
PASSWORD = "app-pass-word-1234"


fixture = json_fixtures(fixtures_dir(__file__))


def jwt(scope: str, lifetime: float, serial: int) -> str:
    """An unsigned-looking JWT with the claims the SDK reads (exp) and a serial to tell tokens apart."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"scope": scope, "sub": DID, "iat": now, "exp": int(now + lifetime), "jti": str(serial)}
    return f"{part({'alg': 'HS256', 'typ': 'at+jwt'})}.{part(claims)}.c2lnbmF0dXJl"


class FakePDS:
    """Holds accounts, posts and notifications and answers XRPC as a PDS with the Bluesky app view does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.serial = itertools.count(1)
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.posts: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.faults: list[tuple[str, Response]] = []
        self.calls: list[str] = []
        self.records: list[dict[str, Any]] = []
        self.blobs: list[bytes] = []
        self._clock = itertools.count(1)

    # -- scripting -----------------------------------------------------------------------------------

    def fail_next(self, nsid: str, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        self.faults.append(
            (nsid, Response(text, status=status, headers=headers, content_type="application/json"))
        )

    def issue_session(self, access_lifetime: float = 7200) -> dict[str, Any]:
        session = fixture("create_session")
        session["accessJwt"] = jwt("com.atproto.access", access_lifetime, next(self.serial))
        session["refreshJwt"] = jwt("com.atproto.refresh", 86400 * 60, next(self.serial))
        self.access.add(session["accessJwt"])
        self.refresh.add(session["refreshJwt"])
        return session

    def expire_all_access_tokens(self) -> None:
        """The server ends access tokens early (as after a password change or a clock skew)."""
        self.access.clear()

    def expire_all_refresh_tokens(self) -> None:
        self.refresh.clear()

    def stamp(self) -> str:
        return f"2025-03-01T10:{next(self._clock):02d}:00.000Z"

    def add_notification(self, template: str, text: str) -> dict[str, Any]:
        note = copy.deepcopy(fixture(template))
        n = next(self.serial)
        note["uri"] = note["uri"].rsplit("/", 1)[0] + f"/3lbn{n:08d}"
        note["indexedAt"] = self.stamp()
        if "text" in note["record"]:
            note["record"]["text"] = text
        self.notifications.append(note)
        return note

    def add_post(self, text: str, author: dict[str, Any] | None = None) -> dict[str, Any]:
        post = copy.deepcopy(fixture("post_view"))
        n = next(self.serial)
        post["uri"] = f"at://{(author or post['author'])['did']}/app.bsky.feed.post/3lbp{n:08d}"
        if author:
            post["author"] = author
        post["record"]["text"] = text
        post["indexedAt"] = self.stamp()
        self.posts[post["uri"]] = post
        return post

    # -- XRPC ----------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        nsid = request.path.removeprefix("/xrpc/")
        self.calls.append(nsid)
        for i, (name, response) in enumerate(self.faults):
            if name == nsid:
                del self.faults[i]
                return response
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if nsid == "com.atproto.server.createSession":
            body = request.get_json()
            if (body["identifier"], body["password"]) != (HANDLE, PASSWORD):
                return self.json(
                    {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401
                )
            return self.json(self.issue_session())
        if nsid == "com.atproto.server.refreshSession":
            if token not in self.refresh:
                return self.json(fixture("error_expired_token"), 400)
            self.refresh.discard(token)
            return self.json(self.issue_session())
        if token not in self.access:
            return self.json(fixture("error_expired_token"), 401)
        return self.route(nsid, request)

    def route(self, nsid: str, request: Request) -> Response:
        args = request.args
        if nsid == "com.atproto.identity.resolveHandle":
            if args["handle"] == "citizen.bsky.social":
                return self.json({"did": "did:plc:citizen00000000000000000"})
            return self.json({"error": "InvalidRequest", "message": "Unable to resolve handle"}, 400)
        if nsid == "com.atproto.repo.uploadBlob":
            self.blobs.append(request.get_data())
            blob = fixture("upload_blob")
            blob["blob"]["size"] = len(self.blobs[-1])
            blob["blob"]["mimeType"] = request.headers.get("Content-Type", "image/png")
            return self.json(blob)
        if nsid == "com.atproto.repo.createRecord":
            body = request.get_json()
            self.records.append(body["record"])
            post = self.add_post(body["record"]["text"])
            post["record"] = body["record"]
            answer = fixture("create_record")
            answer["uri"] = post["uri"]
            return self.json(answer)
        if nsid == "com.atproto.repo.deleteRecord":
            body = request.get_json()
            uri = f"at://{body['repo']}/{body['collection']}/{body['rkey']}"
            self.posts.pop(uri, None)
            return self.json({"commit": fixture("create_record")["commit"]})
        if nsid == "app.bsky.feed.getPosts":
            uris = args.getlist("uris")
            return self.json({"posts": [self.posts[u] for u in uris if u in self.posts]})
        if nsid == "app.bsky.actor.getProfile":
            return self.json(fixture("profile"))
        if nsid == "app.bsky.notification.listNotifications":
            page, cursor = self.newest_first(self.notifications, args)
            return self.json({"notifications": page, "cursor": cursor})
        if nsid == "app.bsky.feed.getAuthorFeed":
            actor = args["actor"]  # a DID or a handle
            own = [p for p in self.posts.values() if actor in (p["author"]["did"], p["author"]["handle"])]
            if not own and not actor.startswith("did:"):
                return self.json({"error": "InvalidRequest", "message": "Profile not found"}, 400)
            page, cursor = self.newest_first(own, args)
            return self.json({"feed": [{"post": p} for p in page], "cursor": cursor})
        if nsid == "app.bsky.feed.searchPosts":
            q = args["q"].lower()
            hits = [p for p in self.posts.values() if q in p["record"]["text"].lower()]
            page, cursor = self.newest_first(hits, args)
            return self.json({"posts": page, "cursor": cursor, "hitsTotal": len(hits)})
        return self.json({"error": "MethodNotImplemented", "message": nsid}, 501)

    @staticmethod
    def newest_first(rows: list[dict[str, Any]], args) -> tuple[list[dict[str, Any]], str | None]:
        """Bluesky listing: newest first; the cursor continues towards older items."""
        limit = int(args.get("limit", 50))
        ordered = sorted(rows, key=lambda r: (r["indexedAt"], r["uri"]), reverse=True)
        if args.get("cursor"):
            ordered = [r for r in ordered if f"{r['indexedAt']}|{r['uri']}" < args["cursor"]]
        page = ordered[:limit]
        more = len(ordered) > limit
        return page, (f"{page[-1]['indexedAt']}|{page[-1]['uri']}" if page and more else None)

    @staticmethod
    def json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")


@pytest.fixture
def pds(httpserver, allow_loopback, waits) -> FakePDS:
    server = FakePDS(httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request(re.compile(".*")).respond_with_handler(server)
    return server


@pytest.fixture
def provider(pds) -> BlueskyProvider:
    return BlueskyProvider({"service_url": pds.base_url}, {"identifier": HANDLE, "app_password": PASSWORD})
