"""YouTube through the Data API v3 and ``google-api-python-client``: comments, live chat, metrics.

The client is built from the library's bundled discovery document (no network at build time) and pointed at
``api_base_url``. Credentials are ``google-auth`` OAuth credentials whose ``token_uri`` is configurable; the
authorised HTTP object refreshes the access token by itself when YouTube answers 401, and the provider exposes
the fresh token in ``refreshed`` so the caller can store it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import google.auth.exceptions
import google.auth.transport.requests
import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

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
    TextLimits,
    TokenSet,
)
from legation.connectors.base import Provider as BaseProvider

SCOPES = ["https://www.googleapis.com/auth/youtube.force-ssl"]
TEMPORARY_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "backendError"})


class YouTubeConfig(ProviderConfig):
    """Settings of one YouTube channel."""

    api_base_url: str = "https://youtube.googleapis.com/"
    token_uri: str = "https://oauth2.googleapis.com/token"
    channel_id: str | None = None  # looked up with channels.list(mine=true) when unset


class YouTubeProvider(BaseProvider):
    """A YouTube channel: comment threads and replies, live chat questions, video and channel metrics."""

    key = "youtube"
    name = "YouTube"
    capabilities = frozenset(
        {
            Capability.REPLY,
            Capability.DELETE,
            Capability.PULL_MENTIONS,
            Capability.METRICS,
            Capability.REFRESH_TOKEN,
        }
    )
    config_model = YouTubeConfig
    credential_fields = ("access_token", "refresh_token", "client_id", "client_secret")
    limits: ClassVar[TextLimits] = TextLimits(max_length=10000, unit="characters", max_media=0)
    config: YouTubeConfig
    retry_policy: http.RetryPolicy = http.RetryPolicy()

    def __init__(self, config: Any, credentials: Any) -> None:
        super().__init__(config, credentials)
        self.refreshed: TokenSet | None = None  # set when the token was refreshed during a call; store it
        self._creds: Credentials | None = None

    # ---- plumbing -----------------------------------------------------------------------------------------

    def _credentials(self) -> Credentials:
        if self._creds is None:
            self._creds = Credentials(
                token=self.credential("access_token"),
                refresh_token=self.credentials.get("refresh_token") or None,
                token_uri=self.config.token_uri,
                client_id=self.credentials.get("client_id") or None,
                client_secret=self.credentials.get("client_secret") or None,
                scopes=SCOPES,
            )
        return self._creds

    def _service(self) -> Any:
        http.check_url(self.config.api_base_url)
        http.check_url(self.config.token_uri)
        authorized = google_auth_httplib2.AuthorizedHttp(
            self._credentials(), http=httplib2.Http(timeout=int(http.READ_TIMEOUT))
        )
        return discovery.build(
            "youtube",
            "v3",
            http=authorized,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.config.api_base_url},
        )

    def _call(self, what: str, request: Callable[[Any], Any], *, safe_to_repeat: bool = True) -> Any:
        """Execute one API request; reads are repeated after 5xx, every failure becomes a ConnectorError."""
        before = self._credentials().token
        attempt = 0
        while True:
            try:
                result = request(self._service()).execute(num_retries=0)
                if not isinstance(result, dict) and result != "":
                    raise ValueError("not a JSON object")
                break
            except HttpError as exc:
                error = _http_error(what, exc)
                if (
                    safe_to_repeat
                    and not error.permanent
                    and (error.status or 0) >= 500
                    and attempt + 1 < self.retry_policy.attempts
                ):
                    self.retry_policy.pause(self.retry_policy.backoff(attempt))
                    attempt += 1
                    continue
                raise error from exc
            except google.auth.exceptions.RefreshError as exc:
                raise ConnectorError(
                    f"YouTube {what}: the token could not be refreshed ({exc}); reconnect the channel",
                    permanent=True,
                    status=401,
                ) from exc
            except ValueError as exc:
                raise ConnectorError(f"YouTube returned a malformed response to {what}") from exc
            except (httplib2.HttpLib2Error, OSError) as exc:
                raise ConnectorError(f"YouTube could not be reached for {what}: {exc}") from exc
        creds = self._credentials()
        if creds.token and creds.token != before:
            self.refreshed = self._token_set(creds)
        return result

    def _token_set(self, creds: Credentials) -> TokenSet:
        fresh = {**self.credentials, "access_token": creds.token or ""}
        if creds.refresh_token:
            fresh["refresh_token"] = creds.refresh_token
        self.credentials = fresh
        expiry = creds.expiry.replace(tzinfo=UTC) if creds.expiry else None
        return TokenSet(credentials=fresh, expires_at=expiry)

    def _channel_id(self) -> str:
        if not self.config.channel_id:
            self.config.channel_id = self.verify_credentials().external_id
        return self.config.channel_id

    # ---- identity and tokens ------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        body = self._call("reading the channel", lambda s: s.channels().list(part="snippet", mine=True))
        items = body.get("items") or []
        if not items:
            raise ConnectorError("YouTube: these credentials have no channel", permanent=True)
        snippet = items[0].get("snippet") or {}
        return AccountInfo(
            external_id=items[0]["id"], handle=snippet.get("customUrl", ""), display_name=snippet.get("title", "")
        )

    def refresh_token(self) -> TokenSet:
        """Ask the token endpoint for a new access token (Google keeps the refresh token)."""
        self.credential("refresh_token")
        creds = self._credentials()
        http.check_url(self.config.token_uri)
        try:
            creds.refresh(google.auth.transport.requests.Request(session=http.guarded_session(retry=self.retry_policy)))
        except google.auth.exceptions.RefreshError as exc:
            raise ConnectorError(f"YouTube refused the token refresh: {exc}", permanent=True, status=400) from exc
        except google.auth.exceptions.TransportError as exc:
            raise ConnectorError(f"YouTube's token endpoint could not be reached: {exc}") from exc
        self.refreshed = self._token_set(creds)
        return self.refreshed

    # ---- comments -----------------------------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> Delivered:
        """Reply to a comment thread (``reply_to``); uploading videos is not what Legation does here."""
        if not post.reply_to:
            raise ConnectorError("YouTube publishing here only replies to comments; set reply_to", permanent=True)
        text = post.text if not post.link or post.link in post.text else f"{post.text} {post.link}"
        if len(text) > self.limits.max_length:
            raise ConnectorError(f"YouTube comments are limited to {self.limits.max_length} characters", permanent=True)
        body = {"snippet": {"parentId": post.reply_to, "textOriginal": text}}
        comment = self._call(
            "replying to the comment",
            lambda s: s.comments().insert(part="snippet", body=body),
            safe_to_repeat=False,
        )
        video = (comment.get("snippet") or {}).get("videoId")
        url = f"https://www.youtube.com/watch?v={video}&lc={comment['id']}" if video else None
        return Delivered(external_id=comment["id"], url=url, raw=comment)

    def delete(self, external_id: str) -> None:
        self._call("deleting the comment", lambda s: s.comments().delete(id=external_id))

    def pull_mentions(self, cursor: str | None, limit: int = 100) -> Page:
        """New top-level comments on the channel's videos, newest first, resumable across interruptions.

        The cursor keeps ``since`` (the newest publishedAt of the last finished sweep) and, during a sweep, its
        ``pageToken`` and the newest time it started from; paging stops at the first comment already read.
        """
        state = json.loads(cursor) if cursor else {}
        since, token = state.get("since", ""), state.get("token")
        pending, low = state.get("pending"), state.get("low")
        channel = self._channel_id()
        body = self._call(
            "reading comment threads",
            lambda s: s.commentThreads().list(
                part="snippet",
                allThreadsRelatedToChannelId=channel,
                order="time",
                maxResults=max(1, min(100, limit)),
                pageToken=token,
                textFormat="plainText",
            ),
        )
        threads = body.get("items") or []
        pending = pending or (_published(threads[0]) if threads else None)
        # Read in this sweep: newer than the last sweep, older than what this sweep has already passed. A comment
        # posted during the sweep is newer than ``pending`` and waits for the next one.
        ceiling = low or (pending or "") + "~"
        fresh = [t for t in threads if since < _published(t) < ceiling]
        items = [self._thread_item(t) for t in fresh]
        if threads:
            low = min([low or ceiling, *(_published(t) for t in threads)])
        reached_read = any(_published(t) <= since for t in threads)
        next_token = None if reached_read else body.get("nextPageToken")
        if next_token:
            out = {"since": since, "token": next_token, "pending": pending, "low": low}
        else:
            out = {"since": max(since, pending or "")}
        return Page(items=items, cursor=json.dumps(out), has_more=bool(next_token))

    def _thread_item(self, thread: dict[str, Any]) -> InboundItem:
        top = (thread.get("snippet") or {}).get("topLevelComment") or {}
        snippet = top.get("snippet") or {}
        video = snippet.get("videoId") or (thread.get("snippet") or {}).get("videoId")
        return InboundItem(
            platform=self.key,
            external_id=thread["id"],
            kind="comment",
            text=snippet.get("textOriginal") or snippet.get("textDisplay", ""),
            author_id=(snippet.get("authorChannelId") or {}).get("value", ""),
            author_name=snippet.get("authorDisplayName", ""),
            created_at=_parse_time(snippet.get("publishedAt")),
            url=f"https://www.youtube.com/watch?v={video}&lc={thread['id']}" if video else None,
            in_reply_to=video,
            conversation_id=thread["id"],
            raw=thread,
        )

    # ---- live chat (live Q&A questions) -------------------------------------------------------------------

    def pull_live_chat(self, live_chat_id: str, cursor: str | None, limit: int = 2000) -> Page:
        """Messages of a live broadcast's chat after ``cursor`` (YouTube's nextPageToken).

        YouTube-specific: live events take their questions here. ``raw`` of each page is not kept; the caller
        waits at least ``pollingIntervalMillis`` (found in each item's ``raw['_polling_ms']``) between pulls.
        """
        body = self._call(
            "reading live chat",
            lambda s: s.liveChatMessages().list(
                liveChatId=live_chat_id,
                part="snippet,authorDetails",
                maxResults=max(200, min(2000, limit)),
                pageToken=cursor,
            ),
        )
        polling = body.get("pollingIntervalMillis")
        items = []
        for message in body.get("items") or []:
            snippet = message.get("snippet") or {}
            if snippet.get("type") not in ("textMessageEvent", "superChatEvent"):
                continue
            author = message.get("authorDetails") or {}
            if author.get("isChatOwner"):
                continue
            items.append(
                InboundItem(
                    platform=self.key,
                    external_id=message["id"],
                    kind="message",
                    text=(snippet.get("textMessageDetails") or {}).get("messageText")
                    or snippet.get("displayMessage", ""),
                    author_id=author.get("channelId") or snippet.get("authorChannelId", ""),
                    author_name=author.get("displayName", ""),
                    created_at=_parse_time(snippet.get("publishedAt")),
                    conversation_id=live_chat_id,
                    raw={**message, "_polling_ms": polling},
                )
            )
        next_token = body.get("nextPageToken") or cursor
        # Live chat never "ends" while the broadcast runs; has_more says the chat is still live.
        return Page(items=items, cursor=next_token, has_more="offlineAt" not in body)

    # ---- measurement --------------------------------------------------------------------------------------

    def post_metrics(self, external_id: str) -> Metrics:
        body = self._call("reading video statistics", lambda s: s.videos().list(part="statistics", id=external_id))
        items = body.get("items") or []
        if not items:
            raise ConnectorError(f"YouTube has no video {external_id}", permanent=True, status=404)
        stats = items[0].get("statistics") or {}
        return Metrics(
            impressions=_int(stats.get("viewCount")),
            likes=_int(stats.get("likeCount")),
            replies=_int(stats.get("commentCount")),
            raw=stats,
        )

    def account_metrics(self) -> Metrics:
        body = self._call("reading channel statistics", lambda s: s.channels().list(part="statistics", mine=True))
        stats = ((body.get("items") or [{}])[0]).get("statistics") or {}
        return Metrics(
            followers=_int(stats.get("subscriberCount")), impressions=_int(stats.get("viewCount")), raw=stats
        )


def _http_error(what: str, exc: HttpError) -> ConnectorError:
    status = int(exc.resp.status)
    try:
        error = json.loads(exc.content).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
    message = f"YouTube {what}: {error.get('message') or exc.reason or status}"
    retry_after = http.retry_after_from_headers(dict(exc.resp))
    if "quotaExceeded" in reasons:
        # The daily quota resets at midnight Pacific time.
        return ConnectorError(message, retry_after=_until_pacific_midnight(), status=status)
    if status == 429 or reasons & TEMPORARY_REASONS:
        return ConnectorError(message, retry_after=retry_after or 60.0, status=status)
    if status >= 500:
        return ConnectorError(message, retry_after=retry_after, status=status)
    if status == 401:
        return ConnectorError(message, permanent=True, status=status, auth_expired=True)
    return ConnectorError(message, permanent=True, status=status)


def _until_pacific_midnight(now: datetime | None = None) -> float:
    pacific = (now or datetime.now(UTC)).astimezone(ZoneInfo("America/Los_Angeles"))
    midnight = (pacific + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - pacific).total_seconds()


def _published(thread: dict[str, Any]) -> str:
    top = (thread.get("snippet") or {}).get("topLevelComment") or {}
    return str((top.get("snippet") or {}).get("publishedAt", ""))


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None
