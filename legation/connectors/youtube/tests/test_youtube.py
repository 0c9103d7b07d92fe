"""YouTube through google-api-python-client against a local Data API: comments, live chat, metrics, tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from legation.connectors.base import ConnectorError, OutboundPost
from legation.connectors.http import RetryPolicy
from legation.connectors.testing import SleepRecorder, fixtures_dir, json_fixtures
from legation.connectors.youtube.provider import YouTubeProvider

CHANNEL = "UCExampliaLisbon000000001"
CREDENTIALS = {
    "access_token": "ya29.old",
    "refresh_token": "1//refresh",
    "client_id": "cid.apps",
    "client_secret": "cs",
}


fixture = json_fixtures(fixtures_dir(__file__))


@pytest.fixture
def make_provider(httpserver: HTTPServer, allow_loopback: None, sleeps: SleepRecorder):
    def make(credentials: dict[str, str] | None = None) -> YouTubeProvider:
        settings = {
            "api_base_url": httpserver.url_for("/"),
            "token_uri": httpserver.url_for("/token"),
            "channel_id": CHANNEL,
        }
        provider = YouTubeProvider(settings, credentials or CREDENTIALS)
        provider.retry_policy = RetryPolicy(attempts=3, sleep=sleeps)
        return provider

    return make


@pytest.fixture
def provider(make_provider) -> YouTubeProvider:
    return make_provider()


def api(path: str) -> str:
    return f"/youtube/v3/{path}"


class ThreadsEdge:
    """commentThreads.list like YouTube: newest first, ``maxResults`` and opaque ``pageToken``."""

    def __init__(self, threads: list[dict[str, Any]]) -> None:
        self.threads = threads

    def __call__(self, request: Request) -> Response:
        start = int(request.args.get("pageToken", "0"))
        size = int(request.args["maxResults"])
        page = self.threads[start : start + size]
        body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse", "items": page}
        if start + size < len(self.threads):
            body["nextPageToken"] = str(start + size)
        return Response(json.dumps(body), content_type="application/json")


def test_verify_credentials_reads_my_channel(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request(
        api("channels"), query_string={"part": "snippet", "mine": "true", "alt": "json"}
    ).respond_with_json(fixture("channels_mine"))

    info = provider.verify_credentials()

    assert (info.external_id, info.handle, info.display_name) == (
        CHANNEL,
        "@exampliaLisbon".lower(),
        "Embassy of Examplia in Lisbon",
    )
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == "Bearer ya29.old"


def test_interrupted_comment_pull_resumes_and_reads_each_thread_once(httpserver: HTTPServer, make_provider):
    threads = fixture("comment_threads")["items"]
    edge = ThreadsEdge(threads[1:])  # two comments exist at first, newest first
    httpserver.expect_request(api("commentThreads")).respond_with_handler(edge)

    first = make_provider().pull_mentions(None, limit=1)
    edge.threads = threads  # a newer comment arrives while the sweep is half-way
    # The newer comment shifts YouTube's pages; the resumed sweep may see an old one again and must drop it.
    rest = make_provider().pull_mentions(first.cursor, limit=1)
    pages = [first, rest]
    while pages[-1].has_more:
        pages.append(make_provider().pull_mentions(pages[-1].cursor, limit=1))
    pages.append(make_provider().pull_mentions(pages[-1].cursor, limit=5))

    seen = [i.external_id for p in pages for i in p.items]
    assert sorted(seen) == ["UgzThread1", "UgzThread2", "UgzThread3"]
    assert len(seen) == len(set(seen))
    item = next(i for p in pages for i in p.items if i.external_id == "UgzThread1")
    assert (item.text, item.author_name, item.kind) == ("When does the visa office reopen?", "Ana Silva", "comment")
    assert item.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzThread1"


def test_reply_and_delete_comment(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request(api("comments"), method="POST").respond_with_json(fixture("comment_inserted"))
    httpserver.expect_request(api("comments"), method="DELETE").respond_with_data("", status=204)

    delivered = provider.publish(OutboundPost(text="Yes, from next week.", reply_to="UgzThread3"))
    provider.delete(delivered.external_id)

    assert delivered.external_id == "UgzThread3.AHrX9vY0kZb"
    insert, delete = (r for r, _ in httpserver.log)
    assert json.loads(insert.get_data())["snippet"] == {
        "parentId": "UgzThread3",
        "textOriginal": "Yes, from next week.",
    }
    assert delete.args["id"] == "UgzThread3.AHrX9vY0kZb"


def test_live_chat_pull_follows_next_page_token_and_skips_the_owner(httpserver: HTTPServer, provider):
    httpserver.expect_request(api("liveChat/messages")).respond_with_json(fixture("live_chat_messages"))

    page = provider.pull_live_chat("Cg0KC2RRdzR3OVdnWGNR", None)
    again = provider.pull_live_chat("Cg0KC2RRdzR3OVdnWGNR", page.cursor)

    [question] = page.items
    assert (question.text, question.author_name, question.kind) == (
        "How do I register as a citizen abroad?",
        "Ana Silva",
        "message",
    )
    assert page.cursor == "GOCQ2p7x_IUDILDu2p7x_IUD"
    assert httpserver.log[1][0].args["pageToken"] == "GOCQ2p7x_IUDILDu2p7x_IUD"
    assert again.cursor == "GOCQ2p7x_IUDILDu2p7x_IUD"


def test_video_and_channel_metrics(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request(api("videos")).respond_with_json(fixture("videos_statistics"))
    httpserver.expect_request(api("channels")).respond_with_json(fixture("channels_statistics"))

    video = provider.post_metrics("dQw4w9WgXcQ")
    channel = provider.account_metrics()

    assert (video.impressions, video.likes, video.replies) == (48213, 1520, 87)
    assert channel.followers == 18250


def test_expired_token_is_refreshed_on_401_and_the_call_succeeds(httpserver: HTTPServer, provider):
    httpserver.expect_request(api("channels"), headers={"Authorization": "Bearer ya29.old"}).respond_with_json(
        fixture("error_401"), status=401
    )
    httpserver.expect_request("/token", method="POST").respond_with_json(fixture("token_refresh"))
    httpserver.expect_request(
        api("channels"), headers={"Authorization": "Bearer ya29.a0AfB_fresh-access-token"}
    ).respond_with_json(fixture("channels_mine"))

    info = provider.verify_credentials()

    assert info.external_id == CHANNEL
    assert provider.refreshed is not None
    assert provider.refreshed.credentials["access_token"] == "ya29.a0AfB_fresh-access-token"
    token_request = next(r for r, _ in httpserver.log if r.path == "/token")
    assert token_request.form["grant_type"] == "refresh_token"
    assert token_request.form["refresh_token"] == "1//refresh"


def test_revoked_refresh_token_is_permanent(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request(api("channels")).respond_with_json(fixture("error_401"), status=401)
    httpserver.expect_request("/token", method="POST").respond_with_json(fixture("token_invalid_grant"), status=400)

    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()

    assert caught.value.permanent and "invalid_grant" in caught.value.message


def test_explicit_refresh_returns_new_tokens(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request("/token", method="POST").respond_with_json(fixture("token_refresh"))

    tokens = provider.refresh_token()

    assert tokens.credentials["access_token"] == "ya29.a0AfB_fresh-access-token"
    assert tokens.credentials["refresh_token"] == "1//refresh"


def test_daily_quota_exhausted_waits_for_pacific_midnight(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request(api("commentThreads")).respond_with_json(fixture("error_403_quota"), status=403)

    with pytest.raises(ConnectorError) as caught:
        provider.pull_mentions(None)

    assert not caught.value.permanent
    assert 0 < (caught.value.retry_after or 0) <= 25 * 3600


def test_rate_limit_429_carries_retry_after(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request(api("commentThreads")).respond_with_json(
        fixture("error_503"), status=429, headers={"Retry-After": "120"}
    )

    with pytest.raises(ConnectorError) as caught:
        provider.pull_mentions(None)

    assert not caught.value.permanent and caught.value.retry_after == 120


def test_comments_disabled_is_permanent(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request(api("comments"), method="POST").respond_with_json(
        fixture("error_403_comments_disabled"), status=403
    )

    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello", reply_to="UgzThread3"))

    assert caught.value.permanent and "disabled comments" in caught.value.message


def test_server_error_on_read_is_retried_then_succeeds(httpserver: HTTPServer, provider: YouTubeProvider, sleeps):
    httpserver.expect_oneshot_request(api("videos")).respond_with_json(fixture("error_503"), status=503)
    httpserver.expect_request(api("videos")).respond_with_json(fixture("videos_statistics"))

    assert provider.post_metrics("dQw4w9WgXcQ").likes == 1520
    assert len(sleeps.waits) == 1


def test_malformed_json_is_temporary(httpserver: HTTPServer, provider: YouTubeProvider):
    httpserver.expect_request(api("videos")).respond_with_data('{"items": [', content_type="application/json")

    with pytest.raises(ConnectorError) as caught:
        provider.post_metrics("dQw4w9WgXcQ")

    assert not caught.value.permanent and "malformed" in caught.value.message
