"""Publishing to X through xdk: posts, images with alt text, replies, edits, deletes, and failures."""

from __future__ import annotations

import base64
import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from legation.connectors.base import ConnectorError, Media, OutboundPost
from legation.connectors.x.provider import XProvider

from .conftest import CREDENTIALS, fixture

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def sent_json(httpserver: HTTPServer, path: str) -> list[dict]:
    return [json.loads(req.get_data()) for req, _ in httpserver.log if req.path == path]


def test_publish_text_returns_the_post_id_and_its_public_url(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        fixture("create_post"), status=201
    )

    delivered = provider.publish(OutboundPost(text="Consular hours change on Monday."))

    assert delivered.external_id == "1800000000000000100"
    assert delivered.url == "https://x.com/ExampliaLisbon/status/1800000000000000100"
    assert sent_json(httpserver, "/2/tweets") == [{"text": "Consular hours change on Monday."}]
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == "Bearer old-access-token"


def test_publish_appends_the_link_and_replies_to_a_post(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        fixture("create_post"), status=201
    )

    provider.publish(OutboundPost(text="Details:", link="https://example.org/hours", reply_to="1799"))

    assert sent_json(httpserver, "/2/tweets") == [
        {"text": "Details: https://example.org/hours", "reply": {"in_reply_to_tweet_id": "1799"}}
    ]


def test_publish_with_image_uploads_it_sets_alt_text_and_attaches_it(
    httpserver: HTTPServer, provider: XProvider
):
    httpserver.expect_request("/2/media/upload", method="POST").respond_with_json(fixture("media_upload"))
    httpserver.expect_request("/2/media/metadata", method="POST").respond_with_json(fixture("media_metadata"))
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        fixture("create_post"), status=201
    )

    alt = "The ambassador at the national day reception"
    provider.publish(OutboundPost(text="National day", media=[Media(PNG, "image/png", alt_text=alt)]))

    [upload] = sent_json(httpserver, "/2/media/upload")
    assert base64.b64decode(upload["media"]) == PNG
    assert upload["media_category"] == "tweet_image"
    assert sent_json(httpserver, "/2/media/metadata") == [
        {"id": "1880028106020515840", "metadata": {"alt_text": {"text": alt}}}
    ]
    assert sent_json(httpserver, "/2/tweets") == [
        {"text": "National day", "media": {"media_ids": ["1880028106020515840"]}}
    ]


def test_edit_creates_a_new_version_pointing_at_the_previous_post(
    httpserver: HTTPServer, provider: XProvider
):
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        fixture("create_post"), status=201
    )

    provider.edit("1799", OutboundPost(text="Corrected: hours change on Tuesday."))

    assert sent_json(httpserver, "/2/tweets")[0]["edit_options"] == {"previous_post_id": "1799"}


def test_too_long_post_is_refused_before_anything_is_sent(httpserver: HTTPServer, provider: XProvider):
    # CJK characters weigh 2 on X: 141 of them are 282 weighted characters.
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="大" * 141))

    assert caught.value.permanent
    assert "282 of 280 weighted characters" in caught.value.message
    assert httpserver.log == []


def test_links_count_as_23_characters():
    counted = XProvider.count_text("Read https://example.org/a/very/long/path/that/goes/on/and/on/for/ever")
    assert counted.used == len("Read ") + 23


def test_delete_removes_the_post(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request("/2/tweets/1800000000000000100", method="DELETE").respond_with_json(
        fixture("delete_post")
    )

    provider.delete("1800000000000000100")

    assert [req.method for req, _ in httpserver.log] == ["DELETE"]


def test_duplicate_content_is_a_permanent_refusal_with_xs_message(
    httpserver: HTTPServer, provider: XProvider
):
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        fixture("error_403_duplicate"), status=403
    )
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Same again"))

    assert caught.value.permanent and caught.value.status == 403
    assert "duplicate content" in caught.value.message


def test_suspended_account_is_permanent_with_the_platform_message(
    httpserver: HTTPServer, provider: XProvider
):
    httpserver.expect_request("/2/users/me").respond_with_json(fixture("error_403_suspended"), status=403)

    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()

    assert caught.value.permanent
    assert "Your account is suspended" in caught.value.message


