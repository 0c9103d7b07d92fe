"""RSS and Atom feeds (listen only) through ``feedparser``, fetched by ``connectors/http.py``.

Fetching goes through http.py so timeouts, retries and the private-address guard apply (a feed URL is typed by
a user, so it must not reach the intranet). Conditional requests (``ETag``/``Last-Modified``) spare bandwidth.

A feed has no paging: each fetch shows its latest entries. The cursor is a small JSON state holding the
validators and the ids already delivered that are still in the feed, so nothing is read twice and the state
stays as small as the feed. When a pull stops before the end (``limit``), the validators are dropped so the
next pull downloads the feed again instead of getting ``304 Not Modified`` and losing the rest.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser
from pydantic import Field, field_validator

from legation.connectors import http
from legation.connectors.base import Capability, ConnectorError, InboundItem, Page, Provider, ProviderConfig

ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"


class FeedConfig(ProviderConfig):
    """Settings of one feed source."""

    feed_url: str = Field(description="The RSS or Atom address")
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, description="Larger feeds are refused")

    @field_validator("feed_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value


class FeedProvider(Provider):
    """Read new entries of an RSS or Atom feed, each exactly once."""

    key = "rss"
    name = "RSS / Atom feed"
    capabilities = frozenset({Capability.PULL_TIMELINE})
    config_model = FeedConfig
    credential_fields = ()
    config: FeedConfig

    # A session of the caller's (tests pass one with quick retries); None means http.py's shared one.
    session: Any = None

    def pull_timeline(self, cursor: str | None, limit: int = 100) -> Page:
        """Fetch the feed and return entries not delivered before, oldest first."""
        state = _load(cursor)
        headers = {"Accept": ACCEPT}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        try:
            response = http.get(
                self.config.feed_url,
                headers=headers,
                session=self.session,
                max_bytes=self.config.max_bytes,
                what="fetching the feed",
            )
        except ConnectorError as exc:
            exc.auth_expired = False  # a feed has no token to refresh
            raise
        if response.status_code == 304:
            return Page(items=[], cursor=cursor, has_more=False)
        parsed = feedparser.parse(
            response.content,
            response_headers={k.lower(): v for k, v in response.headers.items()},
        )
        if parsed.bozo and not parsed.entries and not parsed.feed.get("title"):
            reason = getattr(parsed, "bozo_exception", "unreadable")
            raise ConnectorError(f"{self.config.feed_url} is not a readable RSS or Atom feed: {reason}")
        feed_language = parsed.feed.get("language")
        entries = [(_entry_id(e), e) for e in parsed.entries]
        current = {entry_id for entry_id, _ in entries}
        seen = [i for i in state.get("seen", []) if i in current]
        fresh = [(i, e) for i, e in entries if i not in set(seen)]
        fresh.sort(key=lambda pair: _entry_time(pair[1]) or datetime.min.replace(tzinfo=UTC))
        taken, rest = fresh[: max(1, limit)], fresh[max(1, limit) :]
        seen.extend(i for i, _ in taken)
        new_state: dict[str, Any] = {"seen": seen}
        if not rest:
            new_state["etag"] = response.headers.get("ETag")
            new_state["modified"] = response.headers.get("Last-Modified")
        items = [_item(i, e, self.config.feed_url, feed_language) for i, e in taken]
        return Page(items=items, cursor=json.dumps(new_state, sort_keys=True), has_more=bool(rest))


def _load(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError("feed cursor is not one this provider wrote", permanent=True) from exc
    if not isinstance(state, dict):
        raise ConnectorError("feed cursor is not one this provider wrote", permanent=True)
    return state


def _entry_id(entry: Any) -> str:
    """The entry's own id (Atom id, RSS guid), else its link, else a digest of its title and date."""
    for key in ("id", "link"):
        if entry.get(key):
            return str(entry[key])
    basis = f"{entry.get('title', '')}|{entry.get('published', '')}|{entry.get('summary', '')}"
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _item(entry_id: str, entry: Any, feed_url: str, feed_language: str | None) -> InboundItem:
    title = _plain(entry.get("title", ""))
    summary = _plain(entry.get("summary", ""))
    text = f"{title}\n\n{summary}" if title and summary and summary != title else (title or summary)
    return InboundItem(
        platform="rss",
        external_id=entry_id,
        kind="feed_entry",
        text=text,
        author_id=entry.get("author", "") or feed_url,
        author_name=entry.get("author", ""),
        created_at=_entry_time(entry),
        url=entry.get("link"),
        language=(entry.get("language") or feed_language or None),
        raw={
            "id": entry_id,
            "title": title,
            "link": entry.get("link"),
            "tags": [t.get("term") for t in entry.get("tags", [])],
        },
    )


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "li") and self.parts:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain(markup: str) -> str:
    """Feed HTML (already sanitised by feedparser) as plain text."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts).strip()
