"""Tumblr through ``pytumblr`` (OAuth 1.0a) against a local server answering as Tumblr's API v2 does."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer

from legation.connectors.base import ConnectorError, Media, OutboundPost
from legation.connectors.testing import drain
from legation.connectors.tumblr.provider import TumblrProvider
from legation.connectors.tumblr.tests.fake_tumblr import BLOG, CREDS, FakeTumblr, Fault

PHOTO = Media(data=b"\x89PNG bytes", mime_type="image/png", alt_text="Map of the evacuation points", filename="map.png")


@pytest.fixture
def fake(httpserver: HTTPServer, allow_loopback: None, waits: list[float]) -> FakeTumblr:
    tumblr = FakeTumblr()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(tumblr.handle)
    return tumblr


def make_provider(httpserver: HTTPServer, **creds: str) -> TumblrProvider:
    return TumblrProvider(
        {"blog": BLOG, "api_base_url": httpserver.url_for("/"), "tags": ["consular"]}, {**CREDS, **creds}
    )


def test_a_text_post_is_published(httpserver: HTTPServer, fake: FakeTumblr):
    delivered = make_provider(httpserver).publish(
        OutboundPost(text="Consulate closed on Monday.", link="https://embassy.example/hours")
    )

    post = fake.posts[delivered.external_id]
    assert post["type"] == "text"
    assert post["body"] == "Consulate closed on Monday.\n\nhttps://embassy.example/hours"
    assert post["tags"] == "consular"
    assert delivered.url == f"https://{BLOG}.tumblr.com/post/{delivered.external_id}"


def test_a_photo_post_carries_the_image_and_its_description(httpserver: HTTPServer, fake: FakeTumblr):
    delivered = make_provider(httpserver).publish(OutboundPost(text="Evacuation points", media=[PHOTO]))

    post = fake.posts[delivered.external_id]
    assert post["type"] == "photo"
    assert post["files"] == [PHOTO.data]
    assert post["caption"] == "Evacuation points\n\nImage: Map of the evacuation points"


def test_delete_removes_the_post_and_tolerates_the_already_gone(httpserver: HTTPServer, fake: FakeTumblr):
    provider = make_provider(httpserver)
    post_id = fake.add_post()
    provider.delete(post_id)
    provider.delete(post_id)
    assert post_id not in fake.posts


def test_an_interrupted_pull_resumes_and_reads_every_reply_exactly_once(httpserver: HTTPServer, fake: FakeTumblr):
    now = datetime.now(UTC)
    first_post, second_post = fake.add_post(), fake.add_post()
    for n in range(5):
        fake.add_note(
            first_post if n % 2 else second_post,
            "reply",
            now - timedelta(minutes=50 - n),
            f"question {n}",
            blog=f"citizen{n}",
        )
    fake.add_note(first_post, "like", now - timedelta(minutes=40))
    fake.add_note(second_post, "reblog", now - timedelta(minutes=39), "Please share", blog="diaspora")
    provider = make_provider(httpserver)

    page = provider.pull_mentions(None, limit=2)
    assert [i.text for i in page.items] == ["question 0", "question 1"]

    fake.faults.extend([Fault(502, "Bad Gateway")] * 4)
    with pytest.raises(ConnectorError) as caught:
        provider.pull_mentions(page.cursor, limit=2)
    assert not caught.value.permanent and caught.value.status == 502

    rest, cursor = drain(provider.pull_mentions, page.cursor, limit=2)
    items = [*page.items, *rest]

    assert [i.text for i in items] == [f"question {n}" for n in range(5)] + ["Please share"]
    assert len({i.external_id for i in items}) == 6
    assert provider.pull_mentions(cursor).items == []
    assert items[0].kind == "reply" and items[0].author_name == "citizen0" and items[0].in_reply_to == second_post
    assert items[-1].kind == "mention"


def test_a_429_is_waited_out(httpserver: HTTPServer, fake: FakeTumblr, waits: list[float]):
    fake.faults.append(
        Fault(429, json.dumps({"meta": {"status": 429, "msg": "Limit Exceeded"}, "response": []}), {"Retry-After": "3"})
    )
    assert make_provider(httpserver).verify_credentials().handle == BLOG
    assert waits == [3.0]


def test_a_long_rate_limit_is_handed_back(httpserver: HTTPServer, fake: FakeTumblr, waits: list[float]):
    body = json.dumps({"meta": {"status": 429, "msg": "Limit Exceeded"}, "response": []})
    fake.faults.append(Fault(429, body, {"Retry-After": "900"}))
    with pytest.raises(ConnectorError, match="Limit Exceeded") as caught:
        make_provider(httpserver).publish(OutboundPost(text="x"))
    assert caught.value.retry_after == 900 and not caught.value.permanent


def test_a_503_then_success(httpserver: HTTPServer, fake: FakeTumblr, waits: list[float]):
    fake.faults.append(Fault(503, "down"))
    make_provider(httpserver).publish(OutboundPost(text="hello"))
    assert len(waits) == 1 and len(fake.posts) == 1


def test_a_refused_post_is_permanent_with_tumblrs_words(httpserver: HTTPServer, fake: FakeTumblr):
    body = {
        "meta": {"status": 400, "msg": "Bad Request"},
        "response": [],
        "errors": [{"title": "Bad Request", "code": 8001, "detail": "Posting limit reached for today"}],
    }
    fake.faults.append(Fault(400, json.dumps(body)))
    with pytest.raises(ConnectorError, match="Posting limit reached") as caught:
        make_provider(httpserver).publish(OutboundPost(text="x"))
    assert caught.value.permanent and caught.value.status == 400


def test_a_revoked_token_is_permanent(httpserver: HTTPServer, fake: FakeTumblr):
    with pytest.raises(ConnectorError, match="Unable to authorize") as caught:
        make_provider(httpserver, oauth_token="revoked").verify_credentials()
    assert caught.value.permanent and caught.value.status == 401


def test_an_unreadable_answer_to_a_publish_is_not_retried(httpserver: HTTPServer, fake: FakeTumblr):
    fake.faults.append(Fault(201, "<html>proxy"))
    with pytest.raises(ConnectorError, match="check the blog") as caught:
        make_provider(httpserver).publish(OutboundPost(text="x"))
    assert caught.value.permanent


def test_an_unreadable_answer_to_a_read_is_temporary(httpserver: HTTPServer, fake: FakeTumblr):
    fake.faults.append(Fault(200, "{broken"))
    with pytest.raises(ConnectorError, match="could not be read") as caught:
        make_provider(httpserver).verify_credentials()
    assert not caught.value.permanent


def test_an_oversized_answer_is_refused(httpserver: HTTPServer, fake: FakeTumblr):
    fake.faults.append(Fault(200, '{"x": "' + "a" * (11 * 1024 * 1024) + '"}'))
    with pytest.raises(ConnectorError, match="exceeds the limit") as caught:
        make_provider(httpserver).verify_credentials()
    assert caught.value.permanent


def test_metrics_are_note_counts(httpserver: HTTPServer, fake: FakeTumblr):
    post_id = fake.add_post()
    now = datetime.now(UTC)
    for kind in ("like", "like", "reblog", "reply"):
        fake.add_note(post_id, kind, now, "text")
    provider = make_provider(httpserver)

    metrics = provider.post_metrics(post_id)

    assert (metrics.likes, metrics.reposts, metrics.replies) == (2, 1, 1)
    assert provider.account_metrics().followers == 4321


def test_a_blog_the_user_cannot_post_to_is_named(httpserver: HTTPServer, fake: FakeTumblr):
    provider = TumblrProvider({"blog": "someone-else", "api_base_url": httpserver.url_for("/")}, CREDS)
    with pytest.raises(ConnectorError, match="cannot post to the blog 'someone-else'") as caught:
        provider.verify_credentials()
    assert caught.value.permanent
