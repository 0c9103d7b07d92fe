"""Comments and messages on Facebook and Instagram: resumable pulls, replies, metrics and signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from legation.connectors.base import ConnectorError, Media, OutboundPost, WebhookRejected, WebhookRequest
from legation.connectors.facebook.instagram import InstagramProvider
from legation.connectors.facebook.provider import FacebookProvider

from .conftest import CREDENTIALS, IG_USER, PAGE, fixture, graph

POST_A, POST_B = "104000000000001_555000000000002", "104000000000001_555000000000001"


class CommentsEdge:
    """Answers GET /{post}/comments like the Graph API: chronological, ``limit``, opaque ``after``."""

    def __init__(self, comments: list[dict[str, Any]]) -> None:
        self.comments = comments

    def __call__(self, request: Request) -> Response:
        start = int(base64.b64decode(request.args["after"])) + 1 if "after" in request.args else 0
        limit = int(request.args.get("limit", 25))
        page = self.comments[start : start + limit]
        body: dict[str, Any] = {"data": page}
        if page:
            cursors = {
                "before": base64.b64encode(str(start).encode()).decode(),
                "after": base64.b64encode(str(start + len(page) - 1).encode()).decode(),
            }
            body["paging"] = {"cursors": cursors}
            if start + len(page) < len(self.comments):
                body["paging"]["next"] = (
                    f"https://graph.facebook.com/v23.0/x/comments?after={cursors['after']}"
                )
        return Response(json.dumps(body), content_type="application/json")


def test_interrupted_comment_pull_resumes_and_reads_each_comment_once(httpserver: HTTPServer, make_facebook):
    comments = fixture("fb_comments")["data"]
    edge = CommentsEdge(comments[:2])
    httpserver.expect_request(graph(f"{PAGE}/published_posts")).respond_with_json(
        fixture("fb_published_posts")
    )
    httpserver.expect_request(graph(f"{POST_A}/comments")).respond_with_json({"data": []})
    httpserver.expect_request(graph(f"{POST_B}/comments")).respond_with_handler(edge)

    first = make_facebook().pull_mentions(None, limit=1)
    # The worker stops after one page; a new comment arrives before the next worker resumes.
    edge.comments.append(comments[2])
    pages = [first]
    while pages[-1].has_more or len(pages) < 3:
        pages.append(make_facebook().pull_mentions(pages[-1].cursor, limit=1))

    seen = [i.external_id for p in pages for i in p.items]
    assert seen == [c["id"] for c in comments]
    reply = pages[1].items[0]
    assert (reply.kind, reply.author_name, reply.in_reply_to, reply.conversation_id) == (
        "comment",
        "Rui Costa",
        "555000000000001_777000000000001",
        POST_B,
    )
    assert pages[0].items[0].created_at is not None and pages[0].items[0].created_at.hour == 10


def test_messenger_pull_skips_the_pages_own_messages_and_resumes(httpserver: HTTPServer, facebook):
    messages = fixture("fb_messages")
    httpserver.expect_request(graph(f"{PAGE}/conversations")).respond_with_json(fixture("fb_conversations"))
    httpserver.expect_oneshot_request(graph("t_10160000000000001/messages")).respond_with_json(
        {**messages, "data": messages["data"][2:]}
    )
    httpserver.expect_request(graph("t_10160000000000001/messages")).respond_with_json(messages)

    first = facebook.pull_messages(None)
    second = facebook.pull_messages(first.cursor)
    third = facebook.pull_messages(second.cursor)

    assert [i.text for i in first.items] == ["I lost my passport in Porto"]
    assert [i.text for i in second.items] == ["Thank you, I will call tomorrow."]
    assert third.items == []
    assert second.items[0].conversation_id == "t_10160000000000001"
    conversations = next(r for r, _ in httpserver.log if r.path.endswith("/conversations"))
    assert conversations.args["platform"] == "messenger"


def test_send_messenger_reply(httpserver: HTTPServer, facebook: FacebookProvider):
    httpserver.expect_request(graph(f"{PAGE}/messages"), method="POST").respond_with_json(
        fixture("fb_send_message")
    )

    delivered = facebook.send_message("3120000000000001", "We will call you today.")

    assert delivered.external_id.startswith("m_AG5Hz2Uq7tuw")
    request, _ = httpserver.log[0]
    assert json.loads(request.form["recipient"]) == {"id": "3120000000000001"}
    assert json.loads(request.form["message"]) == {"text": "We will call you today."}
    assert request.form["messaging_type"] == "RESPONSE"


# -- Instagram ---------------------------------------------------------------------------------------------


def test_instagram_publishes_a_container_then_publishes_it(
    httpserver: HTTPServer, instagram: InstagramProvider
):
    httpserver.expect_request(graph(f"{IG_USER}/media"), method="POST").respond_with_json(
        fixture("ig_container")
    )
    httpserver.expect_request(graph(f"{IG_USER}/media_publish"), method="POST").respond_with_json(
        fixture("ig_media_publish")
    )
    httpserver.expect_request(graph("17920238422030506")).respond_with_json(fixture("ig_media_permalink"))

    delivered = instagram.publish(
        OutboundPost(
            text="National day", media=[Media(b"png", "image/png", alt_text="Guests", filename="day")]
        )
    )

    assert delivered.external_id == "17920238422030506"
    assert delivered.url == "https://www.instagram.com/p/DCx1yZ2aBcD/"
    container = next(r for r, _ in httpserver.log if r.path.endswith("/media"))
    assert container.form["image_url"] == "https://media.legation.example/day.png"
    assert (container.form["caption"], container.form["alt_text"]) == ("National day", "Guests")
    publish = next(r for r, _ in httpserver.log if r.path.endswith("/media_publish"))
    assert publish.form["creation_id"] == "17889455560051444"


def test_instagram_without_an_image_is_refused_before_sending(httpserver: HTTPServer, instagram):
    with pytest.raises(ConnectorError) as caught:
        instagram.publish(OutboundPost(text="Text only"))
    assert caught.value.permanent
    assert httpserver.log == []


def test_instagram_comments_and_reply(httpserver: HTTPServer, instagram: InstagramProvider):
    httpserver.expect_request(graph(f"{IG_USER}/media")).respond_with_json(fixture("ig_media_list"))
    httpserver.expect_request(graph("17920238422030506/comments")).respond_with_json(fixture("ig_comments"))
    httpserver.expect_request(graph("17858893269000001/replies"), method="POST").respond_with_json(
        fixture("ig_comment_reply")
    )

    page = instagram.pull_mentions(None)
    reply = instagram.publish(OutboundPost(text="Yes, on our website.", reply_to=page.items[0].external_id))

    [comment] = page.items
    assert (comment.external_id, comment.author_name, comment.text) == (
        "17858893269000001",
        "anasilva",
        "Can I apply for a visa online?",
    )
    assert json.loads(page.cursor or "{}") == {"17920238422030506": "QVFIUB"}
    assert reply.external_id == "17873440459141021"


def test_instagram_metrics(httpserver: HTTPServer, instagram: InstagramProvider):
    httpserver.expect_request(graph("17920238422030506")).respond_with_json(fixture("ig_media_counters"))
    httpserver.expect_request(graph("17920238422030506/insights")).respond_with_json(
        fixture("ig_media_insights")
    )
    httpserver.expect_request(graph(IG_USER)).respond_with_json(fixture("ig_user_counters"))

    post = instagram.post_metrics("17920238422030506")
    account = instagram.account_metrics()

    assert (post.impressions, post.likes, post.reposts, post.replies) == (5120, 230, 9, 14)
    assert account.followers == 9400


# -- webhooks ----------------------------------------------------------------------------------------------

facebook_hooks = FacebookProvider({"page_id": PAGE}, CREDENTIALS)
instagram_hooks = InstagramProvider({"page_id": PAGE, "ig_user_id": IG_USER}, CREDENTIALS)


def signed(body: bytes, secret: str = CREDENTIALS["app_secret"]) -> WebhookRequest:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return WebhookRequest(
        method="POST",
        url="https://legation.example/hooks/facebook/1",
        headers={"x-hub-signature-256": signature},
        body=body,
    )


def test_verification_challenge_is_echoed_when_the_token_matches():
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": CREDENTIALS["verify_token"],
        "hub.challenge": "1158201444",
    }
    result = facebook_hooks.parse_webhook(
        WebhookRequest(method="GET", url="/", headers={}, body=b"", query=query)
    )
    assert result.response_body == "1158201444"


def test_verification_with_a_wrong_token_is_refused():
    query = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}
    with pytest.raises(WebhookRejected):
        facebook_hooks.parse_webhook(WebhookRequest(method="GET", url="/", headers={}, body=b"", query=query))


def test_signed_feed_comment_is_accepted_and_the_pages_own_reply_and_likes_left_out():
    body = json.dumps(fixture("fb_webhook_feed_comment")).encode()

    [item] = facebook_hooks.parse_webhook(signed(body)).items

    assert (item.external_id, item.kind, item.author_name) == (
        "555000000000001_777000000000001",
        "comment",
        "Ana Silva",
    )
    assert item.text == "Is the consulate open on Friday?"


def test_signed_messenger_message_is_accepted_and_echoes_left_out():
    body = json.dumps(fixture("fb_webhook_messages")).encode()

    [item] = facebook_hooks.parse_webhook(signed(body)).items

    assert (item.external_id, item.kind, item.author_id, item.text) == (
        "m_1457764197618:41d102a3e1ae206a38",
        "message",
        "6543210987654321",
        "I need an emergency passport",
    )


def test_signed_instagram_comment_is_accepted():
    body = json.dumps(fixture("ig_webhook_comments")).encode()

    [item] = instagram_hooks.parse_webhook(signed(body)).items

    assert (item.external_id, item.author_name, item.conversation_id) == (
        "17858893269000002",
        "anasilva",
        "17920238422030506",
    )


@pytest.mark.parametrize("headers", [{}, {"x-hub-signature-256": "sha256=" + "0" * 64}])
def test_missing_or_wrong_signature_is_refused(headers):
    body = json.dumps(fixture("fb_webhook_feed_comment")).encode()
    with pytest.raises(WebhookRejected) as caught:
        facebook_hooks.parse_webhook(WebhookRequest(method="POST", url="/", headers=headers, body=body))
    assert caught.value.status == 403


def test_signature_with_another_apps_secret_is_refused():
    body = json.dumps(fixture("fb_webhook_feed_comment")).encode()
    with pytest.raises(WebhookRejected):
        facebook_hooks.parse_webhook(signed(body, secret="other-app"))


def test_signed_malformed_and_oversized_bodies_are_refused():
    with pytest.raises(WebhookRejected) as malformed:
        facebook_hooks.parse_webhook(signed(b'{"object": "page", "entry": ['))
    with pytest.raises(WebhookRejected) as oversized:
        facebook_hooks.parse_webhook(signed(b"{" + b" " * 1_000_001 + b"}"))
    assert (malformed.value.status, oversized.value.status) == (400, 413)


def test_replayed_delivery_has_the_same_delivery_id_and_item_ids():
    body = json.dumps(fixture("fb_webhook_feed_comment")).encode()
    first, again = facebook_hooks.parse_webhook(signed(body)), facebook_hooks.parse_webhook(signed(body))
    assert first.delivery_id == again.delivery_id and first.delivery_id
    assert [i.external_id for i in first.items] == [i.external_id for i in again.items]
