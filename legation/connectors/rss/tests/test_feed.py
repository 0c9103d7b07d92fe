"""RSS and Atom feeds read through http.py: conditional requests, exactly-once cursors, guard and failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug import Request, Response

from legation.connectors.base import ConnectorError
from legation.connectors.http import PrivateAddressRefused
from legation.connectors.rss.provider import FeedProvider
from legation.connectors.testing import drain

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RSS = (FIXTURES / "rss2.xml").read_text()


def rss_with(count: int) -> str:
    """An RSS 2.0 document with ``count`` numbered items, newest first."""
    items = "".join(
        f"<item><title>Item {i}</title><guid>item-{i}</guid><link>https://mfa.example/{i}</link>"
        f"<pubDate>Sat, 01 Mar 2025 {i:02d}:00:00 GMT</pubDate></item>"
        for i in reversed(range(count))
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'


class Feed:
    """Serves a feed with an ETag and answers 304 when the client already has it."""

    def __init__(self, body: str, content_type: str = "application/rss+xml") -> None:
        self.body = body
        self.content_type = content_type
        self.requests: list[Request] = []
        self.faults: list[Response] = []

    @property
    def etag(self) -> str:
        return f'"{abs(hash(self.body))}"'

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        if self.faults:
            return self.faults.pop(0)
        if request.headers.get("If-None-Match") == self.etag:
            return Response(status=304)
        return Response(
            self.body,
            content_type=self.content_type,
            headers={"ETag": self.etag, "Last-Modified": "Sat, 01 Mar 2025 12:00:00 GMT"},
        )


def serve(httpserver, feed: Feed, path: str = "/feed.xml") -> FeedProvider:
    httpserver.expect_request(path).respond_with_handler(feed)
    return FeedProvider({"feed_url": httpserver.url_for(path)}, {})


def test_rss_entries_are_read_oldest_first_as_plain_text(httpserver, allow_loopback):
    provider = serve(httpserver, Feed(RSS))
    page = provider.pull_timeline(None)
    assert [i.external_id for i in page.items] == ["mfa-press-2025-0228", "mfa-press-2025-0301"]
    advice = page.items[1]
    assert advice.kind == "feed_entry"
    assert advice.text == (
        "Travel advice updated for Utopia\n\n"
        "We advise against all but essential travel.\nRegister with the embassy."
    )
    assert advice.url == "https://mfa.example/press/2025/03/travel-advice-utopia"
    assert advice.author_name == "Press Office" and advice.language == "en"
    assert advice.created_at.isoformat() == "2025-03-01T09:00:00+00:00"
    assert advice.raw["tags"] == ["Consular"]


def test_atom_entries_keep_their_language_and_author(httpserver, allow_loopback):
    provider = serve(httpserver, Feed((FIXTURES / "atom.xml").read_text(), "application/atom+xml"))
    [item] = provider.pull_timeline(None).items
    assert item.external_id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert item.text == "تحديث ساعات العمل القنصلي\n\nتتغير ساعات العمل يوم الاثنين."
    assert item.language == "ar" and item.author_name == "القسم القنصلي"


def test_an_unchanged_feed_is_not_downloaded_again_and_nothing_is_read_twice(httpserver, allow_loopback):
    feed = Feed(RSS)
    provider = serve(httpserver, feed)
    first = provider.pull_timeline(None)
    again = provider.pull_timeline(first.cursor)
    assert again.items == [] and again.cursor == first.cursor
    assert feed.requests[1].headers["If-None-Match"] == feed.etag
    assert feed.requests[1].headers["If-Modified-Since"] == "Sat, 01 Mar 2025 12:00:00 GMT"


def test_only_new_entries_are_returned_when_the_feed_changes(httpserver, allow_loopback):
    feed = Feed(rss_with(3))
    provider = serve(httpserver, feed)
    cursor = provider.pull_timeline(None).cursor
    feed.body = rss_with(5)
    page = provider.pull_timeline(cursor)
    assert [i.external_id for i in page.items] == ["item-3", "item-4"]
    assert len(json.loads(page.cursor)["seen"]) == 5


def test_a_pull_interrupted_half_way_and_resumed_reads_every_entry_once(httpserver, allow_loopback, waits):
    feed = Feed(rss_with(7))
    provider = serve(httpserver, feed)
    first = provider.pull_timeline(None, limit=3)
    assert first.has_more
    cursor = first.cursor
    for _ in range(4):
        feed.faults.append(Response("down", status=503))
    with pytest.raises(ConnectorError) as caught:
        provider.pull_timeline(cursor, limit=3)
    assert caught.value.permanent is False
    feed.body = rss_with(8)  # one more arrived meanwhile
    rest, cursor = drain(provider.pull_timeline, cursor, limit=3)
    seen = [i.external_id for i in [*first.items, *rest]]
    assert seen == [f"item-{i}" for i in range(8)]
    assert provider.pull_timeline(cursor).items == []


def test_a_feed_on_a_private_address_is_refused(httpserver):
    provider = serve(httpserver, Feed(RSS))
    with pytest.raises(PrivateAddressRefused):
        provider.pull_timeline(None)
    with pytest.raises(PrivateAddressRefused):
        FeedProvider({"feed_url": "http://169.254.169.254/latest/meta-data"}, {}).pull_timeline(None)


def test_429_with_retry_after_then_success(httpserver, allow_loopback, waits):
    feed = Feed(RSS)
    feed.faults.append(Response("slow down", status=429, headers={"Retry-After": "6"}))
    provider = serve(httpserver, feed)
    assert len(provider.pull_timeline(None).items) == 2
    assert waits == [6.0]


def test_5xx_then_success(httpserver, allow_loopback, waits):
    feed = Feed(RSS)
    feed.faults.append(Response("oops", status=500))
    provider = serve(httpserver, feed)
    assert len(provider.pull_timeline(None).items) == 2
    assert len(waits) == 1


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_a_gone_or_forbidden_feed_is_a_permanent_error(httpserver, allow_loopback, status):
    feed = Feed(RSS)
    feed.faults.append(Response("no", status=status))
    provider = serve(httpserver, feed)
    with pytest.raises(ConnectorError) as caught:
        provider.pull_timeline(None)
    assert caught.value.permanent is True and caught.value.status == status
    assert caught.value.auth_expired is False


def test_a_page_that_is_not_a_feed_is_a_clear_temporary_error(httpserver, allow_loopback):
    provider = serve(httpserver, Feed((FIXTURES / "not_a_feed.html").read_text(), "text/html"))
    with pytest.raises(ConnectorError) as caught:
        provider.pull_timeline(None)
    assert caught.value.permanent is False
    assert "not a readable RSS or Atom feed" in caught.value.message


def test_an_oversized_feed_is_refused(httpserver, allow_loopback):
    httpserver.expect_request("/big.xml").respond_with_data(rss_with(1) + " " * 4000)
    provider = FeedProvider({"feed_url": httpserver.url_for("/big.xml"), "max_bytes": 2048}, {})
    with pytest.raises(ConnectorError) as caught:
        provider.pull_timeline(None)
    assert caught.value.permanent is True and "exceeds the limit" in caught.value.message


def test_a_bad_feed_url_fails_at_configuration():
    with pytest.raises(ConnectorError, match="feed_url"):
        FeedProvider({"feed_url": "ftp://mfa.example/feed"}, {})
