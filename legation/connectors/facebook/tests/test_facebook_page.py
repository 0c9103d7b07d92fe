"""A Facebook Page through pyfacebook: posts, photos with alt text, replies, edits, deletes, and failures."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from legation.connectors.base import ConnectorError, Media, OutboundPost
from legation.connectors.facebook.provider import FacebookProvider

from .conftest import PAGE, fixture, graph

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_publish_text_with_link(httpserver: HTTPServer, facebook: FacebookProvider):
    httpserver.expect_request(graph(f"{PAGE}/feed"), method="POST").respond_with_json(fixture("fb_feed_post"))

    delivered = facebook.publish(
        OutboundPost(text="Consular hours change on Monday.", link="https://ex.org/h")
    )

    assert delivered.external_id == "104000000000001_555000000000001"
    assert delivered.url == "https://www.facebook.com/104000000000001_555000000000001"
    request, _ = httpserver.log[0]
    assert request.form["message"] == "Consular hours change on Monday."
    assert request.form["link"] == "https://ex.org/h"
    assert request.form["access_token"] == "EAAGpage-old"


def test_publish_photo_sends_alt_text(httpserver: HTTPServer, facebook: FacebookProvider):
    httpserver.expect_request(graph(f"{PAGE}/photos"), method="POST").respond_with_json(fixture("fb_photo"))

    delivered = facebook.publish(
        OutboundPost(text="National day", media=[Media(PNG, "image/png", alt_text="Guests at the reception")])
    )

    assert delivered.external_id == "104000000000001_555000000000010"
    request, _ = httpserver.log[0]
    assert request.form["alt_text_custom"] == "Guests at the reception"
    assert request.form["message"] == "National day"
    assert request.files["source"].read() == PNG


def test_publish_several_photos_attaches_unpublished_uploads(
    httpserver: HTTPServer, facebook: FacebookProvider
):
    httpserver.expect_request(graph(f"{PAGE}/photos"), method="POST").respond_with_json(
        fixture("fb_photo_unpublished")
    )
    httpserver.expect_request(graph(f"{PAGE}/feed"), method="POST").respond_with_json(fixture("fb_feed_post"))

    facebook.publish(
        OutboundPost(text="Album", media=[Media(PNG, "image/png", "a"), Media(PNG, "image/png", "b")])
    )

    uploads = [r for r, _ in httpserver.log if r.path.endswith("/photos")]
    assert [u.form["published"] for u in uploads] == ["false", "false"]
    assert [u.form["alt_text_custom"] for u in uploads] == ["a", "b"]
    feed = next(r for r, _ in httpserver.log if r.path.endswith("/feed"))
    assert json.loads(feed.form["attached_media[1]"]) == {"media_fbid": "555000000000011"}


def test_reply_comments_on_the_post(httpserver: HTTPServer, facebook: FacebookProvider):
    httpserver.expect_request(
        graph("555000000000001_777000000000001/comments"), method="POST"
    ).respond_with_json(fixture("fb_comment_created"))

    delivered = facebook.publish(
        OutboundPost(text="Yes, from 9:00.", reply_to="555000000000001_777000000000001")
    )

    assert delivered.external_id == "555000000000001_777000000000009"


def test_edit_and_delete(httpserver: HTTPServer, facebook: FacebookProvider):
    post_id = "104000000000001_555000000000001"
    httpserver.expect_request(graph(post_id), method="POST").respond_with_json(fixture("fb_success"))
    httpserver.expect_request(graph(post_id), method="DELETE").respond_with_json(fixture("fb_success"))

    facebook.edit(post_id, OutboundPost(text="Corrected text"))
    facebook.delete(post_id)

    edit, delete = (r for r, _ in httpserver.log)
    assert edit.form["message"] == "Corrected text"
    assert delete.method == "DELETE"


def test_missing_permission_is_permanent_with_metas_message(
    httpserver: HTTPServer, facebook: FacebookProvider
):
    httpserver.expect_request(graph(f"{PAGE}/feed"), method="POST").respond_with_json(
        fixture("error_10_permission"), status=403
    )

    with pytest.raises(ConnectorError) as caught:
        facebook.publish(OutboundPost(text="Hello"))

    assert caught.value.permanent
    assert "requires the 'pages_manage_posts' permission" in caught.value.message


def test_page_rate_limit_reports_when_access_returns(httpserver: HTTPServer, facebook: FacebookProvider):
    usage = {
        PAGE: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 25,
                "estimated_time_to_regain_access": 15,
            }
        ]
    }
    httpserver.expect_request(graph(f"{PAGE}/feed"), method="POST").respond_with_json(
        fixture("error_32_page_rate_limit"),
        status=400,
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    with pytest.raises(ConnectorError) as caught:
        facebook.publish(OutboundPost(text="Hello"))

    assert not caught.value.permanent
    assert caught.value.retry_after == 15 * 60


def test_http_429_with_short_retry_after_is_retried(
    httpserver: HTTPServer, facebook: FacebookProvider, sleeps
):
    httpserver.expect_oneshot_request(graph(PAGE)).respond_with_json(
        fixture("error_32_page_rate_limit"), status=429, headers={"Retry-After": "3"}
    )
    httpserver.expect_request(graph(PAGE)).respond_with_json(fixture("fb_page"))

    info = facebook.verify_credentials()

    assert (info.external_id, info.handle) == (PAGE, "ExampliaLisbon")
    assert sleeps.waits == [3.0]


def test_transient_error_on_read_is_retried_then_succeeds(httpserver: HTTPServer, facebook, sleeps):
    httpserver.expect_oneshot_request(graph(PAGE)).respond_with_json(fixture("error_2_transient"), status=500)
    httpserver.expect_request(graph(PAGE)).respond_with_json(fixture("fb_page_counters"))

    metrics = facebook.account_metrics()

    assert (metrics.followers, metrics.likes) == (18250, 17900)
    assert len(sleeps.waits) == 1


def test_transient_error_on_publish_is_temporary_and_not_resent(httpserver: HTTPServer, facebook):
    httpserver.expect_request(graph(f"{PAGE}/feed"), method="POST").respond_with_json(
        fixture("error_2_transient"), status=500
    )

    with pytest.raises(ConnectorError) as caught:
        facebook.publish(OutboundPost(text="Hello"))

    assert not caught.value.permanent
    assert len(httpserver.log) == 1


def test_expired_token_then_refresh_then_success(httpserver: HTTPServer, make_facebook):
    answers = {
        "EAAGpage-old": (fixture("error_190_expired"), 400),
        "EAAGm0PX4ZCpsBAFreshLongLivedUserToken": (fixture("fb_page_token"), 200),
        "EAAGm0PX4ZCpsBAFreshPageToken": (fixture("fb_page"), 200),
    }

    def page(request: Request) -> Response:
        body, status = answers[request.args["access_token"]]
        return Response(json.dumps(body), status=status, content_type="application/json")

    httpserver.expect_request(graph(PAGE)).respond_with_handler(page)
    httpserver.expect_request("/oauth/access_token").respond_with_json(fixture("fb_token_exchange"))
    provider = make_facebook()

    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()
    assert caught.value.auth_expired and "Session has expired" in caught.value.message

    tokens = provider.refresh_token()
    assert tokens.credentials["page_access_token"] == "EAAGm0PX4ZCpsBAFreshPageToken"
    assert tokens.credentials["user_access_token"] == "EAAGm0PX4ZCpsBAFreshLongLivedUserToken"
    exchange = next(r for r, _ in httpserver.log if r.path == "/oauth/access_token")
    assert exchange.args["grant_type"] == "fb_exchange_token"
    assert exchange.args["fb_exchange_token"] == "EAAGuser-old"

    assert make_facebook(dict(tokens.credentials)).verify_credentials().display_name == (
        "Embassy of Examplia in Lisbon"
    )


def test_revoked_session_is_permanent_and_not_refreshable(httpserver: HTTPServer, facebook: FacebookProvider):
    httpserver.expect_request(graph(PAGE)).respond_with_json(fixture("error_190_revoked"), status=400)

    with pytest.raises(ConnectorError) as caught:
        facebook.verify_credentials()

    assert caught.value.permanent and not caught.value.auth_expired
    assert "user changed their password" in caught.value.message


def test_malformed_json_is_temporary(httpserver: HTTPServer, facebook: FacebookProvider):
    httpserver.expect_request(graph(PAGE)).respond_with_data('{"id": "1040', content_type="application/json")

    with pytest.raises(ConnectorError) as caught:
        facebook.verify_credentials()

    assert not caught.value.permanent and "malformed" in caught.value.message


def test_html_error_page_is_temporary(httpserver: HTTPServer, facebook: FacebookProvider):
    httpserver.expect_request(graph(PAGE)).respond_with_data(
        "<html>Bad gateway</html>", status=400, content_type="text/html"
    )
    with pytest.raises(ConnectorError) as caught:
        facebook.verify_credentials()
    assert not caught.value.permanent


def test_oversized_answer_is_refused(httpserver: HTTPServer, facebook: FacebookProvider):
    body = b'{"id": "1", "pad": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    httpserver.expect_request(graph(PAGE)).respond_with_response(
        Response(body, content_type="application/json")
    )

    with pytest.raises(ConnectorError) as caught:
        facebook.verify_credentials()

    assert caught.value.permanent and "limit" in caught.value.message


def test_post_metrics_combine_counters_and_insights(httpserver: HTTPServer, facebook: FacebookProvider):
    post_id = "104000000000001_555000000000001"
    httpserver.expect_request(graph(post_id)).respond_with_json(fixture("fb_post_counters"))
    httpserver.expect_request(graph(f"{post_id}/insights")).respond_with_json(fixture("fb_post_insights"))

    metrics = facebook.post_metrics(post_id)

    assert (metrics.impressions, metrics.likes, metrics.reposts, metrics.replies) == (4210, 64, 7, 12)
