"""Pulling from X: mentions, timeline, search and DMs with resumable cursors; metrics; verify credentials."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from legation.connectors.base import ConnectorError
from legation.connectors.x.provider import POST_FIELDS, XProvider

from .conftest import ME, fixture


class MentionsTimeline:
    """Answers GET /2/users/:id/mentions like X: newest first, ``since_id``, opaque ``pagination_token``."""

    def __init__(self, posts: list[dict[str, Any]], users: list[dict[str, Any]], page_size: int = 2) -> None:
        self.posts = sorted(posts, key=lambda p: int(p["id"]), reverse=True)
        self.users = users
        self.page_size = page_size
        self.requests: list[dict[str, str]] = []

    def arrive(self, post: dict[str, Any]) -> None:
        self.posts = sorted([*self.posts, post], key=lambda p: int(p["id"]), reverse=True)

    def __call__(self, request: Request) -> Response:
        args = dict(request.args)
        self.requests.append(args)
        since = int(args.get("since_id", 0))
        visible = [p for p in self.posts if int(p["id"]) > since]
        if "pagination_token" in args:  # the token encodes "older than this id"
            until = int(args["pagination_token"].removeprefix("older-than-"))
            visible = [p for p in visible if int(p["id"]) < until]
        page = visible[: self.page_size]
        if not page:
            return Response(json.dumps({"meta": {"result_count": 0}}), content_type="application/json")
        meta = {"result_count": len(page), "newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if len(visible) > len(page):
            meta["next_token"] = f"older-than-{page[-1]['id']}"
        authors = {p["author_id"] for p in page}
        body = {
            "data": page,
            "includes": {"users": [u for u in self.users if u["id"] in authors]},
            "meta": meta,
        }
        return Response(json.dumps(body), content_type="application/json")


def timeline_from_fixtures() -> MentionsTimeline:
    first, second = fixture("mentions_page1"), fixture("mentions_page2")
    users = first["includes"]["users"]
    return MentionsTimeline(first["data"] + second["data"], users)


def test_mentions_come_back_as_inbound_items(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request(f"/2/users/{ME}/mentions").respond_with_json(fixture("mentions_page1"))

    page = provider.pull_mentions(None)

    first, second = page.items
    assert (first.external_id, first.kind, first.author_name) == (
        "1800000000000000305",
        "mention",
        "anasilva",
    )
    assert first.text == "@ExampliaLisbon is the visa office open on Friday?"
    assert first.url == "https://x.com/anasilva/status/1800000000000000305"
    assert first.created_at is not None and first.created_at.year == 2025
    assert (second.kind, second.in_reply_to, second.language) == ("reply", "1800000000000000100", "pt")
    assert page.has_more


def test_interrupted_mention_pull_resumes_and_reads_each_mention_once(httpserver: HTTPServer, make_provider):
    timeline = timeline_from_fixtures()
    httpserver.expect_request(f"/2/users/{ME}/mentions").respond_with_handler(timeline)

    first = make_provider().pull_mentions(None)
    assert first.has_more
    # The worker dies here; a new mention arrives; a fresh worker resumes from the stored cursor.
    timeline.arrive(fixture("mentions_new")["data"][0])
    rest = make_provider().pull_mentions(first.cursor)
    assert not rest.has_more
    later = make_provider().pull_mentions(rest.cursor)
    quiet = make_provider().pull_mentions(later.cursor)

    seen = [i.external_id for page in (first, rest, later, quiet) for i in page.items]
    assert seen == [
        "1800000000000000305",
        "1800000000000000304",
        "1800000000000000302",
        "1800000000000000400",
    ]
    assert quiet.items == []
    assert timeline.requests[-1]["since_id"] == "1800000000000000400"


def test_server_error_while_pulling_is_retried(httpserver: HTTPServer, provider: XProvider, sleeps):
    httpserver.expect_oneshot_request(f"/2/users/{ME}/mentions").respond_with_json(
        fixture("error_503"), status=503
    )
    httpserver.expect_request(f"/2/users/{ME}/mentions").respond_with_json(fixture("mentions_page2"))

    page = provider.pull_mentions(None)

    assert [i.external_id for i in page.items] == ["1800000000000000302"]
    assert len(sleeps.waits) == 1


def test_persistent_outage_is_temporary(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request(f"/2/users/{ME}/mentions").respond_with_json(fixture("error_503"), status=503)

    with pytest.raises(ConnectorError) as caught:
        provider.pull_mentions(None)

    assert not caught.value.permanent and caught.value.status == 503


def test_user_id_is_looked_up_when_not_configured(httpserver: HTTPServer, make_provider):
    httpserver.expect_request("/2/users/me").respond_with_json(fixture("users_me"))
    httpserver.expect_request(f"/2/users/{ME}/tweets").respond_with_json(fixture("user_timeline"))

    page = make_provider(user_id=None, username=None).pull_timeline(None)

    assert [(i.external_id, i.kind) for i in page.items] == [("1800000000000000100", "post")]
    assert page.items[0].url == "https://x.com/ExampliaLisbon/status/1800000000000000100"
    assert json.loads(page.cursor or "{}") == {"since_id": "1800000000000000100"}


def test_recent_search_sends_the_query(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request(
        "/2/tweets/search/recent",
        query_string={
            "query": "#ExampliaDay",
            "max_results": "10",
            "post.fields": ",".join(POST_FIELDS),
            "expansions": "author_id",
            "user.fields": "id,name,username,public_metrics",
        },
    ).respond_with_json(fixture("search_recent"))

    page = provider.search("#ExampliaDay", None, limit=10)

    assert [(i.external_id, i.author_name) for i in page.items] == [("1800000000000000500", "lisbondaily")]


def test_direct_messages_skip_our_own_and_resume_without_repeats(httpserver: HTTPServer, provider: XProvider):
    events = fixture("dm_events")
    httpserver.expect_oneshot_request("/2/dm_events").respond_with_json(events)
    newer = {
        "id": "1580000000000000015",
        "event_type": "MessageCreate",
        "text": "Thank you!",
        "sender_id": "2244994945",
        "dm_conversation_id": "1450000000000000001-2244994945",
        "created_at": "2025-03-14T10:30:00.000Z",
    }
    httpserver.expect_oneshot_request("/2/dm_events").respond_with_json(
        {**events, "data": [newer, *events["data"]], "meta": {"result_count": 4, "next_token": "older"}}
    )

    first = provider.pull_messages(None)
    second = provider.pull_messages(first.cursor)

    assert [(i.external_id, i.kind, i.author_name) for i in first.items] == [
        ("1580000000000000012", "message", "anasilva"),
        ("1580000000000000010", "message", "anasilva"),
    ]
    assert first.items[0].conversation_id == "1450000000000000001-2244994945"
    assert [i.external_id for i in second.items] == ["1580000000000000015"]
    assert not second.has_more  # it reached messages already read, so it stops paging back


def test_send_direct_message(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request(
        "/2/dm_conversations/with/2244994945/messages", method="POST"
    ).respond_with_json(fixture("dm_send"), status=201)

    delivered = provider.send_message("2244994945", "Please call the consular line.")

    assert delivered.external_id == "1580000000000000020"
    request, _ = httpserver.log[0]
    assert json.loads(request.get_data()) == {"text": "Please call the consular line."}


def test_post_and_account_metrics(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request("/2/tweets/1800000000000000100").respond_with_json(fixture("post_metrics"))
    httpserver.expect_request("/2/users/me").respond_with_json(fixture("users_me"))

    post = provider.post_metrics("1800000000000000100")
    account = provider.account_metrics()

    assert (post.impressions, post.likes, post.reposts, post.replies) == (2048, 31, 5, 2)
    assert account.followers == 18250


def test_verify_credentials_names_the_account(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request("/2/users/me").respond_with_json(fixture("users_me"))

    info = provider.verify_credentials()

    assert (info.external_id, info.handle, info.display_name) == (
        ME,
        "ExampliaLisbon",
        "Embassy of Examplia in Lisbon",
    )


def test_metrics_in_the_older_documented_naming_are_read_too(httpserver: HTTPServer, provider: XProvider):
    # docs.x.com still shows retweet_count / edit_history_tweet_ids; the SDK's models say repost_count.
    httpserver.expect_request("/2/tweets/1800000000000000100").respond_with_json(
        fixture("post_metrics_legacy_names")
    )

    post = provider.post_metrics("1800000000000000100")

    assert (post.impressions, post.likes, post.reposts, post.replies) == (2048, 31, 5, 2)


def test_another_accounts_posts_are_read_by_its_handle(httpserver: HTTPServer, provider: XProvider):
    """GET /2/users/by/username/:username gives the id; /2/users/:id/tweets its posts, resumable like mentions."""
    other = "1450000000000000777"
    httpserver.expect_request("/2/users/by/username/NorlandMFA").respond_with_json(
        {"data": {"id": other, "name": "Norland MFA", "username": "NorlandMFA"}}
    )
    posts = [
        {"id": str(1800000000000000900 + i), "text": f"Statement {i}", "author_id": other,
         "created_at": "2025-03-14T09:00:00.000Z"}
        for i in range(3)
    ]
    timeline = MentionsTimeline(posts, [{"id": other, "name": "Norland MFA", "username": "NorlandMFA"}])
    httpserver.expect_request(f"/2/users/{other}/tweets").respond_with_handler(timeline)

    first = provider.pull_account("@NorlandMFA", None, limit=2)
    assert [(i.text, i.author_name, i.kind) for i in first.items] == [
        ("Statement 2", "NorlandMFA", "post"), ("Statement 1", "NorlandMFA", "post")]
    assert first.items[0].url == "https://x.com/NorlandMFA/status/1800000000000000902"
    rest = provider.pull_account("NorlandMFA", first.cursor, limit=2)
    assert [i.text for i in rest.items] == ["Statement 0"]
    timeline.arrive({"id": "1800000000000000950", "text": "Statement 3", "author_id": other})
    assert [i.text for i in provider.pull_account("NorlandMFA", rest.cursor).items] == ["Statement 3"]


def test_an_unknown_or_malformed_handle_is_a_permanent_error(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request("/2/users/by/username/nobody_here").respond_with_json(
        {"errors": [{"value": "nobody_here", "detail": "Could not find user with username: [nobody_here].",
                     "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                     "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    )
    with pytest.raises(ConnectorError) as unknown:
        provider.pull_account("@nobody_here", None)
    assert unknown.value.permanent and str(unknown.value) == "X has no account @nobody_here"
    with pytest.raises(ConnectorError) as malformed:
        provider.pull_account("not a handle", None)
    assert malformed.value.permanent and "is not an X handle" in str(malformed.value)
