"""X (formerly Twitter) through API v2 and the official ``xdk`` SDK.

Calls go through ``xdk.Client`` pointed at ``api_base_url``; its requests session is swapped for the guarded
one from ``connectors/http.py`` so timeouts, retries and the private-address guard apply. Inbound webhooks
follow the Account Activity API: a CRC challenge on GET and ``x-twitter-webhooks-signature`` on POST, both
HMAC-SHA256 with the app's consumer secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import pydantic
import requests
import xdk
from xdk.direct_messages.models import CreateByParticipantIdRequest
from xdk.media.models import CreateMetadataRequest, UploadRequest
from xdk.posts.models import CreateRequest

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
    ProviderConfig,
    TextCount,
    TextLimits,
    TokenSet,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
    account_handle,
)
from legation.connectors.base import Provider as BaseProvider
from legation.connectors.limits import count_x

POST_FIELDS = [
    "id",
    "text",
    "author_id",
    "created_at",
    "conversation_id",
    "referenced_posts",
    "lang",
    "public_metrics",
    "in_reply_to_user_id",
]
USER_FIELDS = ["id", "name", "username", "public_metrics"]
DM_FIELDS = ["id", "text", "event_type", "created_at", "sender_id", "dm_conversation_id", "participant_ids"]
# A webhook delivery larger than this is not something X sends; refuse it rather than parse it.
MAX_WEBHOOK_BYTES = 1_000_000
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")  # what X allows in a handle


class XConfig(ProviderConfig):
    """Settings of one X account."""

    api_base_url: str = "https://api.x.com"
    user_id: str | None = None  # the account's numeric id; looked up with users/me when unset
    username: str | None = None  # used to build post URLs


class XProvider(BaseProvider):
    """An X account: posts, replies, mentions, search, DMs, metrics and Account Activity webhooks."""

    key = "x"
    name = "X"
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.EDIT,
            Capability.REPLY,
            Capability.DELETE,
            Capability.PULL_MENTIONS,
            Capability.PULL_TIMELINE,
            Capability.PULL_ACCOUNT,
            Capability.SEARCH,
            Capability.PULL_MESSAGES,
            Capability.SEND_MESSAGE,
            Capability.METRICS,
            Capability.WEBHOOK,
            Capability.REFRESH_TOKEN,
        }
    )
    config_model = XConfig
    # access_token: OAuth 2.0 user-context token; refresh_token/client_id/client_secret renew it;
    # consumer_secret signs Account Activity webhooks.
    credential_fields = ("access_token", "refresh_token", "client_id", "client_secret", "consumer_secret")
    limits: ClassVar[TextLimits] = TextLimits(
        max_length=280, unit="weighted characters", max_media=4, alt_text_max=1000
    )
    config: XConfig
    retry_policy: http.RetryPolicy = http.RetryPolicy()

    def __init__(self, config: Mapping[str, Any] | ProviderConfig | None, credentials: Mapping[str, str]):
        super().__init__(config, credentials)
        self._user_id = self.config.user_id
        self._username = self.config.username

    @classmethod
    def count_text(cls, text: str) -> TextCount:
        """Count with X's weighted rules: CJK and emoji weigh 2, every URL weighs 23."""
        return count_x(text)

    # ---- plumbing -----------------------------------------------------------------------------------------

    def _client(self, answers: list[requests.Response]) -> xdk.Client:
        client = xdk.Client(
            base_url=self.config.api_base_url.rstrip("/"), access_token=self.credential("access_token")
        )
        # Posts are not resent after a 5xx (that could publish twice); 429/503 and reads are.
        client.session = http.guarded_session(retry=self.retry_policy)
        client.session.hooks["response"].append(lambda r, *a, **k: answers.append(r))
        return client

    def _call(self, what: str, fn: Callable[[xdk.Client], Any]) -> dict[str, Any]:
        """Run one SDK call and return the JSON body; every failure becomes a ConnectorError saying what."""
        answers: list[requests.Response] = []
        try:
            result = fn(self._client(answers))
        except ConnectorError:
            raise
        except requests.HTTPError as exc:
            response = exc.response
            if response is None:
                raise ConnectorError(f"X failed on {what}: {exc}") from exc
            error = http.error_for_status(
                response.status_code, response.headers, response.content, what=f"X {what}"
            )
            raise error from exc
        except pydantic.ValidationError as exc:
            # X's live answers and the SDK's generated models drift apart (tweet_count vs post_count, ...):
            # a well-formed JSON object is still used, read with both namings.
            body = _json_object(answers[-1]) if answers else None
            if body is None:
                raise ConnectorError(f"X returned a malformed response to {what}") from exc
            return body
        except requests.JSONDecodeError as exc:
            raise ConnectorError(f"X returned a malformed response to {what}") from exc
        except requests.RequestException as exc:
            raise http.error_for_exception(exc, what=f"X {what}") from exc
        if result is None:
            return {}
        dumped: dict[str, Any] = (
            result.model_dump(exclude_none=True) if hasattr(result, "model_dump") else result
        )
        return dumped

    def _me(self) -> str:
        if not self._user_id:
            self.verify_credentials()
        assert self._user_id
        return self._user_id

    def _post_url(self, post_id: str, username: str | None = None) -> str:
        handle = username or self._username
        return (
            f"https://x.com/{handle}/status/{post_id}" if handle else f"https://x.com/i/web/status/{post_id}"
        )

    # ---- identity and tokens ------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        data = self._call("users/me", lambda c: c.users.get_me(user_fields=USER_FIELDS)).get("data")
        if not data or not data.get("id"):
            raise ConnectorError("X answered users/me without a user")
        self._user_id, self._username = str(data["id"]), data.get("username")
        return AccountInfo(
            external_id=str(data["id"]),
            handle=data.get("username") or "",
            display_name=data.get("name") or "",
        )

    def refresh_token(self) -> TokenSet:
        """Exchange the refresh token for a new pair; X rotates refresh tokens, so store both."""
        client_id = self.credential("client_id")
        refresh = self.credential("refresh_token")
        secret = self.credentials.get("client_secret")
        response = http.request(
            "POST",
            f"{self.config.api_base_url.rstrip('/')}/2/oauth2/token",
            session=http.guarded_session(retry=self.retry_policy),
            what="X token refresh",
            data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id},
            auth=(client_id, secret) if secret else None,
        )
        token = http.json_body(response, what="X token refresh")
        if not isinstance(token, dict) or not token.get("access_token"):
            raise ConnectorError("X answered the token refresh without an access token")
        fresh = dict(self.credentials)
        fresh["access_token"] = token["access_token"]
        if token.get("refresh_token"):
            fresh["refresh_token"] = token["refresh_token"]
        self.credentials = fresh
        expires = token.get("expires_in")
        expires_at = datetime.fromtimestamp(time.time() + float(expires), tz=UTC) if expires else None
        return TokenSet(credentials=fresh, expires_at=expires_at)

    # ---- publishing ---------------------------------------------------------------------------------------

    def _check_post(self, post: OutboundPost) -> str:
        text = post.text if not post.link or post.link in post.text else f"{post.text} {post.link}".strip()
        counted = self.count_text(text)
        if counted.over:
            raise ConnectorError(
                f"Post is too long for X: {counted.used} of {counted.limit} {counted.unit}", permanent=True
            )
        if len(post.media) > self.limits.max_media:
            raise ConnectorError(f"X takes at most {self.limits.max_media} images per post", permanent=True)
        for item in post.media:
            if self.limits.alt_text_max and len(item.alt_text) > self.limits.alt_text_max:
                raise ConnectorError(
                    f"Alt text is longer than X's {self.limits.alt_text_max} characters", permanent=True
                )
        return text

    def _upload(self, client: xdk.Client, data: bytes, mime: str, alt_text: str) -> str:
        category = "tweet_gif" if mime == "image/gif" else "tweet_image"
        uploaded = client.media.upload(
            UploadRequest(media=base64.b64encode(data).decode("ascii"), media_category=category)
        )
        media_id = uploaded.data.id if uploaded.data else None
        if not media_id:
            raise ConnectorError("X accepted the image but returned no media id")
        if alt_text:
            client.media.create_metadata(
                CreateMetadataRequest.model_validate(
                    {"id": media_id, "metadata": {"alt_text": {"text": alt_text}}}
                )
            )
        return media_id

    def _create(self, post: OutboundPost, previous_id: str | None) -> Delivered:
        text = self._check_post(post)

        def create(client: xdk.Client) -> dict[str, Any]:
            body: dict[str, Any] = {"text": text}
            if post.media:
                body["media"] = {
                    "media_ids": [self._upload(client, m.data, m.mime_type, m.alt_text) for m in post.media]
                }
            if post.reply_to:
                body["reply"] = {"in_reply_to_tweet_id": post.reply_to}
            if previous_id:
                body["edit_options"] = {"previous_post_id": previous_id}
            return client.posts.create(CreateRequest.model_validate(body))

        what = "editing the post" if previous_id else "publishing the post"
        created = self._call(what, create)
        data = created.get("data") or {}
        if not data.get("id"):
            raise ConnectorError(f"X answered {what} without a post id: {_errors_text(created)}")
        return Delivered(external_id=str(data["id"]), url=self._post_url(str(data["id"])), raw=created)

    def publish(self, post: OutboundPost) -> Delivered:
        return self._create(post, previous_id=None)

    def edit(self, external_id: str, post: OutboundPost) -> Delivered:
        """Edit a post (X allows it within an hour, five times, for subscribed accounts); it gets a new id."""
        return self._create(post, previous_id=external_id)

    def delete(self, external_id: str) -> None:
        result = self._call("deleting the post", lambda c: c.posts.delete(external_id))
        if not (result.get("data") or {}).get("deleted"):
            raise ConnectorError(f"X did not delete post {external_id}: {_errors_text(result)}")

    # ---- listening ----------------------------------------------------------------------------------------

    def _pull_posts(
        self,
        what: str,
        kind: str,
        cursor: str | None,
        endpoint: Callable[[Any], Callable[..., Iterator[Any]]],
        subject: str,
        max_results: int,
    ) -> Page:
        """One page of a newest-first listing, resumable: see :class:`_SweepCursor`.

        ``endpoint`` picks the SDK's listing method off the client; it is called with ``subject`` (a user id
        or a query), the page size and the fields every listing asks for.
        """
        state = _SweepCursor.load(cursor)
        body = self._call(
            what,
            lambda c: next(
                iter(
                    endpoint(c)(
                        subject,
                        max_results=max_results,
                        post_fields=POST_FIELDS,
                        expansions=["author_id"],
                        user_fields=USER_FIELDS,
                        since_id=state.since_id,
                        pagination_token=state.token,
                    )
                ),
                None,
            ),
        )
        users = {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}
        items = [self._post_item(p, users, kind) for p in body.get("data") or []]
        meta = body.get("meta") or {}
        cursor_out, has_more = state.advance(meta.get("newest_id"), meta.get("next_token"))
        return Page(items=items, cursor=cursor_out, has_more=has_more)

    def _post_item(self, post: Mapping[str, Any], users: Mapping[str, Any], kind: str) -> InboundItem:
        author = users.get(post.get("author_id", ""), {})
        references = post.get("referenced_posts") or post.get("referenced_tweets") or []
        replied_to = next((r["id"] for r in references if r.get("type") == "replied_to"), None)
        if kind == "mention" and replied_to:
            kind = "reply"
        return InboundItem(
            platform=self.key,
            external_id=str(post["id"]),
            kind=kind,
            text=post.get("text", ""),
            author_id=str(post.get("author_id", "")),
            author_name=author.get("username", ""),
            created_at=_parse_time(post.get("created_at")),
            url=self._post_url(str(post["id"]), author.get("username")),
            in_reply_to=replied_to,
            conversation_id=post.get("conversation_id"),
            language=post.get("lang"),
            raw=dict(post),
        )

    def pull_mentions(self, cursor: str | None, limit: int = 100) -> Page:
        return self._pull_posts(
            "pulling mentions", "mention", cursor, lambda c: c.users.get_mentions, self._me(), _clamp(limit, 5, 100)
        )

    def pull_timeline(self, cursor: str | None, limit: int = 100) -> Page:
        return self._pull_posts(
            "pulling the timeline", "post", cursor, lambda c: c.users.get_posts, self._me(), _clamp(limit, 5, 100)
        )

    def pull_account(self, handle: str, cursor: str | None, limit: int = 100) -> Page:
        """Another account's posts (GET /2/users/by/username/:username, then /2/users/:id/tweets)."""
        username = account_handle(handle)
        if not _USERNAME.fullmatch(username):
            raise ConnectorError(f"{handle!r} is not an X handle (letters, digits and _, at most 15)", permanent=True)
        body = self._call(
            "looking up an account", lambda c: c.users.get_by_username(username, user_fields=USER_FIELDS)
        )
        user = body.get("data") or {}
        if not user.get("id"):
            raise ConnectorError(f"X has no account @{username}", permanent=True, status=404)
        return self._pull_posts(
            f"reading @{username}'s posts", "post", cursor, lambda c: c.users.get_posts, str(user["id"]),
            _clamp(limit, 5, 100),
        )

    def search(self, query: str, cursor: str | None, limit: int = 100) -> Page:
        return self._pull_posts(
            "searching recent posts", "post", cursor, lambda c: c.posts.search_recent, query, _clamp(limit, 10, 100)
        )

    def pull_messages(self, cursor: str | None, limit: int = 100) -> Page:
        """Direct messages sent to the account; dm_events has no since_id, so older ids are cut here."""
        me = self._me()
        state = _SweepCursor.load(cursor)
        body = self._call(
            "pulling direct messages",
            lambda c: next(
                iter(
                    c.direct_messages.get_events(
                        max_results=_clamp(limit, 1, 100),
                        pagination_token=state.token,
                        event_types=["MessageCreate"],
                        dm_event_fields=DM_FIELDS,
                        expansions=["sender_id"],
                        user_fields=USER_FIELDS,
                    )
                ),
                None,
            ),
        )
        users = {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}
        events = body.get("data") or []
        fresh = [e for e in events if state.since_id is None or int(e["id"]) > int(state.since_id)]
        reached_seen = len(fresh) < len(events)
        items = [
            InboundItem(
                platform=self.key,
                external_id=str(e["id"]),
                kind="message",
                text=e.get("text", ""),
                author_id=str(e.get("sender_id", "")),
                author_name=users.get(e.get("sender_id", ""), {}).get("username", ""),
                created_at=_parse_time(e.get("created_at")),
                conversation_id=e.get("dm_conversation_id"),
                raw=dict(e),
            )
            for e in fresh
            if str(e.get("sender_id")) != me
        ]
        newest = max((e["id"] for e in events), key=int, default=None)
        next_token = None if reached_seen else (body.get("meta") or {}).get("next_token")
        cursor_out, has_more = state.advance(newest, next_token)
        return Page(items=items, cursor=cursor_out, has_more=has_more)

    def send_message(self, recipient_id: str, text: str) -> Delivered:
        if len(text) > 10_000:
            raise ConnectorError("X direct messages are limited to 10,000 characters", permanent=True)
        result = self._call(
            "sending a direct message",
            lambda c: c.direct_messages.create_by_participant_id(
                recipient_id, CreateByParticipantIdRequest(text=text)
            ),
        )
        data = result.get("data") or {}
        if not data.get("dm_event_id"):
            raise ConnectorError(f"X did not send the message: {_errors_text(result)}")
        return Delivered(external_id=str(data["dm_event_id"]), url=None, raw=result)

    # ---- measurement --------------------------------------------------------------------------------------

    def post_metrics(self, external_id: str) -> Metrics:
        body = self._call(
            "reading post metrics", lambda c: c.posts.get_by_id(external_id, post_fields=["public_metrics"])
        )
        if not body.get("data"):
            raise ConnectorError(f"X has no post {external_id}: {_errors_text(body)}", permanent=True)
        m = body["data"].get("public_metrics") or {}
        return Metrics(
            impressions=m.get("impression_count"),
            likes=m.get("like_count"),
            reposts=(m.get("repost_count", m.get("retweet_count")) or 0) + (m.get("quote_count") or 0),
            replies=m.get("reply_count"),
            raw=m,
        )

    def account_metrics(self) -> Metrics:
        body = self._call("reading account metrics", lambda c: c.users.get_me(user_fields=USER_FIELDS))
        m = (body.get("data") or {}).get("public_metrics") or {}
        return Metrics(followers=m.get("followers_count"), likes=m.get("like_count"), raw=m)

    # ---- webhooks (Account Activity API) ------------------------------------------------------------------

    def _sign(self, message: bytes) -> str:
        secret = self.credential("consumer_secret").encode()
        return "sha256=" + base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()

    def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        if request.method.upper() == "GET":
            crc = request.query.get("crc_token")
            if not crc:
                raise WebhookRejected("X CRC check without crc_token", status=400)
            return WebhookResult(
                items=[],
                response_body=json.dumps({"response_token": self._sign(crc.encode())}),
                response_content_type="application/json",
            )
        if len(request.body) > MAX_WEBHOOK_BYTES:
            raise WebhookRejected("X webhook body is too large", status=413)
        given = request.headers.get("x-twitter-webhooks-signature", "")
        if not given:
            raise WebhookRejected("X webhook without x-twitter-webhooks-signature")
        if not hmac.compare_digest(given.encode(), self._sign(request.body).encode()):
            raise WebhookRejected("X webhook signature does not match")
        try:
            payload = json.loads(request.body)
        except ValueError as exc:
            raise WebhookRejected("X webhook body is not JSON", status=400) from exc
        if not isinstance(payload, dict):
            raise WebhookRejected("X webhook body is not a JSON object", status=400)
        return WebhookResult(
            items=self._activity_items(payload), delivery_id=hashlib.sha256(request.body).hexdigest()
        )

    def _activity_items(self, payload: Mapping[str, Any]) -> list[InboundItem]:
        """Mentions, replies and DMs addressed to ``for_user_id``; the account's own activity is left out."""
        me = str(payload.get("for_user_id", ""))
        items: list[InboundItem] = []
        for tweet in payload.get("tweet_create_events") or []:
            user = tweet.get("user") or {}
            if str(user.get("id_str")) == me:
                continue
            reply_to = tweet.get("in_reply_to_status_id_str")
            text = (tweet.get("extended_tweet") or {}).get("full_text") or tweet.get("text", "")
            items.append(
                InboundItem(
                    platform=self.key,
                    external_id=str(tweet["id_str"]),
                    kind="reply" if reply_to else "mention",
                    text=text,
                    author_id=str(user.get("id_str", "")),
                    author_name=user.get("screen_name", ""),
                    created_at=_parse_v1_time(tweet.get("created_at")),
                    url=self._post_url(str(tweet["id_str"]), user.get("screen_name")),
                    in_reply_to=reply_to,
                    language=tweet.get("lang"),
                    raw=dict(tweet),
                )
            )
        users = payload.get("users") or {}
        for event in payload.get("direct_message_events") or []:
            create = event.get("message_create") or {}
            sender = str(create.get("sender_id", ""))
            if event.get("type") != "message_create" or sender == me:
                continue
            stamp = event.get("created_timestamp")
            items.append(
                InboundItem(
                    platform=self.key,
                    external_id=str(event["id"]),
                    kind="message",
                    text=(create.get("message_data") or {}).get("text", ""),
                    author_id=sender,
                    author_name=(users.get(sender) or {}).get("screen_name", ""),
                    created_at=datetime.fromtimestamp(int(stamp) / 1000, tz=UTC) if stamp else None,
                    conversation_id=sender,
                    raw=dict(event),
                )
            )
        return items


