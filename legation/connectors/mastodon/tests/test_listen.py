"""Pulling mentions, direct messages, the own timeline and hashtags from Mastodon with resumable cursors."""

from __future__ import annotations

import pytest

from legation.connectors.base import ConnectorError
from legation.connectors.testing import drain


def test_first_pull_reads_the_newest_mentions_and_sets_a_cursor(provider, fake):
    notes = [fake.add_mention(f"question {i}") for i in range(3)]
    page = provider.pull_mentions(None)
    assert [i.text.split()[-1] for i in page.items] == ["0", "1", "2"]  # oldest first
    assert page.cursor == notes[-1]["id"]
    first = page.items[0]
    assert first.kind == "mention" and first.author_name == "citizen@social.example"
    assert first.in_reply_to == "113000000000000001"
    assert first.url.startswith("https://social.example/@citizen/")
    assert first.created_at is not None and first.created_at.year == 2025


def test_a_pull_interrupted_half_way_and_resumed_reads_every_mention_once(provider, fake, waits):
    start = fake.add_mention("before we started")
    page = provider.pull_mentions(None)
    cursor = page.cursor
    assert cursor == start["id"]
    expected = [fake.add_mention(f"m{i}")["status"]["id"] for i in range(5)]

    first = provider.pull_mentions(cursor, limit=2)
    assert first.has_more
    cursor = first.cursor  # stored by the job before it died
    for _ in range(4):
        fake.fail_next("GET", "/api/v1/notifications", 503, {"error": "Service Unavailable"})
    with pytest.raises(ConnectorError) as caught:
        provider.pull_mentions(cursor, limit=2)
    assert caught.value.permanent is False

    expected.append(fake.add_mention("arrived during the outage")["status"]["id"])
    rest, cursor = drain(provider.pull_mentions, cursor)
    seen = [i.external_id for i in first.items + rest]
    assert seen == expected
    assert provider.pull_mentions(cursor).items == []


def test_direct_messages_and_mentions_are_kept_apart(provider, fake):
    fake.add_mention("public question")
    dm = fake.add_mention("I lost my passport", direct=True)
    mentions = provider.pull_mentions(None)
    messages = provider.pull_messages(None)
    assert [m.text for m in mentions.items] == ["public question"]
    assert [m.text for m in messages.items] == ["I lost my passport"]
    message = messages.items[0]
    assert message.kind == "message"
    assert message.conversation_id == dm["status"]["account"]["id"]
    assert message.author_name == "traveller@social.example"


def test_own_timeline_is_pulled_with_a_cursor(provider, fake):
    old = fake.add_own_status("old")
    page = provider.pull_timeline(None)
    assert [i.external_id for i in page.items] == [old["id"]]
    new = [fake.add_own_status(f"new {i}")["id"] for i in range(3)]
    items, _ = drain(provider.pull_timeline, page.cursor)
    assert [i.external_id for i in items] == new
    assert items[0].kind == "post" and items[0].text == "new 0"


def test_hashtag_search_reads_the_tag_timeline(provider, fake):
    fake.add_own_status("Visa queue update #ConsularHelp", tags=("ConsularHelp",))
    fake.add_own_status("Unrelated")
    page = provider.search("#consularhelp", None)
    assert [i.text for i in page.items] == ["Visa queue update #ConsularHelp"]


def test_text_search_uses_full_text_search(provider, fake):
    fake.add_own_status("Evacuation flights from the capital")
    fake.add_own_status("Cultural week")
    page = provider.search("evacuation", None)
    assert [i.text for i in page.items] == ["Evacuation flights from the capital"]


def test_long_links_come_back_whole_in_the_text(provider, fake):
    status = fake.add_own_status("x")
    status["content"] = (
        '<p>Read <a href="https://embassy.example/a/very/long/path"><span class="invisible">https://</span>'
        '<span class="ellipsis">embassy.example/a/very</span><span class="invisible">/long/path</span></a>'
        "<br>Thanks &amp; regards</p><p>Second paragraph</p>"
    )
    item = provider.pull_timeline(None).items[0]
    assert item.text == "Read https://embassy.example/a/very/long/path\nThanks & regards\n\nSecond paragraph"


def test_post_and_account_metrics(provider, fake):
    status = fake.add_own_status("measured")
    metrics = provider.post_metrics(status["id"])
    assert (metrics.likes, metrics.reposts, metrics.replies) == (40, 12, 3)
    assert provider.account_metrics().followers == 1842


def test_metrics_of_a_missing_post_is_a_permanent_not_found(provider):
    with pytest.raises(ConnectorError) as caught:
        provider.post_metrics("1")
    assert caught.value.permanent is True and caught.value.status == 404


def test_another_accounts_public_posts_are_read_by_its_handle(provider, fake):
    fake.add_own_status("ours, not theirs")
    first = fake.add_status_of("norland_mfa@gov.example", "Statement on the talks")
    fake.add_status_of("norland_mfa@gov.example", "to a follower only", visibility="private")
    fake.add_status_of("someone", "@norland_mfa@gov.example what about the talks?")
    page = provider.pull_account("@norland_mfa@gov.example", None)
    assert [(i.external_id, i.text, i.author_name) for i in page.items] == [
        (first["id"], "Statement on the talks", "norland_mfa@gov.example")]
    later = fake.add_status_of("norland_mfa@gov.example", "Second statement")
    items, _ = drain(lambda cursor, limit=40: provider.pull_account("norland_mfa@gov.example", cursor, limit),
                     page.cursor)
    assert [i.external_id for i in items] == [later["id"]]


def test_an_unknown_account_is_a_permanent_error(provider, fake):
    with pytest.raises(ConnectorError) as unknown:
        provider.pull_account("@nobody@gov.example", None)
    assert unknown.value.permanent and unknown.value.status == 404
