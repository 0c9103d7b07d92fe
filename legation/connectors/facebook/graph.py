"""The Graph API base shared by the Facebook Page and Instagram providers: client, errors, webhooks, paging.

Both ride on one Graph client (pyfacebook's ``GraphAPI`` pointed at ``graph_base_url``, with http.py's guarded
session); they differ in how they publish and where comments live. Webhooks are verified with
``hub.verify_token`` on GET and ``X-Hub-Signature-256`` (HMAC-SHA256 of the body with the app secret) on POST.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from pyfacebook import GraphAPI
from pyfacebook.exceptions import FacebookError, LibraryError

from legation.connectors import http
from legation.connectors.base import (
    ConnectorError,
    Delivered,
    InboundItem,
    Page,
    ProviderConfig,
    TokenSet,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from legation.connectors.base import Provider as BaseProvider

MAX_WEBHOOK_BYTES = 1_000_000
# Graph error codes: https://developers.facebook.com/docs/graph-api/guides/error-handling
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006})
TEMPORARY_CODES = frozenset({1, 2})
EXPIRED_TOKEN_SUBCODE = 463
COMMENT_FIELDS = "id,message,from,created_time,parent{id},permalink_url"
IG_COMMENT_FIELDS = "id,text,username,from,timestamp,parent_id,media{id}"
MESSAGE_FIELDS = "id,message,from,to,created_time"


class MetaConfig(ProviderConfig):
    """Settings shared by a Facebook Page and an Instagram account."""

    graph_base_url: str = "https://graph.facebook.com"
    graph_version: str = "v23.0"
    page_id: str  # the Page (for Instagram: the Page the Instagram account is connected to)
    posts_to_watch: int = 10  # how many recent posts are checked for new comments on each pull


class InstagramConfig(MetaConfig):
    ig_user_id: str  # the Instagram professional account's id


class GraphProvider(BaseProvider):
    """What Facebook and Instagram share: the Graph client, errors, comments, Messenger, metrics, webhooks."""

    config: MetaConfig
    retry_policy: http.RetryPolicy = http.RetryPolicy()
    # page_access_token: a Page token (never expires when made from a long-lived user token);
    # user_access_token + app_id + app_secret let refresh_token() make a new one; app_secret signs webhooks;
    # verify_token is the string chosen when subscribing the webhook.
    credential_fields = ("page_access_token", "user_access_token", "app_id", "app_secret", "verify_token")
    messaging_platform: ClassVar[str] = "messenger"
    webhook_object: ClassVar[str] = "page"
    # The edge of the own account (see _own_id) that lists the posts whose comments are pulled.
    posts_edge: ClassVar[str] = "published_posts"

    # ---- plumbing -----------------------------------------------------------------------------------------

    def _graph(self, token: str | None = None, answers: list[requests.Response] | None = None) -> GraphAPI:
        base = self.config.graph_base_url.rstrip("/") + "/"
        graph = GraphAPI(
            app_id=self.credentials.get("app_id"),
            app_secret=self.credentials.get("app_secret"),
            access_token=token or self.credential("page_access_token"),
            version=self.config.graph_version,
            ignore_version_check=True,
            sleep_on_rate_limit=False,  # waiting is the scheduler's job, not a worker's
            base_url=base,
            access_token_url=f"{base}oauth/access_token",
            timeout=int(http.READ_TIMEOUT),
        )
        # Posting is not resent after a 5xx (it may have gone through); reads and 429/503 are.
        graph.session = http.guarded_session(retry=self.retry_policy)
        if answers is not None:
            graph.session.hooks["response"].append(lambda r, *a, **k: answers.append(r))
        return graph

    def _call(self, what: str, fn: Callable[[GraphAPI], Any], token: str | None = None) -> Any:
        """Run one Graph call; every failure becomes a ConnectorError carrying Meta's message."""
        answers: list[requests.Response] = []
        try:
            return fn(self._graph(token, answers))
        except ConnectorError:
            raise
        except FacebookError as exc:
            error = graph_error(what, exc)
            if error.status == 429 and answers:
                error.retry_after = regain_access_after(answers[-1].headers) or error.retry_after
            raise error from exc
        except requests.JSONDecodeError as exc:
            raise ConnectorError(f"{self.name} returned malformed JSON to {what}") from exc
        except (KeyError, LibraryError) as exc:
            # pyfacebook refuses answers that are neither JSON nor an image (a proxy's HTML error page).
            raise ConnectorError(f"{self.name} returned an unreadable answer to {what}: {exc}") from exc
        except requests.RequestException as exc:
            raise http.error_for_exception(exc, what=f"{self.name} {what}") from exc

    # ---- identity and tokens ------------------------------------------------------------------------------

    def refresh_token(self) -> TokenSet:
        """Exchange the user token for a new long-lived one, then read the Page token it grants."""
        user_token = self.credential("user_access_token")
        self.credential("app_id")
        self.credential("app_secret")
        exchanged = self._call(
            "exchanging the user token",
            lambda g: g.exchange_long_lived_user_access_token(user_token),
            user_token,
        )
        new_user = exchanged.get("access_token")
        if not new_user:
            raise ConnectorError(f"{self.name} returned no access token when exchanging the user token")
        page = self._call(
            "reading the Page token",
            lambda g: g.get_object(self.config.page_id, fields="access_token"),
            new_user,
        )
        if not page.get("access_token"):
            raise ConnectorError(
                f"{self.name}: the user no longer manages Page {self.config.page_id}", permanent=True
            )
        fresh = {**self.credentials, "user_access_token": new_user, "page_access_token": page["access_token"]}
        self.credentials = fresh
        expires = exchanged.get("expires_in")
        expires_at = datetime.now(UTC) + timedelta(seconds=int(expires)) if expires else None
        return TokenSet(credentials=fresh, expires_at=expires_at)

    # ---- posts --------------------------------------------------------------------------------------------

    def delete(self, external_id: str) -> None:
        body = self._call("deleting", lambda g: g.delete_object(external_id))
        if not body.get("success"):
            raise ConnectorError(f"{self.name} did not delete {external_id}")

    # ---- comments -----------------------------------------------------------------------------------------

    def _watched_posts(self, graph: GraphAPI) -> list[str]:
        body = graph.get_connection(self._own_id(), self.posts_edge, fields="id", limit=self.config.posts_to_watch)
        return [str(p["id"]) for p in body.get("data") or []]

    def _comment_item(self, comment: Mapping[str, Any], post_id: str) -> InboundItem:
        raise NotImplementedError

    def _comment_fields(self) -> str:
        return COMMENT_FIELDS

    def pull_mentions(self, cursor: str | None, limit: int = 100) -> Page:
        """New comments on the most recent posts, oldest first; the cursor keeps an ``after`` per post."""
        afters: dict[str, str] = json.loads(cursor) if cursor else {}
        posts = self._call("listing recent posts", self._watched_posts)
        items: list[InboundItem] = []
        has_more = False
        per_post = max(1, min(100, limit))
        for post_id in posts:
            args: dict[str, Any] = {
                "fields": self._comment_fields(),
                "filter": "stream",
                "order": "chronological",
                "limit": per_post,
            }
            if post_id in afters:
                args["after"] = afters[post_id]
            body = self._call(
                "reading comments", lambda g, p=post_id, a=args: g.get_connection(p, "comments", **a)  # type: ignore[misc]
            )
            comments = body.get("data") or []
            items.extend(self._comment_item(c, post_id) for c in comments)
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if after and comments:
                afters[post_id] = after
            has_more = has_more or bool(paging.get("next"))
        # Forget posts that left the watch window so the cursor stays small.
        afters = {p: a for p, a in afters.items() if p in posts}
        return Page(items=items, cursor=json.dumps(afters, sort_keys=True), has_more=has_more)

    # ---- messaging ----------------------------------------------------------------------------------------

    def pull_messages(self, cursor: str | None, limit: int = 100) -> Page:
        """Messages people sent to the Page; the cursor keeps, per conversation, the newest message read."""
        seen: dict[str, str] = json.loads(cursor) if cursor else {}
        listing = self._call(
            "listing conversations",
            lambda g: g.get_connection(
                self.config.page_id,
                "conversations",
                platform=self.messaging_platform,
                fields="id,updated_time",
                limit=max(1, min(100, limit)),
            ),
        )
        items: list[InboundItem] = []
        for conversation in listing.get("data") or []:
            conv_id = conversation["id"]
            body = self._call(
                "reading messages",
                lambda g, c=conv_id: g.get_connection(c, "messages", fields=MESSAGE_FIELDS, limit=25),  # type: ignore[misc]
            )
            newest_first = body.get("data") or []
            fresh: list[Mapping[str, Any]] = []
            for message in newest_first:
                if message.get("created_time", "") <= seen.get(conv_id, ""):
                    break
                fresh.append(message)
            for message in reversed(fresh):
                sender = message.get("from") or {}
                if str(sender.get("id")) in (self.config.page_id, self._own_id()):
                    continue
                items.append(
                    InboundItem(
                        platform=self.key,
                        external_id=str(message["id"]),
                        kind="message",
                        text=message.get("message", ""),
                        author_id=str(sender.get("id", "")),
                        author_name=sender.get("name") or sender.get("username") or "",
                        created_at=parse_time(message.get("created_time")),
                        conversation_id=conv_id,
                        raw=dict(message),
                    )
                )
            if newest_first:
                seen[conv_id] = max(seen.get(conv_id, ""), newest_first[0].get("created_time", ""))
        more = bool((listing.get("paging") or {}).get("next"))
        return Page(items=items, cursor=json.dumps(seen, sort_keys=True), has_more=more)

    def _own_id(self) -> str:
        return self.config.page_id

    def send_message(self, recipient_id: str, text: str) -> Delivered:
        """Answer a person by their page-scoped id, within Meta's 24-hour messaging window."""
        if len(text) > 2000:
            raise ConnectorError(f"{self.name} messages are limited to 2,000 characters", permanent=True)
        body = self._call(
            "sending a message",
            lambda g: g.post_object(
                self.config.page_id,
                "messages",
                data={
                    "recipient": json.dumps({"id": recipient_id}),
                    "messaging_type": "RESPONSE",
                    "message": json.dumps({"text": text}),
                },
            ),
        )
        if not body.get("message_id"):
            raise ConnectorError(f"{self.name} did not send the message")
        return Delivered(external_id=str(body["message_id"]), raw=body)

    # ---- webhooks -----------------------------------------------------------------------------------------

    def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        if request.method.upper() == "GET":
            if request.query.get("hub.mode") != "subscribe":
                raise WebhookRejected(f"{self.name} verification without hub.mode=subscribe", status=400)
            given = request.query.get("hub.verify_token", "")
            if not hmac.compare_digest(given.encode(), self.credential("verify_token").encode()):
                raise WebhookRejected(f"{self.name} verification token does not match")
            return WebhookResult(items=[], response_body=request.query.get("hub.challenge", ""))
        if len(request.body) > MAX_WEBHOOK_BYTES:
            raise WebhookRejected(f"{self.name} webhook body is too large", status=413)
        signature = request.headers.get("x-hub-signature-256", "")
        if not signature:
            raise WebhookRejected(f"{self.name} webhook without X-Hub-Signature-256")
        expected = (
            "sha256="
            + hmac.new(self.credential("app_secret").encode(), request.body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise WebhookRejected(f"{self.name} webhook signature does not match")
        try:
            payload = json.loads(request.body)
        except ValueError as exc:
            raise WebhookRejected(f"{self.name} webhook body is not JSON", status=400) from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
            raise WebhookRejected(f"{self.name} webhook body has no entries", status=400)
        items: list[InboundItem] = []
        for entry in payload["entry"]:
            for change in entry.get("changes") or []:
                item = self._change_item(change)
                if item is not None:
                    items.append(item)
            for event in entry.get("messaging") or []:
                item = self._messaging_item(event)
                if item is not None:
                    items.append(item)
        # Meta sends no delivery id; an identical redelivery has an identical body.
        return WebhookResult(items=items, delivery_id=hashlib.sha256(request.body).hexdigest())

    def _change_item(self, change: Mapping[str, Any]) -> InboundItem | None:
        raise NotImplementedError

    def _messaging_item(self, event: Mapping[str, Any]) -> InboundItem | None:
        message = event.get("message") or {}
        if not message or message.get("is_echo") or not message.get("mid"):
            return None
        sender = str((event.get("sender") or {}).get("id", ""))
        stamp = event.get("timestamp")
        return InboundItem(
            platform=self.key,
            external_id=str(message["mid"]),
            kind="message",
            text=message.get("text", ""),
            author_id=sender,
            created_at=datetime.fromtimestamp(int(stamp) / 1000, tz=UTC) if stamp else None,
            conversation_id=sender,
            raw=dict(event),
        )


def graph_error(what: str, exc: FacebookError) -> ConnectorError:
    """Map a Graph API error object to permanence, retry_after and auth_expired."""
    code = int(getattr(exc, "code", 0) or 0)
    subcode = int(getattr(exc, "error_subcode", 0) or 0)
    detail = getattr(exc, "error_user_msg", None) or getattr(exc, "message", "") or "unknown error"
    message = f"Graph API {what}: {detail} (code {code}{f', subcode {subcode}' if subcode else ''})"
    if code == 190:
        # 463: expired, a refresh may cure it; 458/460/467 and others: revoked, a person must reconnect.
        return ConnectorError(
            message, permanent=True, status=401, auth_expired=subcode == EXPIRED_TOKEN_SUBCODE
        )
    if code in RATE_LIMIT_CODES:
        return ConnectorError(message, retry_after=3600.0 if code in (4, 17, 32) else 600.0, status=429)
    if code in TEMPORARY_CODES or getattr(exc, "is_transient", False):
        return ConnectorError(message, status=503)
    return ConnectorError(message, permanent=True, status=400)


def regain_access_after(headers: Mapping[str, str]) -> float | None:
    """Seconds until Meta lifts a throttle: ``estimated_time_to_regain_access`` (minutes) in its headers."""
    minutes: list[float] = []
    for name in ("x-business-use-case-usage", "x-ad-account-usage", "x-app-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        records = (
            [r for v in usage.values() if isinstance(v, list) for r in v] if isinstance(usage, dict) else []
        )
        if isinstance(usage, dict) and not records:
            records = [usage]
        minutes.extend(
            float(r.get("estimated_time_to_regain_access") or 0) for r in records if isinstance(r, dict)
        )
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def insight(body: Mapping[str, Any], name: str) -> int | None:
    for metric in body.get("data") or []:
        if metric.get("name") == name:
            values = metric.get("values") or []
            if values:
                return int(values[-1].get("value") or 0)
            if "total_value" in metric:
                return int((metric["total_value"] or {}).get("value") or 0)
    return None


def parse_time(value: str | None) -> datetime | None:
    """Graph timestamps look like ``2025-03-14T10:05:00+0000``."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
