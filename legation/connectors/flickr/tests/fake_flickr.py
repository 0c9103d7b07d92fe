"""A local stand-in for Flickr's REST (JSON) and upload (XML) endpoints, shaped from Flickr's API docs."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug import Request, Response

from legation.connectors.testing import Fault

USER_ID = "12037949754@N01"
API_KEY, API_SECRET = "k" * 32, "s" * 16
TOKEN, TOKEN_SECRET = "72157-token", "token-secret"


def fail(code: int, message: str) -> Response:
    """Flickr reports API errors with HTTP 200 and ``stat: fail``."""
    return Response(json.dumps({"stat": "fail", "code": code, "message": message}), content_type="application/json")


def ok(data: dict[str, Any]) -> Response:
    return Response(json.dumps({**data, "stat": "ok"}), content_type="application/json")


@dataclass
class FakeFlickr:
    photos: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(53000000001))

    def add_photo(self, title: str = "photo") -> str:
        photo_id = str(next(self._ids))
        self.photos[photo_id] = {"id": photo_id, "title": title, "views": "0", "faves": 0}
        self.comments[photo_id] = []
        return photo_id

    def add_comment(self, photo_id: str, text: str, when: datetime, author: str = "35468159852@N01") -> str:
        comment_id = f"6065-{photo_id}-{next(self._ids)}"
        self.comments[photo_id].append(
            {
                "id": comment_id,
                "author": author,
                "author_is_deleted": 0,
                "authorname": "traveller",
                "realname": "A Traveller",
                "datecreate": str(int(when.timestamp())),
                "permalink": f"https://www.flickr.com/photos/embassy/{photo_id}/#comment{comment_id}",
                "_content": text,
            }
        )
        return f"{photo_id}/{comment_id}"

    def handle(self, request: Request) -> Response:
        self.calls.append(request.form.get("method") or request.path)
        if self.faults:
            return self.faults.pop(0).response()
        auth = request.headers.get("Authorization", "")
        if f'oauth_token="{TOKEN}"' not in auth or f'oauth_consumer_key="{API_KEY}"' not in auth:
            return Response("oauth_problem=token_rejected", status=401)
        if request.path == "/services/upload/":
            return self._upload(request)
        method = request.form.get("method", "")
        handler = getattr(self, "m_" + method.replace("flickr.", "").replace(".", "_"), None)
        if handler is None:
            return fail(112, f'Method "{method}" not found')
        return handler(request.form)

    def _upload(self, request: Request) -> Response:
        photo = request.files.get("photo")
        if photo is None:
            return Response('<rsp stat="fail"><err code="2" msg="No photo specified"/></rsp>', content_type="text/xml")
        photo_id = self.add_photo(request.form.get("title", ""))
        self.uploads.append({**request.form.to_dict(), "data": photo.read(), "photo_id": photo_id})
        return Response(
            f'<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="ok">\n<photoid>{photo_id}</photoid>\n</rsp>\n',
            content_type="text/xml",
        )

    def m_test_login(self, form: Any) -> Response:
        return ok({"user": {"id": USER_ID, "username": {"_content": "embassy_ruritania"}, "path_alias": None}})

    def m_people_getPhotos(self, form: Any) -> Response:  # noqa: N802 - Flickr's method name
        per_page = int(form.get("per_page", 100))
        photos = sorted(self.photos.values(), key=lambda p: p["id"], reverse=True)[:per_page]
        listed = [
            {
                "id": p["id"],
                "owner": USER_ID,
                "title": p["title"],
                "ispublic": 1,
                "count_comments": str(len(self.comments[p["id"]])),
            }
            for p in photos
        ]
        return ok({"photos": {"page": 1, "pages": 1, "perpage": per_page, "total": len(listed), "photo": listed}})

    def m_photos_comments_getList(self, form: Any) -> Response:  # noqa: N802
        photo_id = form["photo_id"]
        if photo_id not in self.photos:
            return fail(1, "Photo not found")
        since = int(form.get("min_comment_date", 0))
        found = [c for c in self.comments[photo_id] if int(c["datecreate"]) >= since]
        return ok({"comments": {"photo_id": photo_id, "comment": found}})

    def m_photos_comments_addComment(self, form: Any) -> Response:  # noqa: N802
        photo_id = form["photo_id"]
        if photo_id not in self.photos:
            return fail(1, "Photo not found")
        ref = self.add_comment(photo_id, form["comment_text"], datetime.now(), author=USER_ID)
        comment = self.comments[photo_id][-1]
        assert ref.endswith(comment["id"])
        return ok({"comment": {"id": comment["id"], "author": USER_ID, "permalink": comment["permalink"]}})

    def m_photos_comments_deleteComment(self, form: Any) -> Response:  # noqa: N802
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == form["comment_id"]:
                    comments.remove(comment)
                    return ok({})
        return fail(2, "Comment not found")

    def m_photos_delete(self, form: Any) -> Response:
        if self.photos.pop(form["photo_id"], None) is None:
            return fail(1, "Photo not found")
        return ok({})

    def m_photos_getInfo(self, form: Any) -> Response:  # noqa: N802
        photo = self.photos.get(form["photo_id"])
        if photo is None:
            return fail(1, "Photo not found")
        return ok(
            {
                "photo": {
                    "id": photo["id"],
                    "views": photo["views"],
                    "comments": {"_content": str(len(self.comments[photo["id"]]))},
                }
            }
        )

    def m_photos_getFavorites(self, form: Any) -> Response:  # noqa: N802
        photo = self.photos.get(form["photo_id"])
        if photo is None:
            return fail(1, "Photo not found")
        return ok(
            {
                "photo": {
                    "id": photo["id"],
                    "person": [],
                    "page": 1,
                    "pages": 1,
                    "perpage": 1,
                    "total": str(photo["faves"]),
                }
            }
        )