def test_rate_limit_with_long_retry_after_is_handed_back(httpserver: HTTPServer, provider: XProvider, sleeps):
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        fixture("error_429"), status=429, headers={"Retry-After": "900"}
    )

    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello"))

    assert not caught.value.permanent
    assert caught.value.retry_after == 900
    assert sleeps.waits == []  # 900 s is over the cap: the caller reschedules instead of a worker sleeping


def test_rate_limit_reset_header_gives_retry_after(httpserver: HTTPServer, provider: XProvider):
    import time

    reset = int(time.time()) + 600
    httpserver.expect_request("/2/users/me").respond_with_json(
        fixture("error_429"),
        status=429,
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )
    # No Retry-After: the session backs off and retries (3 tries), then X's reset time is reported.
    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()

    assert 590 <= (caught.value.retry_after or 0) <= 600


def test_short_rate_limit_is_waited_out_and_retried(httpserver: HTTPServer, provider: XProvider, sleeps):
    httpserver.expect_oneshot_request("/2/tweets", method="POST").respond_with_json(
        fixture("error_429"), status=429, headers={"Retry-After": "2"}
    )
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        fixture("create_post"), status=201
    )

    delivered = provider.publish(OutboundPost(text="Hello"))

    assert delivered.external_id == "1800000000000000100"
    assert sleeps.waits == [2.0]


def test_server_error_on_publish_is_temporary_and_not_resent(httpserver: HTTPServer, provider: XProvider):
    # X may have created the post before failing; resending could publish it twice.
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(fixture("error_503"), status=500)

    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello"))

    assert not caught.value.permanent and caught.value.status == 500
    assert len(httpserver.log) == 1


def test_expired_token_then_refresh_then_success(httpserver: HTTPServer, make_provider):
    httpserver.expect_request(
        "/2/tweets", method="POST", headers={"Authorization": "Bearer old-access-token"}
    ).respond_with_json(fixture("error_401"), status=401)
    httpserver.expect_request("/2/oauth2/token", method="POST").respond_with_json(fixture("token_refresh"))
    fresh = fixture("token_refresh")
    httpserver.expect_request(
        "/2/tweets", method="POST", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    ).respond_with_json(fixture("create_post"), status=201)
    provider = make_provider()

    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello"))
    assert caught.value.auth_expired and caught.value.status == 401

    tokens = provider.refresh_token()
    assert tokens.credentials["access_token"] == fresh["access_token"]
    assert tokens.credentials["refresh_token"] == fresh["refresh_token"]  # X rotates it: both must be stored
    assert tokens.expires_at is not None
    refresh_request = next(req for req, _ in httpserver.log if req.path == "/2/oauth2/token")
    assert refresh_request.form["grant_type"] == "refresh_token"
    assert refresh_request.form["refresh_token"] == "old-refresh-token"
    assert refresh_request.authorization is not None
    assert refresh_request.authorization.username == "client-id"

    delivered = make_provider(dict(tokens.credentials)).publish(OutboundPost(text="Hello"))
    assert delivered.external_id == "1800000000000000100"


def test_revoked_refresh_token_is_permanent(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request("/2/oauth2/token", method="POST").respond_with_json(
        fixture("token_refresh_invalid_grant"), status=400
    )

    with pytest.raises(ConnectorError) as caught:
        provider.refresh_token()

    assert caught.value.permanent
    assert "Value passed for the token was invalid" in caught.value.message


def test_malformed_json_is_a_temporary_error(httpserver: HTTPServer, provider: XProvider):
    httpserver.expect_request("/2/users/me").respond_with_data(
        '{"data": {"id": "14', content_type="application/json"
    )

    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()

    assert not caught.value.permanent
    assert "malformed" in caught.value.message


def test_oversized_response_is_refused(httpserver: HTTPServer, provider: XProvider):
    big = b'{"data": {"id": "1", "username": "' + b"x" * (11 * 1024 * 1024) + b'"}}'
    httpserver.expect_request("/2/users/me").respond_with_response(
        Response(big, content_type="application/json")
    )

    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()

    assert caught.value.permanent
    assert "limit" in caught.value.message


def test_missing_credentials_fail_naming_the_credential():
    provider = XProvider({}, {k: v for k, v in CREDENTIALS.items() if k != "access_token"})
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello"))
    assert caught.value.permanent and "access_token" in caught.value.message