class _SweepCursor:
    """Resumable state for X's newest-first listings.

    A sweep starts at the newest post and pages back with ``pagination_token`` until it reaches ``since_id``
    (the newest id of the last finished sweep). The newest id of the running sweep is kept aside and becomes
    ``since_id`` only when the sweep ends, so a pull interrupted between pages resumes where it stopped and
    nothing is read twice or skipped.
    """

    def __init__(self, since_id: str | None = None, token: str | None = None, pending: str | None = None):
        self.since_id, self.token, self.pending = since_id, token, pending

    @classmethod
    def load(cls, cursor: str | None) -> _SweepCursor:
        if not cursor:
            return cls()
        try:
            state = json.loads(cursor)
        except ValueError:
            state = {"since_id": cursor} if cursor.isdecimal() else {}
        return cls(state.get("since_id"), state.get("token"), state.get("pending"))

    def advance(self, newest_id: str | None, next_token: str | None) -> tuple[str, bool]:
        pending = self.pending or newest_id  # the first page of a sweep carries its newest id
        if next_token:
            state = {"since_id": self.since_id, "token": next_token, "pending": pending}
            return json.dumps(state), True
        return json.dumps({"since_id": _max_id(pending, self.since_id)}), False


def _max_id(a: str | None, b: str | None) -> str | None:
    ids = [x for x in (a, b) if x]
    return max(ids, key=int) if ids else None


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _errors_text(body: Mapping[str, Any]) -> str:
    errors = body.get("errors") or []
    if errors and isinstance(errors[0], dict):
        return str(errors[0].get("detail") or errors[0].get("message") or errors[0].get("title") or "")
    return ""


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _parse_v1_time(value: str | None) -> datetime | None:
    """v1.1 payloads (Account Activity) use ``Wed Oct 10 20:19:24 +0000 2018``."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None
