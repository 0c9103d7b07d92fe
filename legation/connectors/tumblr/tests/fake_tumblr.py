"""A local stand-in for Tumblr's API v2 (legacy post formats, notes), shaped from Tumblr's API docs."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug import Request, Response

from legation.connectors.testing import Fault

BLOG = "embassy-ruritania"
HOST = f"{BLOG}.tumblr.com"
CREDS = {"consumer_key": "ck", "consumer_secret": "cs", "oauth_token": "tok", "oauth_secret": "ts"}


def answer(status: int, msg: str, response: Any, errors: list[dict[str, Any]] | None = None) -> Response:
    body: dict[str, Any] = {"meta": {"status": status, "msg": msg}, "response": response}
    if errors:
        body["errors"] = errors
    return Response(json.dumps(body), status=status, content_type="application/json")


@dataclass
class FakeTumblr:
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(7000000000000000001))

    def add_post(self, **fields: Any) -> str:
        post_id = str(next(self._ids))
        self.posts[post_id] = {"id": int(post_id), "id_string": post_id, "type": "text", "timestamp": 0, **fields}
        self.notes[post_id] = []
        return post_id

    def add_note(self, post_id: str, kind: str, when: datetime, text: str = "", blog: str = "citizen") -> None:
        note: dict[str, Any] = {
            "type": kind,
            "timestamp": int(when.timestamp()),
            "blog_name": blog,
            "blog_uuid": f"t:{blog}",
            "blog_url": f"https://{blog}.tumblr.com/",
        }
        if kind == "reply":
            note["reply_text"] = text
        elif kind == "reblog" and text:
            note["added_text"] = text
        self.notes[post_id].append(note)

    def handle(self, request: Request) -> Response:
        self.calls.append(f"{request.method} {request.path}")
        if self.faults:
            return self.faults.pop(0).response()
        if 'oauth_token="tok"' not in request.headers.get("Authorization", ""):
            return answer(
                401, "Unauthorized", [], [{"title": "Unauthorized", "code": 1016, "detail": "Unable to authorize"}]
            )
        path = request.path
        if path == "/v2/user/info":
            return answer(
                200,
                "OK",
                {
                    "user": {
                        "name": "embassy-editor",
                        "blogs": [
                            {"name": BLOG, "title": "Embassy of Ruritania", "uuid": "t:embassy", "primary": True}
                        ],
                    }
                },
            )
        prefix = f"/v2/blog/{HOST}"
        if not path.startswith(prefix):
            return answer(404, "Not Found", [])
        rest = path[len(prefix) :]
        if rest == "/post" and request.method == "POST":
            params = request.form.to_dict()
            files = [f.read() for f in request.files.values()]
            post_id = self.add_post(**params, files=files)
            return answer(201, "Created", {"id": int(post_id), "id_string": post_id})
        if rest == "/post/delete" and request.method == "POST":
            if self.posts.pop(request.form.get("id", ""), None) is None:
                return answer(404, "Not Found", [], [{"title": "Not Found", "code": 0, "detail": "Post not found"}])
            return answer(200, "OK", {"id": int(request.form["id"])})
        if rest == "/posts":
            limit = int(request.args.get("limit", 20))
            posts = sorted(self.posts.values(), key=lambda p: p["id"], reverse=True)[:limit]
            listed = [
                {**{k: v for k, v in p.items() if k != "files"}, "note_count": len(self.notes[p["id_string"]])}
                for p in posts
            ]
            return answer(200, "OK", {"blog": {"name": BLOG}, "posts": listed, "total_posts": len(self.posts)})
        if rest == "/notes":
            post_id = request.args.get("id", "")
            if post_id not in self.notes:
                return answer(404, "Not Found", [])
            notes = self.notes[post_id]
            mode = request.args.get("mode", "all")
            shown = [n for n in notes if mode != "conversation" or n["type"] in ("reply", "reblog")]
            return answer(
                200,
                "OK",
                {
                    "notes": sorted(shown, key=lambda n: n["timestamp"], reverse=True),
                    "total_notes": len(notes),
                    "total_likes": sum(1 for n in notes if n["type"] == "like"),
                    "total_reblogs": sum(1 for n in notes if n["type"] == "reblog"),
                },
            )
        if rest == "/info":
            return answer(200, "OK", {"blog": {"name": BLOG, "followers": 4321}})
        return answer(404, "Not Found", [])
