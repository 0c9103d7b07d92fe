"""Flickr through ``flickrapi`` (OAuth 1.0a) against a local server answering as Flickr's API does."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer

from legation.connectors.base import ConnectorError, Media, OutboundPost
from legation.connectors.flickr.provider import FlickrProvider
from legation.connectors.flickr.tests.fake_flickr import (
    API_KEY,
    API_SECRET,
    TOKEN,
    TOKEN_SECRET,
    USER_ID,
    FakeFlickr,
    Fault,
)
from legation.connectors.testing import drain

PHOTO = Media(
    data=b"\xff\xd8\xff\xe0 jpeg bytes",
    mime_type="image/jpeg",
    alt_text="Ambassador at the flood site",
    filename="visit.jpg",
)


@pytest.fixture
def fake(httpserver: HTTPServer, allow_loopback: None, waits: list[float]) -> FakeFlickr:
    flickr = FakeFlickr()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(flickr.handle)
    return flickr


def make_provider(httpserver: HTTPServer, token: str = TOKEN) -> FlickrProvider:
    base = httpserver.url_for("/")
    return FlickrProvider(
        {"api_base_url": base, "upload_base_url": base},
        {"api_key": API_KEY, "api_secret": API_SECRET, "oauth_token": token, "oauth_token_secret": TOKEN_SECRET},
    )


def test_a_photo_is_published_with_its_alt_text_as_title(httpserver: HTTPServer, fake: FakeFlickr):
    post = OutboundPost(
        text="The ambassador visited the flooded district today.", media=[PHOTO], link="https://embassy.example/floods"
    )
    delivered = make_provider(httpserver).publish(post)

    [upload] = fake.uploads
    assert upload["title"] == "Ambassador at the flood site"
    assert (
        upload["description"] == "The ambassador visited the flooded district today.\n\nhttps://embassy.example/floods"
    )
    assert upload["data"] == PHOTO.data
    assert upload["is_public"] == "1"
    assert delivered.external_id == upload["photo_id"]
    assert delivered.url == f"https://www.flickr.com/photo.gne?id={upload['photo_id']}"


def test_a_post_without_exactly_one_image_is_refused(httpserver: HTTPServer, fake: FakeFlickr):
    provider = make_provider(httpserver)
    with pytest.raises(ConnectorError, match="attach one image") as caught:
        provider.publish(OutboundPost(text="words only"))
    assert caught.value.permanent
    with pytest.raises(ConnectorError, match="one photo per post"):
        provider.publish(OutboundPost(text="two", media=[PHOTO, PHOTO]))
    assert fake.calls == []


def test_a_reply_is_a_comment_on_the_photo(httpserver: HTTPServer, fake: FakeFlickr):
    photo_id = fake.add_photo()
    question = fake.add_comment(photo_id, "Where is this?", datetime.now(UTC))

    delivered = make_provider(httpserver).publish(OutboundPost(text="In Strelsau, by the river.", reply_to=question))

    assert delivered.external_id.startswith(f"{photo_id}/")
    assert [c["_content"] for c in fake.comments[photo_id]] == ["Where is this?", "In Strelsau, by the river."]


def test_delete_removes_photos_and_comments_and_tolerates_the_already_gone(httpserver: HTTPServer, fake: FakeFlickr):
    provider = make_provider(httpserver)
    photo_id = fake.add_photo()
    comment = fake.add_comment(photo_id, "spam", datetime.now(UTC))

    provider.delete(comment)
    provider.delete(photo_id)
    provider.delete(photo_id)  # a retried delete after the first one succeeded

    assert photo_id not in fake.photos


def test_an_interrupted_pull_resumes_and_reads_every_comment_exactly_once(httpserver: HTTPServer, fake: FakeFlickr):
    now = datetime.now(UTC)
    older, newer = fake.add_photo("older"), fake.add_photo("newer")
    expected = [
        fake.add_comment(older if n % 2 else newer, f"comment {n}", now - timedelta(minutes=60 - n)) for n in range(6)
    ]
    provider = make_provider(httpserver)

    first = provider.pull_mentions(None, limit=2)
    assert [i.external_id for i in first.items] == expected[:2]
    assert first.has_more

    fake.faults.append(
        Fault(200, json.dumps({"stat": "fail", "code": 105, "message": "Service currently unavailable"}))
    )
    with pytest.raises(ConnectorError, match="Service currently unavailable") as caught:
        provider.pull_mentions(first.cursor, limit=2)
    assert not caught.value.permanent

    late = fake.add_comment(older, "late", now - timedelta(minutes=59))  # dated before the cursor
    expected.append(late)
    rest, cursor = drain(provider.pull_mentions, first.cursor, limit=2)
    items = [*first.items, *rest]

    got = [i.external_id for i in items]
    assert sorted(got) == sorted(expected) and len(got) == len(set(got))
    assert provider.pull_mentions(cursor).items == []
    assert items[0].kind == "comment" and items[0].text == "comment 0" and items[0].in_reply_to == newer
    assert items[0].author_name == "A Traveller"


def test_a_429_is_waited_out(httpserver: HTTPServer, fake: FakeFlickr, waits: list[float]):
    fake.faults.append(Fault(429, "", {"Retry-After": "2"}))
    info = make_provider(httpserver).verify_credentials()
    assert waits == [2.0]
    assert info.external_id == USER_ID and info.handle == "embassy_ruritania"


def test_a_503_then_success(httpserver: HTTPServer, fake: FakeFlickr, waits: list[float]):
    fake.faults.append(Fault(503, "Service Unavailable"))
    assert make_provider(httpserver).verify_credentials().external_id == USER_ID
    assert len(waits) == 1


def test_a_500_on_upload_is_not_resent(httpserver: HTTPServer, fake: FakeFlickr, waits: list[float]):
    fake.faults.append(Fault(500, "Internal error"))
    with pytest.raises(ConnectorError) as caught:
        make_provider(httpserver).publish(OutboundPost(text="x", media=[PHOTO]))
    assert not caught.value.permanent
    assert caught.value.status == 500
    assert fake.uploads == [] and waits == []


def test_an_invalid_token_is_permanent_with_flickrs_words(httpserver: HTTPServer, fake: FakeFlickr):
    fake.faults.append(Fault(200, json.dumps({"stat": "fail", "code": 98, "message": "Invalid auth token"})))
    with pytest.raises(ConnectorError, match="Invalid auth token") as caught:
        make_provider(httpserver).verify_credentials()
    assert caught.value.permanent


def test_a_401_is_permanent(httpserver: HTTPServer, fake: FakeFlickr):
    with pytest.raises(ConnectorError) as caught:
        make_provider(httpserver, token="revoked").verify_credentials()
    assert caught.value.permanent
    assert caught.value.status == 401
    assert "token_rejected" in caught.value.message


def test_a_malformed_answer_is_temporary(httpserver: HTTPServer, fake: FakeFlickr):
    fake.faults.append(Fault(200, "<html>gateway"))
    with pytest.raises(ConnectorError, match="could not be read") as caught:
        make_provider(httpserver).verify_credentials()
    assert not caught.value.permanent


def test_an_oversized_answer_is_refused(httpserver: HTTPServer, fake: FakeFlickr):
    fake.faults.append(Fault(200, '{"x": "' + "a" * (11 * 1024 * 1024) + '"}'))
    with pytest.raises(ConnectorError, match="exceeds the limit") as caught:
        make_provider(httpserver).verify_credentials()
    assert caught.value.permanent


def test_metrics_are_views_faves_and_comments(httpserver: HTTPServer, fake: FakeFlickr):
    photo_id = fake.add_photo()
    fake.photos[photo_id].update(views="1520", faves=37)
    fake.add_comment(photo_id, "Beautiful", datetime.now(UTC))

    metrics = make_provider(httpserver).post_metrics(photo_id)

    assert (metrics.impressions, metrics.likes, metrics.replies) == (1520, 37, 1)


def test_the_private_address_guard_applies_to_the_sdk(httpserver: HTTPServer):
    with pytest.raises(ConnectorError, match="private, loopback"):
        make_provider(httpserver).verify_credentials()
