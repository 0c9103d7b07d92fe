"""The contract every platform provider follows.

Connectors know platforms, not Legation: a provider takes a typed config and decrypted credentials and returns
typed results. It never imports Django models. Errors are always :class:`ConnectorError`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError


class Capability(enum.StrEnum):
    """What a provider can do; the rest of Legation asks before it calls."""

    PUBLISH = "publish"
    EDIT = "edit"
    DELETE = "delete"
    REPLY = "reply"
    PULL_MENTIONS = "pull_mentions"
    SEARCH = "search"
    PULL_MESSAGES = "pull_messages"
    SEND_MESSAGE = "send_message"
    PULL_TIMELINE = "pull_timeline"
    PULL_ACCOUNT = "pull_account"  # another account's public posts (a ministry, a journalist, a campaign)
    METRICS = "metrics"
    WEBHOOK = "webhook"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a capability name, not a secret


class ConnectorError(Exception):
    """A platform call failed.

    ``permanent`` means retrying cannot help (revoked token, suspended account, content refused);
    otherwise the caller retries, after ``retry_after`` seconds when the platform said so.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
        auth_expired: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status
        # True when a token refresh may cure it (HTTP 401 with an expired access token).
        self.auth_expired = auth_expired

    def __repr__(self) -> str:
        return (
            f"ConnectorError({self.message!r}, permanent={self.permanent}, "
            f"retry_after={self.retry_after}, status={self.status})"
        )


class ConfigError(ConnectorError):
    """The account's configuration or credentials are missing or malformed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class ProviderConfig(BaseModel):
    """Per-account settings stored as JSON on the account row; each provider subclasses it."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Media:
    """An image (or other media) to attach, with its alt text."""

    data: bytes
    mime_type: str
    alt_text: str = ""
    filename: str = "image"


@dataclass(frozen=True)
class OutboundPost:
    """What to publish on one account."""

    text: str
    media: Sequence[Media] = ()
    link: str | None = None
    reply_to: str | None = None  # the platform's id of the post or message being answered
    language: str | None = None  # ISO 639-1
    idempotency_key: str | None = None  # providers that support it pass it to the platform


@dataclass(frozen=True)
class Delivered:
    """A post now on the platform."""

    external_id: str
    url: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundItem:
    """A post, reply, comment, direct message, SMS or e-mail that reached us from a platform."""

    platform: str
    external_id: str
    kind: str  # "post", "reply", "mention", "comment", "message", "sms", "email", "feed_entry"
    text: str
    author_id: str
    author_name: str = ""
    created_at: datetime | None = None
    url: str | None = None
    in_reply_to: str | None = None
    conversation_id: str | None = None
    language: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One batch from a pull; ``cursor`` is stored and passed back to resume exactly where this ended."""

    items: list[InboundItem]
    cursor: str | None
    has_more: bool = False


@dataclass(frozen=True)
class Metrics:
    """Counters for a post or an account, as the platform reports them."""

    impressions: int | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    followers: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountInfo:
    """Who the credentials belong to."""

    external_id: str
    handle: str
    display_name: str = ""


@dataclass(frozen=True)
class TokenSet:
    """Fresh credentials after a refresh; the caller stores them in the vault."""

    credentials: Mapping[str, str]
    expires_at: datetime | None = None


@dataclass(frozen=True)
class WebhookRequest:
    """An inbound HTTP request, stripped of the web framework."""

    method: str
    url: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookResult:
    """What a verified webhook carried, plus any HTTP answer the platform expects (e.g. a challenge)."""

    items: list[InboundItem]
    response_body: str | None = None
    response_content_type: str = "text/plain"
    delivery_id: str | None = None  # the platform's id for this delivery, to store replays once


class WebhookRejected(ConnectorError):
    """A webhook failed its signature or shape check; the view answers 4xx and logs it."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message, permanent=True, status=status)


@dataclass(frozen=True)
class TextLimits:
    """How a platform counts text; used by the composer for live previews."""

    max_length: int
    unit: str  # "weighted characters", "graphemes", "characters", "segments"
    max_media: int = 4
    alt_text_max: int | None = None


