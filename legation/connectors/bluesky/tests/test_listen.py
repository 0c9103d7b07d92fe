"""Pulling Bluesky notifications, the author feed and search with resumable sweep cursors."""

from __future__ import annotations

import pytest

from legation.connectors.base import ConnectorError
from legation.connectors.testing import drain

from .conftest import DID


def test_first_pull_reads_mentions_and_replies_but_not_likes(provider, pds):
    mention = pds.add_notification("notification_mention", "@embassy.example.com visa on Saturday?")
    pds.add_notification("notification_like", "")
    reply = pds.add_notification("notification_reply", "Merci pour l'information !")
    page = provider.pull_mentions(None)
    assert [i.external_id for i in page.items] == [mention["uri"], reply["uri"]]  # oldest first
    first, second = page.items
    assert first.kind == "mention" and first.author_name == "citizen.bsky.social"
    assert (
        first.url == f"https://bsky.app/profile/citizen.bsky.social/post/{mention['uri'].rsplit('/', 1)[1]}"
    )
    assert second.kind == "reply" and second.language == "fr"
    assert second.in_reply_to == f"at://{DID}/app.bsky.feed.post/3lbtest00001"
    assert page.has_more is False and page.cursor


def test_a_pull_interrupted_half_way_and_resumed_reads_every_notification_once(provider, pds, waits):
    pds.add_notification("notification_mention", "already seen")
    cursor = provider.pull_mentions(None).cursor
    expected = [pds.add_notification("notification_mention", f"m{i}")["uri"] for i in range(5)]

    first = provider.pull_mentions(cursor, limit=2)
    assert first.has_more
    cursor = first.cursor  # stored before the worker died
    for _ in range(4):
        pds.fail_next("app.bsky.notification.listNotifications", 503, {"error": "Unavailable"})
    with pytest.raises(ConnectorError) as caught:
        provider.pull_mentions(cursor, limit=2)
    assert caught.value.permanent is False

    late = pds.add_notification("notification_mention", "arrived during the outage")["uri"]
    rest, cursor = drain(provider.pull_mentions, cursor)
    # The sweep under way finishes; the newcomer is read by the next sweep.
    more, cursor = drain(provider.pull_mentions, cursor)
    seen = [i.external_id for i in first.items + rest + more]
    assert sorted(seen) == sorted([*expected, late])
    assert len(seen) == len(set(seen))
    assert provider.pull_mentions(cursor).items == []


def test_author_feed_is_pulled_with_a_cursor(provider, pds):
    pds.add_post("old")
    page = provider.pull_timeline(None)
    assert [i.text for i in page.items] == ["old"]
    for i in range(3):
        pds.add_post(f"new {i}")
    items, _ = drain(provider.pull_timeline, page.cursor)
    assert sorted(i.text for i in items) == ["new 0", "new 1", "new 2"]
    assert items[0].raw["like_count"] == 40


def test_search_finds_posts_and_hashtags(provider, pds):
    other = {"did": "did:plc:citizen00000000000000000", "handle": "citizen.bsky.social", "labels": []}
    pds.add_post("Evacuation flights #ConsularHelp", author=other)
    pds.add_post("Cultural week", author=other)
    page = provider.search("#consularhelp", None)
    assert [i.text for i in page.items] == ["Evacuation flights #ConsularHelp"]
    assert page.items[0].author_name == "citizen.bsky.social"


def test_a_cursor_from_elsewhere_is_refused_clearly(provider):
    with pytest.raises(ConnectorError) as caught:
        provider.pull_mentions("not-json")
    assert caught.value.permanent is True


def test_another_accounts_posts_are_read_by_its_handle(provider, pds):
    ministry = {"did": "did:plc:norland000000000000000000", "handle": "mfa.norland.example",
                "displayName": "Norland MFA"}
    pds.add_post("ours, not theirs")
    pds.add_post("Statement on the talks", author=ministry)
    pds.add_post("@mfa.norland.example what about the talks?",
                 author={"did": "did:plc:someone00000000000000000", "handle": "someone.bsky.social"})
    page = provider.pull_account("@mfa.norland.example", None)
    assert [(i.text, i.author_name) for i in page.items] == [("Statement on the talks", "mfa.norland.example")]
    pds.add_post("Second statement", author=ministry)
    items, _ = drain(lambda cursor, limit=50: provider.pull_account("mfa.norland.example", cursor, limit),
                     page.cursor)
    assert [i.text for i in items] == ["Second statement"]


def test_an_unknown_account_is_a_permanent_error(provider, pds):
    with pytest.raises(ConnectorError) as unknown:
        provider.pull_account("nobody.example", None)
    assert unknown.value.permanent
