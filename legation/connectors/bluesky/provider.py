"""Bluesky through the ``atproto`` SDK, over the guarded httpx transport from ``connectors/http.py``.

Authentication uses an app password (``createSession``); the session (access and refresh JWTs) is kept as the
SDK's session string in the ``session_string`` credential so that each call does not log in again. The SDK
refreshes the access token shortly before it expires; when the PDS still answers ``401 ExpiredToken`` the
provider refreshes (``refreshSession``) and tries once more, and when the refresh token is dead too it logs in
again with the app password. Renewed credentials are left in ``renewed_credentials`` for the vault.

Bluesky lists (notifications, author feed, search) page from newest to oldest. A cursor here is a small JSON
state: the newest position already delivered (``seen``), the newest position of the sweep under way (``top``)
and the SDK cursor to continue that sweep (``next``). A sweep walks back page by page until it reaches
``seen``; an interrupted sweep resumes from ``next``; posts that arrive meanwhile are above ``top`` and are
read by the next sweep. The first pull reads the newest page only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import pydantic
from atproto import Client, models
from atproto_client import exceptions as at_exc
from atproto_client.client.session import Session, SessionEvent
from atproto_client.request import Request
from atproto_core.uri import AtUri
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
    TokenSet,
    account_handle,
)
from legation.connectors.limits import count_bluesky

T = TypeVar("T")

AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
MENTION_REASONS = {"mention": "mention", "reply": "reply", "quote": "mention"}


class BlueskyConfig(ProviderConfig):
    """Settings of one Bluesky account."""

    service_url: str = Field(default="https://bsky.social", description="The account's PDS or entryway")

    @field_validator("service_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https://")
        return value.rstrip("/")


@dataclass
class _Sweep:
    """Where a newest-first listing stands; see the module docstring."""

    seen: str | None = None
    top: str | None = None
    next: str | None = None

    @classmethod
    def load(cls, cursor: str | None) -> _Sweep | None:
        if not cursor:
            return None
        try:
            data = json.loads(cursor)
            return cls(seen=data.get("seen"), top=data.get("top"), next=data.get("next"))
        except (ValueError, AttributeError) as exc:
            raise ConnectorError(
                f"Bluesky cursor is not one this provider wrote: {cursor[:40]!r}", permanent=True
            ) from exc

    def dump(self) -> str:
        return json.dumps({"seen": self.seen, "top": self.top, "next": self.next}, sort_keys=True)


class BlueskyProvider(Provider):
    """Publish, delete, listen and measure on Bluesky (AT Protocol)."""

    key = "bluesky"
    name = "Bluesky"
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.REPLY,
            Capability.DELETE,
            Capability.PULL_MENTIONS,
            Capability.PULL_TIMELINE,
            Capability.PULL_ACCOUNT,
            Capability.SEARCH,
            Capability.METRICS,
            Capability.REFRESH_TOKEN,
        }
    )
    config_model = BlueskyConfig
    credential_fields = ("identifier", "app_password", "session_string")
    limits = TextLimits(max_length=300, unit="graphemes", max_media=4, alt_text_max=2000)
    config: BlueskyConfig

    # http.py's defaults; an instance may narrow them (tests do).
    retry_policy: ClassVar[http.RetryPolicy | None] = None
    max_response_bytes: ClassVar[int] = http.DEFAULT_MAX_BYTES

    def __init__(self, config: Any, credentials: Mapping[str, str]) -> None:
        super().__init__(config, credentials)
        self._client: Client | None = None
        self.renewed_credentials = None

    @classmethod
    def count_text(cls, text: str) -> TextCount:
        """Count graphemes against 300 (and UTF-8 bytes against 3000)."""
        return count_bluesky(text)

    # -- session -----------------------------------------------------------------------------------------

    def _new_client(self) -> Client:
        transport = http.guarded_httpx_transport(retry=self.retry_policy, max_bytes=self.max_response_bytes)
        client = Client(
            self.config.service_url, request=Request(transport=transport, timeout=http.HTTPX_TIMEOUT)
        )
        client.on_session_change(self._session_changed)
        return client

    def _session_changed(self, event: SessionEvent, session: Session) -> None:
        if event != SessionEvent.IMPORT:  # importing the stored session changes nothing
            self._remember(session.encode())

    def _remember(self, session_string: str) -> None:
        self.credentials["session_string"] = session_string
        self.renewed_credentials = {"session_string": session_string}

    def _login(self, client: Client) -> None:
        self._guard(
            "signing in",
            lambda: client.login(
                self.credential("identifier"), self.credential("app_password"), fetch_bsky_profile=False
            ),
        )

    def _connected(self) -> Client:
        if self._client is not None:
            return self._client
        client = self._new_client()
        session = self.credentials.get("session_string")
        if session:
            try:
                self._guard(
                    "resuming the session",
                    lambda: client.login(session_string=session, fetch_bsky_profile=False),
                )
            except ConnectorError as exc:
                if not exc.auth_expired or not self.credentials.get("app_password"):
                    raise
                self._login(client)
        else:
            self._login(client)
        self._client = client
        return client

    def _did(self, client: Client) -> str:
        session = client._session  # the SDK exposes the logged-in DID only on its session
        if session is None:
            raise ConnectorError("Bluesky session is missing after login")
        return str(session.did)

    def _refresh(self, client: Client) -> None:
        try:
            self._guard("refreshing the session", client._refresh_and_set_session)
        except ConnectorError as exc:
            if not exc.auth_expired or not self.credentials.get("app_password"):
                raise
            # The refresh token is dead too: sign in again with the app password.
            self._login(client)

    def _call(self, what: str, fn: Callable[[Client], T]) -> T:
        client = self._connected()
        try:
            return self._guard(what, lambda: fn(client))
        except ConnectorError as exc:
            if not exc.auth_expired:
                raise
        self._refresh(client)
        return self._guard(what, lambda: fn(client))

    def _guard(self, what: str, fn: Callable[[], T]) -> T:
        """Run one SDK call, turning every failure into a ConnectorError."""
        try:
            return fn()
        except ConnectorError:
            raise
        except at_exc.RequestErrorBase as exc:
            raise _request_error(exc, what) from exc
        except (at_exc.ModelError, pydantic.ValidationError, ValueError) as exc:
            raise ConnectorError(f"Bluesky {what}: malformed answer from the server ({exc})"[:400]) from exc
        except at_exc.AtProtocolError as exc:
            raise ConnectorError(f"Bluesky {what} failed: {exc}") from exc

    # -- identity and tokens -----------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        def look(client: Client) -> Any:
            return client.get_profile(self._did(client))

        profile = self._call("reading the profile", look)
        return AccountInfo(
            external_id=profile.did, handle=profile.handle, display_name=profile.display_name or ""
        )

    def refresh_token(self) -> TokenSet:
        client = self._connected()
        self._refresh(client)
        session = client._session
        expires = None
        if session is not None and session.access_jwt_payload.exp:
            expires = datetime.fromtimestamp(session.access_jwt_payload.exp, UTC)
        return TokenSet(
            credentials={"session_string": self.credentials["session_string"]}, expires_at=expires
        )

    # -- publishing --------------------------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> Delivered:
        text = post.text
        if post.link and post.link not in text:
            text = f"{text}\n\n{post.link}" if text else post.link
        count = count_bluesky(text)
        if count.over:
            raise ConnectorError(
                f"Bluesky post is {count.used} graphemes, over the limit of {count.limit}", permanent=True
            )
        if len(post.media) > self.limits.max_media:
            raise ConnectorError(f"Bluesky takes at most {self.limits.max_media} images", permanent=True)

        def send(client: Client) -> Any:
            embed = None
            if post.media:
                images = [
                    models.AppBskyEmbedImages.Image(alt=m.alt_text, image=client.upload_blob(m.data).blob)
                    for m in post.media
                ]
                embed = models.AppBskyEmbedImages.Main(images=images)
            reply = self._reply_ref(client, post.reply_to) if post.reply_to else None
            return client.send_post(
                text,
                profile_identify=self._did(client),
                reply_to=reply,
                embed=embed,
                langs=[post.language] if post.language else None,
                facets=client.detect_facets(text) or None,
            )

        created = self._call("publishing", send)
        handle = self._handle()
        return Delivered(
            external_id=created.uri,
            url=post_url(created.uri, handle),
            raw={"uri": created.uri, "cid": created.cid},
        )

    def _handle(self) -> str:
        session = self._connected()._session
        return session.handle if session is not None else ""

    def _reply_ref(self, client: Client, parent_uri: str) -> models.AppBskyFeedPost.ReplyRef:
        found = client.get_posts([parent_uri]).posts
        if not found:
            raise ConnectorError(
                f"Bluesky post to reply to was not found: {parent_uri}", permanent=True, status=404
            )
        parent = found[0]
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.uri, cid=parent.cid)
        record_reply = getattr(parent.record, "reply", None)
        root_ref = record_reply.root if record_reply is not None else parent_ref
        return models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=root_ref)

    def delete(self, external_id: str) -> None:
        self._call("deleting", lambda client: client.delete_post(external_id))

    # -- listening ---------------------------------------------------------------------------------------

    def _sweep(
        self,
        what: str,
        cursor: str | None,
        fetch: Callable[[Client, str | None], tuple[list[Any], str | None]],
        to_items: Callable[[Any], Iterable[InboundItem]],
        key: Callable[[Any], str],
    ) -> Page:
        state = _Sweep.load(cursor)
        sdk_cursor = state.next if state else None
        rows, next_cursor = self._call(what, lambda client: fetch(client, sdk_cursor))
        if state is None:
            # First pull: the newest page only, and from now on everything after it.
            top = max((key(r) for r in rows), default=None)
            items = [i for r in reversed(rows) for i in to_items(r)]
            return Page(items=items, cursor=_Sweep(seen=top).dump(), has_more=False)
        if state.next is None:
            state.top = max((key(r) for r in rows), default=state.seen)
        fresh = [r for r in rows if state.seen is None or key(r) > state.seen]
        items = [i for r in reversed(fresh) for i in to_items(r)]
        reached_seen = len(fresh) < len(rows)
        if reached_seen or not next_cursor or not rows:
            return Page(
                items=items,
                cursor=_Sweep(seen=max(filter(None, [state.top, state.seen]), default=None)).dump(),
            )
        return Page(
            items=items, cursor=_Sweep(seen=state.seen, top=state.top, next=next_cursor).dump(), has_more=True
        )

    def pull_mentions(self, cursor: str | None, limit: int = 50) -> Page:
        limit = max(1, min(limit, 100))

        def fetch(client: Client, sdk_cursor: str | None) -> tuple[list[Any], str | None]:
            answer = client.app.bsky.notification.list_notifications(
                models.AppBskyNotificationListNotifications.Params(cursor=sdk_cursor, limit=limit)
            )
            return list(answer.notifications), answer.cursor

        def items(note: Any) -> Iterable[InboundItem]:
            kind = MENTION_REASONS.get(note.reason)
            if kind:
                yield _item(note.uri, note.cid, note.author, note.record, kind, note.indexed_at)

        return self._sweep("pulling notifications", cursor, fetch, items, _note_key)

    def pull_timeline(self, cursor: str | None, limit: int = 50) -> Page:
        limit = max(1, min(limit, 100))

        def fetch(client: Client, sdk_cursor: str | None) -> tuple[list[Any], str | None]:
            answer = client.get_author_feed(
                self._did(client), cursor=sdk_cursor, filter="posts_with_replies", limit=limit
            )
            own = [f.post for f in answer.feed if f.reason is None]
            return own, answer.cursor

        def items(post: Any) -> Iterable[InboundItem]:
            yield _item(post.uri, post.cid, post.author, post.record, "post", post.indexed_at, post)

        return self._sweep("pulling the author feed", cursor, fetch, items, _post_key)

    def pull_account(self, handle: str, cursor: str | None, limit: int = 50) -> Page:
        """Another account's posts and replies (``app.bsky.feed.getAuthorFeed`` with its handle or DID), not its
        reposts."""
        limit = max(1, min(limit, 100))
        actor = account_handle(handle)
        if not actor or any(c.isspace() for c in actor):
            raise ConnectorError(f"{handle!r} is not a Bluesky handle (name.bsky.social or a DID)", permanent=True)

        def fetch(client: Client, sdk_cursor: str | None) -> tuple[list[Any], str | None]:
            answer = client.get_author_feed(actor, cursor=sdk_cursor, filter="posts_with_replies", limit=limit)
            return [f.post for f in answer.feed if f.reason is None], answer.cursor

        def items(post: Any) -> Iterable[InboundItem]:
            yield _item(post.uri, post.cid, post.author, post.record, "post", post.indexed_at, post)

        return self._sweep(f"reading @{actor}'s posts", cursor, fetch, items, _post_key)

    def search(self, query: str, cursor: str | None, limit: int = 50) -> Page:
        limit = max(1, min(limit, 100))

        def fetch(client: Client, sdk_cursor: str | None) -> tuple[list[Any], str | None]:
            answer = client.app.bsky.feed.search_posts(
                models.AppBskyFeedSearchPosts.Params(q=query, sort="latest", cursor=sdk_cursor, limit=limit)
            )
            return list(answer.posts), answer.cursor

        def items(post: Any) -> Iterable[InboundItem]:
            yield _item(post.uri, post.cid, post.author, post.record, "post", post.indexed_at, post)

        return self._sweep("searching posts", cursor, fetch, items, _post_key)

    # -- measurement -------------------------------------------------------------------------------------

    def post_metrics(self, external_id: str) -> Metrics:
        posts = self._call("reading post metrics", lambda client: client.get_posts([external_id]).posts)
        if not posts:
            raise ConnectorError(f"Bluesky post not found: {external_id}", permanent=True, status=404)
        post = posts[0]
        return Metrics(
            likes=post.like_count,
            reposts=(post.repost_count or 0) + (post.quote_count or 0),
            replies=post.reply_count,
            raw=post.model_dump(mode="json", by_alias=True),
        )

    def account_metrics(self) -> Metrics:
        profile = self._call("reading account metrics", lambda client: client.get_profile(self._did(client)))
        return Metrics(followers=profile.followers_count, raw=profile.model_dump(mode="json", by_alias=True))


# -- mapping -------------------------------------------------------------------------------------------------


def post_url(uri: str, handle: str) -> str:
    """The bsky.app address of a post from its AT URI."""
    parsed = AtUri.from_str(uri)
    return f"https://bsky.app/profile/{handle or parsed.host}/post/{parsed.rkey}"


def _note_key(note: Any) -> str:
    return f"{note.indexed_at}|{note.uri}"


def _post_key(post: Any) -> str:
    return f"{post.indexed_at}|{post.uri}"


def _item(
    uri: str, cid: str, author: Any, record: Any, kind: str, indexed_at: str, view: Any = None
) -> InboundItem:
    text = getattr(record, "text", "") or ""
    reply = getattr(record, "reply", None)
    langs = getattr(record, "langs", None) or []
    created = getattr(record, "created_at", None) or indexed_at
    try:
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        created_at = None
    raw: dict[str, Any] = {"uri": uri, "cid": cid}
    if view is not None:
        raw.update(like_count=view.like_count, repost_count=view.repost_count, reply_count=view.reply_count)
    if kind == "mention" and reply is not None:
        kind = "reply"
    return InboundItem(
        platform="bluesky",
        external_id=uri,
        kind=kind,
        text=text,
        author_id=author.did,
        author_name=author.handle,
        created_at=created_at,
        url=post_url(uri, author.handle),
        in_reply_to=reply.parent.uri if reply is not None else None,
        conversation_id=reply.root.uri if reply is not None else None,
        language=langs[0] if langs else None,
        raw=raw,
    )


def _request_error(exc: at_exc.RequestErrorBase, what: str) -> ConnectorError:
    response = exc.response
    if response is None:
        # Transport failure: our own guard refusal, a timeout or a broken connection.
        inner = http.find_connector_error(exc)
        if inner is not None:
            return inner
        return ConnectorError(f"Bluesky {what} failed: {type(exc).__name__} {exc.__cause__ or ''}".strip())
    content = response.content
    code = getattr(content, "error", None) or ""
    message = getattr(content, "message", None) or ""
    if not code and isinstance(content, bytes | str):
        message = http.platform_message(content)
    body = json.dumps({"message": f"{code}: {message}".strip(": ")})
    error = http.error_for_status(response.status_code, response.headers, body, what=f"Bluesky {what}")
    if code in AUTH_ERRORS or (response.status_code == 400 and code == "ExpiredToken"):
        error.auth_expired = True
        error.permanent = True
    elif response.status_code == 401:
        error.auth_expired = code in AUTH_ERRORS or not code
    if code in {"AccountTakedown", "AccountSuspended", "AccountDeactivated"}:
        error.permanent = True
        error.auth_expired = False
    return error