@dataclass(frozen=True)
class TextCount:
    """The result of counting one text under one platform's rules."""

    used: int
    limit: int
    unit: str
    detail: str = ""

    @property
    def over(self) -> bool:
        return self.used > self.limit


def account_handle(query: str) -> str:
    """What a listening source names an account by (``@name``, ``name``, Mastodon's ``@name@instance``) -> the
    handle its platform looks up (``name``, ``name@instance``)."""
    return query.strip().removeprefix("@")


class Provider:
    """Base class for a platform provider.

    Subclasses set ``key``, ``name``, ``capabilities``, ``config_model`` and ``credential_fields`` and
    implement the methods for the capabilities they declare. Unimplemented ones raise a permanent
    ConnectorError.
    """

    key: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    config_model: ClassVar[type[ProviderConfig]] = ProviderConfig
    credential_fields: ClassVar[tuple[str, ...]] = ()
    limits: ClassVar[TextLimits] = TextLimits(max_length=5000, unit="characters")
    #: Credentials an SDK renewed by itself during a call (a silent token refresh); the caller stores them.
    renewed_credentials: Mapping[str, str] | None = None

    def __init__(self, config: Mapping[str, Any] | ProviderConfig | None, credentials: Mapping[str, str]):
        self.config = self.parse_config(config)
        self.credentials = dict(credentials)

    @classmethod
    def parse_config(cls, config: Mapping[str, Any] | ProviderConfig | None) -> Any:
        """Validate raw JSON config; bad config fails here with a message naming the field."""
        if isinstance(config, cls.config_model):
            return config
        try:
            return cls.config_model.model_validate(dict(config or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"{cls.key} configuration is invalid: {problems}") from exc

    def credential(self, name: str) -> str:
        """Return one credential or fail permanently naming what is missing."""
        value = self.credentials.get(name)
        if not value:
            raise ConfigError(f"{self.key}: credential '{name}' is not set")
        return value

    @classmethod
    def supports(cls, capability: Capability) -> bool:
        return capability in cls.capabilities

    @classmethod
    def count_text(cls, text: str) -> TextCount:
        """Count text the way the platform does; providers with special rules override this."""
        return TextCount(used=len(text), limit=cls.limits.max_length, unit=cls.limits.unit)

    def _unsupported(self, what: str) -> ConnectorError:
        return ConnectorError(f"{self.name} does not support {what}", permanent=True)

    # Identity and tokens
    def verify_credentials(self) -> AccountInfo:
        raise self._unsupported("credential verification")

    def refresh_token(self) -> TokenSet:
        raise self._unsupported("token refresh")

    # Publishing
    def publish(self, post: OutboundPost) -> Delivered:
        raise self._unsupported("publishing")

    def edit(self, external_id: str, post: OutboundPost) -> Delivered:
        raise self._unsupported("editing")

    def delete(self, external_id: str) -> None:
        raise self._unsupported("deleting")

    # Listening and engagement
    def pull_mentions(self, cursor: str | None, limit: int = 100) -> Page:
        raise self._unsupported("pulling mentions")

    def pull_timeline(self, cursor: str | None, limit: int = 100) -> Page:
        raise self._unsupported("pulling the account's own timeline")

    def pull_account(self, handle: str, cursor: str | None, limit: int = 100) -> Page:
        """The public posts of another account, named by its handle (``@name`` or ``name``), oldest first."""
        raise self._unsupported("reading another account's posts")

    def search(self, query: str, cursor: str | None, limit: int = 100) -> Page:
        raise self._unsupported("search")

    def pull_messages(self, cursor: str | None, limit: int = 100) -> Page:
        raise self._unsupported("pulling direct messages")

    def send_message(self, recipient_id: str, text: str) -> Delivered:
        raise self._unsupported("sending direct messages")

    # Measurement
    def post_metrics(self, external_id: str) -> Metrics:
        raise self._unsupported("post metrics")

    def account_metrics(self) -> Metrics:
        raise self._unsupported("account metrics")

    # Webhooks
    def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify the platform's signature and parse the payload; raise WebhookRejected when invalid."""
        raise WebhookRejected(f"{self.name} does not accept webhooks", status=404)
