"""Mastodon through ``Mastodon.py``, with the guarded session from ``connectors/http.py``.

Cursors are Mastodon ids (snowflakes, compared as integers): a pull asks for what is newer than the stored id
with ``min_id``, which the API answers with the items immediately after it, so pages chain without gaps. The
first pull of an account reads the newest page only; history is not back-filled.

Direct messages are statuses with ``visibility=direct`` that mention us; they arrive as ``mention``
notifications, so ``pull_messages`` and ``pull_mentions`` read the same notification stream with separate
cursors and each keeps only its own kind (the conversations endpoint shows only a thread's latest status and
could skip messages).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, ClassVar, Literal, TypeVar

import mastodon
from pydantic import Field, field_validator

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
    TextCount,
    TextLimits,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
    account_handle,
)
from legation.connectors.limits import count_mastodon

T = TypeVar("T")

MAX_WEBHOOK_BYTES = 1024 * 1024
SIGNATURE_HEADER = "x-hub-signature"
STATUS_EVENTS = frozenset({"status.created", "status.updated"})


class MastodonConfig(ProviderConfig):
    """Settings of one Mastodon account."""

    api_base_url: str = Field(description="The instance, e.g. https://mastodon.social")
    visibility: Literal["public", "unlisted", "private"] = "public"
    max_characters: int = Field(default=500, ge=1, description="The instance's status length limit")
    account_id: str | None = Field(default=None, description="Our account id; looked up when empty")
    mastodon_version: str = Field(default="4.3.0", description="Skips version detection on every call")

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https://")
        return value.rstrip("/")


class MastodonProvider(Provider):
    """Publish, edit, delete, listen and converse on a Mastodon (or compatible) instance."""

    key = "mastodon"
    name = "Mastodon"
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.REPLY,
            Capability.EDIT,
            Capability.DELETE,
            Capability.PULL_MENTIONS,
            Capability.PULL_TIMELINE,
            Capability.PULL_ACCOUNT,
            Capability.SEARCH,
            Capability.PULL_MESSAGES,
            Capability.SEND_MESSAGE,
            Capability.METRICS,
            Capability.WEBHOOK,
        }
    )
    config_model = MastodonConfig
    credential_fields = ("access_token", "webhook_secret")
    limits = TextLimits(max_length=500, unit="characters", max_media=4, alt_text_max=1500)
    config: MastodonConfig

    # http.py's defaults; an instance may narrow them (tests do).
    retry_policy: ClassVar[http.RetryPolicy | None] = None
    max_response_bytes: ClassVar[int] = http.DEFAULT_MAX_BYTES

    @classmethod
    def count_text(cls, text: str) -> TextCount:
        """Count as Mastodon does: graphemes, every link as 23, ``@user@domain`` as ``@user``."""
        return count_mastodon(text)

    def count_for_instance(self, text: str) -> TextCount:
        """Count against this instance's own limit (some allow more than 500)."""
        return count_mastodon(text, limit=self.config.max_characters)

    # -- plumbing ----------------------------------------------------------------------------------------

    def _api(self) -> mastodon.Mastodon:
        return mastodon.Mastodon(
            access_token=self.credential("access_token"),
            api_base_url=self.config.api_base_url,
            session=http.guarded_session(retry=self.retry_policy, max_bytes=self.max_response_bytes),
            request_timeout=http.READ_TIMEOUT,
            ratelimit_method="throw",
            version_check_mode="created",  # with mastodon_version given: no instance lookup
            mastodon_version=self.config.mastodon_version,
        )

    def _call(self, what: str, fn: Callable[[mastodon.Mastodon], T]) -> T:
        api = self._api()
        try:
            return fn(api)
        except ConnectorError:
            raise
        except mastodon.MastodonRatelimitError as exc:
            reset = getattr(api, "ratelimit_reset", None)
            wait = max(0.0, float(reset) - time.time()) if reset else None
            raise ConnectorError(f"Mastodon rate limit on {what}", retry_after=wait, status=429) from exc
        except mastodon.MastodonNetworkError as exc:
            inner = http.find_connector_error(exc)
            if inner is not None:
                raise inner from exc
            raise ConnectorError(f"Mastodon {what} failed: {exc}") from exc
        except mastodon.MastodonIllegalArgumentError as exc:
            raise ConnectorError(f"Mastodon {what}: {exc}", permanent=True) from exc
        except mastodon.MastodonAPIError as exc:
            raise _api_error(exc, what) from exc
        except mastodon.MastodonError as exc:
            raise ConnectorError(f"Mastodon {what} failed: {exc}") from exc

    def _own_account_id(self, api: mastodon.Mastodon) -> str:
        if not self.config.account_id:
            self.config.account_id = str(api.account_verify_credentials()["id"])
        return self.config.account_id

    # -- identity ----------------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        me = self._call("credential check", lambda api: api.account_verify_credentials())
        return AccountInfo(
            external_id=str(me["id"]), handle=me["acct"], display_name=me.get("display_name") or ""
        )

    # -- publishing --------------------------------------------------------------------------------------

    def _upload(self, api: mastodon.Mastodon, post: OutboundPost) -> list[str]:
        if len(post.media) > self.limits.max_media:
            raise ConnectorError(f"Mastodon takes at most {self.limits.max_media} images", permanent=True)
        ids = []
        for item in post.media:
            attachment = api.media_post(
                io.BytesIO(item.data),
                mime_type=item.mime_type,
                description=item.alt_text or None,
                file_name=item.filename,
            )
            ids.append(str(attachment["id"]))
        return ids

    def _text(self, post: OutboundPost) -> str:
        text = post.text
        if post.link and post.link not in text:
            text = f"{text}\n\n{post.link}" if text else post.link
        count = self.count_for_instance(text)
        if count.over:
            raise ConnectorError(
                f"Mastodon post is {count.used} characters, over the limit of {count.limit}", permanent=True
            )
        return text

    def publish(self, post: OutboundPost) -> Delivered:
        text = self._text(post)

        def send(api: mastodon.Mastodon) -> Any:
            media_ids = self._upload(api, post)
            return api.status_post(
                text,
                in_reply_to_id=post.reply_to,
                media_ids=media_ids or None,
                visibility=self.config.visibility,
                language=post.language,
                idempotency_key=post.idempotency_key,
            )

        status = self._call("publishing", send)
        return _delivered(status)

    def edit(self, external_id: str, post: OutboundPost) -> Delivered:
        text = self._text(post)

        def send(api: mastodon.Mastodon) -> Any:
            media_ids = self._upload(api, post)
            return api.status_update(external_id, text, media_ids=media_ids or None)

        return _delivered(self._call("editing", send))

    def delete(self, external_id: str) -> None:
        try:
            self._call("deleting", lambda api: api.status_delete(external_id))
        except ConnectorError as exc:
            if exc.status != 404:
                raise
            # Already gone: a retraction that was half done before is done now.

    def send_message(self, recipient_id: str, text: str) -> Delivered:
        handle = recipient_id.lstrip("@")
        status = self._call(
            "sending a direct message",
            lambda api: api.status_post(f"@{handle} {text}", visibility="direct"),
        )
        return _delivered(status)

    # -- listening ---------------------------------------------------------------------------------------

    def _mention_page(self, cursor: str | None, limit: int, direct: bool) -> Page:
        limit = max(1, min(limit, 40))
        notes = self._call(
            "pulling mentions",
            lambda api: api.notifications(types=["mention"], min_id=cursor, limit=limit),
        )
        ordered = sorted(notes, key=lambda n: _id_key(n["id"]))
        items = []
        for note in ordered:
            status = note.get("status")
            if not status or (status.get("visibility") == "direct") != direct:
                continue
            items.append(_status_item(status, "message" if direct else "mention"))
        return _page(items, ordered, cursor, limit)

    def pull_mentions(self, cursor: str | None, limit: int = 40) -> Page:
        return self._mention_page(cursor, limit, direct=False)

    def pull_messages(self, cursor: str | None, limit: int = 40) -> Page:
        return self._mention_page(cursor, limit, direct=True)

    def pull_timeline(self, cursor: str | None, limit: int = 40) -> Page:
        limit = max(1, min(limit, 40))
        statuses = self._call(
            "pulling the timeline",
            lambda api: api.account_statuses(self._own_account_id(api), min_id=cursor, limit=limit),
        )
        ordered = sorted(statuses, key=lambda s: _id_key(s["id"]))
        return _page([_status_item(s, "post") for s in ordered], ordered, cursor, limit)

    def pull_account(self, handle: str, cursor: str | None, limit: int = 40) -> Page:
        """Another account's public posts: ``name`` on this instance or ``name@instance`` (accounts/lookup, then
        accounts/:id/statuses); direct and private posts are never listened to."""
        limit = max(1, min(limit, 40))
        acct = account_handle(handle)
        if not acct or any(c.isspace() for c in acct):
            raise ConnectorError(f"{handle!r} is not a Mastodon handle (name or name@instance)", permanent=True)
        account = self._call("looking up an account", lambda api: api.account_lookup(acct))
        statuses = self._call(
            f"reading @{acct}'s posts",
            lambda api: api.account_statuses(account["id"], min_id=cursor, limit=limit),
        )
        ordered = sorted(statuses, key=lambda s: _id_key(s["id"]))
        public = [s for s in ordered if s.get("visibility", "public") in ("public", "unlisted")]
        return _page([_status_item(s, "post") for s in public], ordered, cursor, limit)

    def search(self, query: str, cursor: str | None, limit: int = 40) -> Page:
        """A ``#hashtag`` reads the tag's timeline; other text uses the instance's full-text search."""
        limit = max(1, min(limit, 40))
        query = query.strip()
        if query.startswith("#") and " " not in query:
            tag = query[1:]
            found = self._call(
                "reading a hashtag",
                lambda api: api.timeline_hashtag(tag, min_id=cursor, limit=limit),
            )
        else:
            result = self._call(
                "searching",
                lambda api: api.search_v2(
                    query, resolve=False, result_type="statuses", min_id=cursor, limit=limit
                ),
            )
            found = result["statuses"]
        ordered = sorted(found, key=lambda s: _id_key(s["id"]))
        return _page([_status_item(s, "post") for s in ordered], ordered, cursor, limit)

    # -- measurement -------------------------------------------------------------------------------------

    def post_metrics(self, external_id: str) -> Metrics:
        status = self._call("reading post metrics", lambda api: api.status(external_id))
        return Metrics(
            likes=status.get("favourites_count"),
            reposts=status.get("reblogs_count"),
            replies=status.get("replies_count"),
            raw=_plain(status),
        )

    def account_metrics(self) -> Metrics:
        me = self._call("reading account metrics", lambda api: api.account_verify_credentials())
        return Metrics(followers=me.get("followers_count"), raw=_plain(me))

    # -- webhooks ----------------------------------------------------------------------------------------

    def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify ``X-Hub-Signature: sha256=<hex>`` (HMAC-SHA256 of the body) and read status events."""
        if request.method.upper() != "POST":
            raise WebhookRejected("Mastodon webhooks are POSTed", status=405)
        if len(request.body) > MAX_WEBHOOK_BYTES:
            raise WebhookRejected("Mastodon webhook body is too large", status=413)
        secret = self.credentials.get("webhook_secret")
        if not secret:
            raise WebhookRejected("no webhook secret is configured for this Mastodon account", status=403)
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header:
            raise WebhookRejected("Mastodon webhook without X-Hub-Signature", status=401)
        expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(header.strip().lower(), expected):
            raise WebhookRejected("Mastodon webhook signature does not match", status=401)
        try:
            payload = json.loads(request.body)
        except ValueError as exc:
            raise WebhookRejected("Mastodon webhook body is not JSON", status=400) from exc
        if not isinstance(payload, dict) or "event" not in payload:
            raise WebhookRejected("Mastodon webhook body has no event", status=400)
        items = []
        obj = payload.get("object")
        if payload["event"] in STATUS_EVENTS and isinstance(obj, dict) and obj.get("id"):
            items.append(_status_item(obj, "reply" if obj.get("in_reply_to_id") else "post"))
        # Mastodon sends no delivery id; a redelivery carries the same body, so its digest identifies it.
        delivery = hashlib.sha256(request.body).hexdigest()
        return WebhookResult(items=items, delivery_id=f"mastodon:{delivery}")


# -- mapping -------------------------------------------------------------------------------------------------


def _api_error(exc: mastodon.MastodonAPIError, what: str) -> ConnectorError:
    args = exc.args
    status = args[1] if len(args) > 1 and isinstance(args[1], int) else None
    detail = str(args[3]) if len(args) > 3 and args[3] else ""
    if status is None:
        # Mastodon.py raises a bare MastodonAPIError when a 2xx body is not JSON.
        return ConnectorError(f"Mastodon {what}: malformed answer from the instance ({args[0]})")
    error = http.error_for_status(status, body=json.dumps({"error": detail}), what=f"Mastodon {what}")
    if status == 401:
        # Mastodon tokens do not expire and cannot be refreshed: a 401 means the token was revoked.
        error.auth_expired = False
    return error


def _id_key(value: Any) -> tuple[int, str]:
    text = str(value)
    return (int(text), text) if text.isdecimal() else (0, text)


def _page(items: list[InboundItem], raw: list[Any], cursor: str | None, limit: int) -> Page:
    newest = str(raw[-1]["id"]) if raw else cursor
    # Only a forward pull (min_id given) can have more waiting; the first pull reads the newest page only.
    return Page(items=items, cursor=newest, has_more=cursor is not None and len(raw) >= limit)


def _delivered(status: Mapping[str, Any]) -> Delivered:
    return Delivered(
        external_id=str(status["id"]), url=status.get("url") or status.get("uri"), raw=_plain(status)
    )


def _status_item(status: Mapping[str, Any], kind: str) -> InboundItem:
    account = status.get("account") or {}
    created = status.get("created_at")
    if isinstance(created, str):
        created = datetime.fromisoformat(created.replace("Z", "+00:00"))
    reply_to = status.get("in_reply_to_id")
    return InboundItem(
        platform="mastodon",
        external_id=str(status["id"]),
        kind=kind,
        text=html_to_text(status.get("content") or ""),
        author_id=str(account.get("id", "")),
        author_name=account.get("acct") or account.get("username") or "",
        created_at=created if isinstance(created, datetime) else None,
        url=status.get("url") or status.get("uri"),
        in_reply_to=str(reply_to) if reply_to else None,
        conversation_id=str(account.get("id")) if kind == "message" else None,
        language=status.get("language"),
        raw=_plain(status),
    )


def _plain(value: Any) -> Any:
    """Mastodon.py's attribute dicts and datetimes as plain JSON-ready data."""
    return json.loads(json.dumps(value, default=str))


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Mastodon's status HTML as plain text, paragraphs and line breaks kept.

    Mastodon splits a long link into "invisible" and "ellipsis" spans; keeping every span's text gives the
    full URL back.
    """
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts).strip()
