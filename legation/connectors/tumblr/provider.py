"""Tumblr, with the ``pytumblr`` SDK and OAuth 1.0a.

pytumblr calls ``requests`` module functions directly, so its request object is replaced by one that sends the
same OAuth-signed requests through a guarded session from :mod:`legation.connectors.http` (and to another host
when configured, for tests). Publishing makes text or photo posts; replies and reblog comments on the blog's
recent posts are pulled from their notes with a cursor; metrics are note counts.

A reply note has no id of its own on Tumblr; its external id is ``"<post id>/<blog uuid>/<timestamp>"``.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytumblr
import requests
from pydantic import Field
from pytumblr.request import TumblrRequest

from legation.connectors import http
from legation.connectors.base import (
    AccountInfo,
    Capability,
    ConnectorError,
    Delivered,
    InboundItem,
    Metrics,
    OutboundPost,
    Page,
    Provider,
    ProviderConfig,
    TextLimits,
)

PLATFORM = "tumblr"
API_HOST = "https://api.tumblr.com"
CURSOR_OVERLAP = timedelta(minutes=10)
MAX_SEEN = 1000
_MALFORMED = "Malformed JSON or HTML was returned."


class TumblrConfig(ProviderConfig):
    """One Tumblr blog."""

    blog: str = Field(description="the blog's name or host, e.g. 'embassy-ruritania' or 'embassy.tumblr.com'")
    state: str = "published"  # or "draft", "queue", "private"
    tags: list[str] = Field(default_factory=list)
    watch_recent_posts: int = Field(default=20, ge=1, le=50)
    initial_lookback_hours: int = Field(default=24, ge=1)
    api_base_url: str | None = None  # another API host (tests, an egress proxy)
    timeout: float = Field(default=60.0, gt=0, le=300)


class _GuardedTumblrRequest(TumblrRequest):
    """pytumblr's request formatting and OAuth signing, sent through the guarded session."""

    def __init__(self, session: http.GuardedSession, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        self.last_response: requests.Response | None = None

    def _parse(self, response: requests.Response) -> Any:
        self.last_response = response
        return self.json_parse(response)

    def get(self, url: str, params: Mapping[str, Any]) -> Any:
        full = self.host + url + (f"?{urllib.parse.urlencode(params)}" if params else "")
        return self._parse(self.session.get(full, allow_redirects=False, headers=self.headers, auth=self.oauth))

    def delete(self, url: str, params: Mapping[str, Any]) -> Any:
        full = self.host + url + (f"?{urllib.parse.urlencode(params)}" if params else "")
        return self._parse(self.session.delete(full, allow_redirects=False, headers=self.headers, auth=self.oauth))

    def post(self, url: str, params: Mapping[str, Any] | None = None, files: Any = None) -> Any:
        params = dict(params or {})
        full = self.host + url
        if files:
            # As pytumblr does: the parameters also go in the query string, where OAuth 1.0a signs them.
            response = self.session.post(
                full,
                data=params,
                params=params,
                files=files,
                headers=self.headers,
                allow_redirects=False,
                auth=self.oauth,
            )
        else:
            response = self.session.post(
                full, data=urllib.parse.urlencode(params), headers=self.headers, auth=self.oauth
            )
        return self._parse(response)


class TumblrProvider(Provider):
    """Publish text and photo posts to a Tumblr blog, pull replies and reblog comments, count notes."""

    key: ClassVar[str] = "tumblr"
    name: ClassVar[str] = "Tumblr"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.PUBLISH, Capability.DELETE, Capability.PULL_MENTIONS, Capability.METRICS}
    )
    config_model: ClassVar[type[ProviderConfig]] = TumblrConfig
    credential_fields: ClassVar[tuple[str, ...]] = ("consumer_key", "consumer_secret", "oauth_token", "oauth_secret")
    limits: ClassVar[TextLimits] = TextLimits(max_length=4096, unit="characters", max_media=10)

    config: TumblrConfig

    def __init__(self, config: Mapping[str, Any] | ProviderConfig | None, credentials: Mapping[str, str]):
        super().__init__(config, credentials)
        self._client: pytumblr.TumblrRestClient | None = None
        self._request: _GuardedTumblrRequest | None = None

    @property
    def client(self) -> pytumblr.TumblrRestClient:
        if self._client is None:
            host = (self.config.api_base_url or API_HOST).rstrip("/")
            creds = (
                self.credential("consumer_key"),
                self.credential("consumer_secret"),
                self.credential("oauth_token"),
                self.credential("oauth_secret"),
            )
            client = pytumblr.TumblrRestClient(*creds, host=host)
            session = http.guarded_session(timeout=(http.CONNECT_TIMEOUT, self.config.timeout))
            self._request = _GuardedTumblrRequest(session, *creds, host=host)
            client.request = self._request
            self._client = client
        return self._client

    @property
    def blog(self) -> str:
        return self.config.blog

    # -- errors --------------------------------------------------------------------------------------------

    def _call(self, what: str, fn: Any, *args: Any, may_have_happened: bool = False, **kwargs: Any) -> Any:
        """Run one SDK call and turn Tumblr's error answers (which pytumblr returns, not raises) into errors."""
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a ConnectorError
            found = http.find_connector_error(exc)
            raise (found or http.error_for_exception(exc, what=f"Tumblr: {what}")) from exc
        if isinstance(result, dict) and isinstance(result.get("meta"), dict):
            response = self._request.last_response if self._request else None
            status = response.status_code if response is not None else int(result["meta"].get("status") or 500)
            if 200 <= status < 300 and (result.get("response") or {}).get("error") == _MALFORMED:
                message = f"Tumblr's answer to '{what}' could not be read"
                if may_have_happened:
                    raise ConnectorError(f"{message}; check the blog before trying again", permanent=True)
                raise ConnectorError(message)
            raise self._error_for(status, result, what, response)
        return result

    def _error_for(
        self, status: int, body: Mapping[str, Any], what: str, response: requests.Response | None
    ) -> ConnectorError:
        meta = body.get("meta") or {}
        details = [e.get("detail") or e.get("title") for e in body.get("errors") or [] if isinstance(e, dict)]
        reason = "; ".join(d for d in details if d) or str(meta.get("msg") or "")
        message = f"Tumblr refused to {what} (HTTP {status}): {reason}"
        if status == 401:
            # OAuth 1.0a tokens do not expire: a 401 means the token was revoked; a person must re-link it.
            return ConnectorError(message, permanent=True, status=status)
        if status == 429 or status >= 500:
            headers = response.headers if response is not None else {}
            return ConnectorError(message, retry_after=http.retry_after_from_headers(headers), status=status)
        return ConnectorError(message, permanent=True, status=status)

    # -- identity ------------------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        data = self._call("check the credentials", self.client.info)
        try:
            user = data["user"]
            blogs = user.get("blogs") or []
        except (KeyError, TypeError) as exc:
            raise ConnectorError(f"Tumblr's user/info answer was not understood: {exc}") from exc
        wanted = self.blog.removesuffix(".tumblr.com")
        blog = next((b for b in blogs if b.get("name") == wanted), None)
        if blog is None:
            raise ConnectorError(
                f"the Tumblr user {user.get('name')} cannot post to the blog '{self.blog}'", permanent=True
            )
        return AccountInfo(
            external_id=str(blog.get("uuid") or blog["name"]),
            handle=blog["name"],
            display_name=str(blog.get("title") or ""),
        )

    # -- publishing ----------------------------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> Delivered:
        """A text post, or a photo post with the text as caption when the post has images."""
        if post.reply_to:
            raise ConnectorError(
                "Tumblr's API cannot post a reply note; publish a reblog or a new post instead", permanent=True
            )
        common: dict[str, Any] = {"state": self.config.state, "format": "markdown"}
        if self.config.tags:
            common["tags"] = list(self.config.tags)
        body = post.text if not post.link or post.link in post.text else f"{post.text}\n\n{post.link}"
        if not post.media:
            result = self._call(
                "publish the post", self.client.create_text, self.blog, body=body, may_have_happened=True, **common
            )
            return self._delivered(result)
        for media in post.media:
            if not media.mime_type.startswith("image/"):
                raise ConnectorError(f"Tumblr photo posts take images, not {media.mime_type}", permanent=True)
        # The legacy photo API has no alt-text field, so each description is written into the caption.
        described = [f"Image: {m.alt_text}" for m in post.media if m.alt_text]
        caption = "\n\n".join([body, *described]) if described else body
        with tempfile.TemporaryDirectory(prefix="legation-tumblr-") as folder:
            paths = []
            for index, media in enumerate(post.media):
                path = os.path.join(folder, f"{index}-{os.path.basename(media.filename) or 'image'}")
                with open(path, "wb") as handle:
                    handle.write(media.data)
                paths.append(path)
            result = self._call(
                "publish the photo post",
                self.client.create_photo,
                self.blog,
                caption=caption,
                data=paths if len(paths) > 1 else paths[0],
                may_have_happened=True,
                **common,
            )
        return self._delivered(result)

    def _delivered(self, result: Any) -> Delivered:
        post_id = str((result or {}).get("id_string") or (result or {}).get("id") or "")
        if not post_id:
            raise ConnectorError("Tumblr's answer carried no post id; check the blog", permanent=True)
        host = self.blog if "." in self.blog else f"{self.blog}.tumblr.com"
        return Delivered(external_id=post_id, url=f"https://{host}/post/{post_id}", raw=dict(result))

    def delete(self, external_id: str) -> None:
        """Delete a post; one already gone (404) counts as deleted."""
        try:
            self._call("delete the post", self.client.delete_post, self.blog, external_id)
        except ConnectorError as exc:
            if exc.status != 404:
                raise

    # -- listening -----------------------------------------------------------------------------------------

    def pull_mentions(self, cursor: str | None, limit: int = 100) -> Page:
        """Replies and reblogs-with-comment on the blog's recent posts, oldest first."""
        limit = max(1, limit)
        since, seen = _parse_cursor(cursor)
        if since is None:
            since = datetime.now(UTC) - timedelta(hours=self.config.initial_lookback_hours)
        window_start = since - CURSOR_OVERLAP
        data = self._call("list the blog's posts", self.client.posts, self.blog, limit=self.config.watch_recent_posts)
        fresh: list[tuple[datetime, str, InboundItem]] = []
        for post in (data or {}).get("posts") or []:
            if int(post.get("note_count") or 0) == 0:
                continue
            post_id = str(post.get("id_string") or post.get("id"))
            notes = self._call("read the notes", self.client.notes, self.blog, post_id, mode="conversation")
            for note in (notes or {}).get("notes") or []:
                item = self._note_item(post_id, note)
                if item is None or item.external_id in seen or (item.created_at or since) < window_start:
                    continue
                fresh.append((item.created_at or since, item.external_id, item))
        fresh.sort(key=lambda entry: (entry[0], entry[1]))
        batch = fresh[:limit]
        newest = max([since, *(created for created, _id, _item in batch)])
        seen.update({item_id: created.timestamp() for created, item_id, _item in batch})
        horizon = (newest - CURSOR_OVERLAP).timestamp()
        kept = sorted(((ts, i) for i, ts in seen.items() if ts >= horizon), reverse=True)[:MAX_SEEN]
        new_cursor = json.dumps({"since": newest.timestamp(), "seen": {i: ts for ts, i in kept}}, separators=(",", ":"))
        return Page(items=[item for _c, _i, item in batch], cursor=new_cursor, has_more=len(fresh) > len(batch))

    @staticmethod
    def _note_item(post_id: str, note: Mapping[str, Any]) -> InboundItem | None:
        kind = note.get("type")
        if kind == "reply":
            text = str(note.get("reply_text") or "")
        elif kind == "reblog" and note.get("added_text"):
            text = str(note.get("added_text"))
        else:
            return None  # likes and bare reblogs are counted, not read
        try:
            created = datetime.fromtimestamp(int(note["timestamp"]), UTC)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConnectorError(f"a Tumblr note was not understood: {exc}") from exc
        author = str(note.get("blog_uuid") or note.get("blog_name") or "")
        return InboundItem(
            platform=PLATFORM,
            external_id=f"{post_id}/{author}/{int(created.timestamp())}",
            kind="reply" if kind == "reply" else "mention",
            text=html.unescape(text),
            author_id=author,
            author_name=str(note.get("blog_name") or ""),
            created_at=created,
            url=note.get("blog_url"),
            in_reply_to=post_id,
            conversation_id=post_id,
            raw=dict(note),
        )

    # -- measurement ---------------------------------------------------------------------------------------

    def post_metrics(self, external_id: str) -> Metrics:
        """Likes, reblogs and replies from the post's notes summary."""
        data = self._call("read the notes", self.client.notes, self.blog, external_id, mode="all")
        try:
            total = int(data.get("total_notes") or 0)
            likes = int(data.get("total_likes") or 0)
            reblogs = int(data.get("total_reblogs") or 0)
            replies = sum(1 for n in data.get("notes") or [] if n.get("type") == "reply")
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConnectorError(f"Tumblr's note counts were not understood: {exc}") from exc
        return Metrics(likes=likes, reposts=reblogs, replies=replies, raw={"total_notes": total})

    def account_metrics(self) -> Metrics:
        data = self._call("read the blog", self.client.blog_info, self.blog)
        try:
            followers = int(data["blog"].get("followers") or 0)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConnectorError(f"Tumblr's blog info was not understood: {exc}") from exc
        return Metrics(followers=followers)


def _parse_cursor(cursor: str | None) -> tuple[datetime | None, dict[str, float]]:
    if not cursor:
        return None, {}
    try:
        data = json.loads(cursor)
        return datetime.fromtimestamp(float(data["since"]), UTC), {
            str(k): float(v) for k, v in dict(data.get("seen", {})).items()
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise ConnectorError(f"tumblr: the stored cursor is malformed: {cursor!r}", permanent=True) from exc
