"""Posting to a Telegram channel through python-telegram-bot: messages, photos, albums, edits, errors."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from legation.connectors.base import ConnectorError, Media, OutboundPost
from legation.connectors.telegram.provider import TelegramProvider

from .conftest import CHANNEL, fixture, method

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_publish_message_returns_its_id_and_public_link(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("sendMessage_channel")
    )

    delivered = provider.publish(
        OutboundPost(text="Consular hours change on Monday.", link="https://ex.org/h")
    )

    assert delivered.external_id == "120"
    assert delivered.url == "https://t.me/examplia_lisbon/120"
    request, _ = httpserver.log[0]
    assert request.form["chat_id"] == CHANNEL
    assert request.form["text"] == "Consular hours change on Monday.\nhttps://ex.org/h"


def test_publish_reply_in_the_channel_discussion(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("sendMessage_channel")
    )

    provider.publish(OutboundPost(text="Yes, on Friday too.", reply_to="119"))

    request, _ = httpserver.log[0]
    assert '"message_id": 119' in request.form["reply_parameters"]


def test_publish_photo_with_caption(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("sendPhoto"), method="POST").respond_with_json(
        fixture("sendPhoto_channel")
    )

    delivered = provider.publish(
        OutboundPost(text="National day reception", media=[Media(PNG, "image/png", alt_text="Guests")])
    )

    assert delivered.external_id == "121"
    request, _ = httpserver.log[0]
    assert request.form["caption"] == "National day reception"
    assert request.files["photo"].read() == PNG


def test_publish_album_returns_the_first_message(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("sendMediaGroup"), method="POST").respond_with_json(
        fixture("sendMediaGroup_channel")
    )

    delivered = provider.publish(
        OutboundPost(
            text="Two photos", media=[Media(PNG, "image/png"), Media(PNG, "image/png", filename="b")]
        )
    )

    assert delivered.external_id == "122"
    request, _ = httpserver.log[0]
    assert len(request.files) == 2


def test_caption_over_1024_characters_is_refused_before_sending(
    httpserver: HTTPServer, provider: TelegramProvider
):
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="x" * 1025, media=[Media(PNG, "image/png")]))

    assert caught.value.permanent and "1025 of 1024" in caught.value.message
    assert httpserver.log == []


def test_edit_replaces_the_text(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("editMessageText"), method="POST").respond_with_json(
        fixture("editMessageText")
    )

    delivered = provider.edit("120", OutboundPost(text="Corrected: hours change on Tuesday."))

    assert delivered.raw["text"] == "Corrected: hours change on Tuesday."
    request, _ = httpserver.log[0]
    assert (request.form["message_id"], request.form["text"]) == (
        "120",
        "Corrected: hours change on Tuesday.",
    )


def test_edit_of_a_photo_post_changes_its_caption(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("editMessageText"), method="POST").respond_with_json(
        fixture("error_400_no_text"), status=400
    )
    httpserver.expect_request(method("editMessageCaption"), method="POST").respond_with_json(
        fixture("sendPhoto_channel")
    )

    provider.edit("121", OutboundPost(text="New caption"))

    caption_request = next(r for r, _ in httpserver.log if r.path.endswith("editMessageCaption"))
    assert caption_request.form["caption"] == "New caption"


def test_delete_and_deleting_again_is_not_an_error(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_oneshot_request(method("deleteMessage"), method="POST").respond_with_json(
        fixture("deleteMessage")
    )
    httpserver.expect_oneshot_request(method("deleteMessage"), method="POST").respond_with_json(
        fixture("error_400_delete_not_found"), status=400
    )

    provider.delete("120")
    provider.delete("120")

    assert [r.form["message_id"] for r, _ in httpserver.log] == ["120", "120"]


def test_bot_not_admin_of_the_channel_is_permanent(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("error_403_not_admin"), status=403
    )

    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello"))

    assert caught.value.permanent
    assert "bot is not a member of the channel chat" in caught.value.message


def test_revoked_token_is_permanent_and_not_refreshable(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("getMe"), method="POST").respond_with_json(
        fixture("error_401"), status=401
    )

    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()

    assert caught.value.permanent and not caught.value.auth_expired
    assert "Unauthorized" in caught.value.message


def test_flood_limit_over_the_cap_is_handed_back(httpserver: HTTPServer, provider: TelegramProvider, sleeps):
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("error_429"), status=429
    )

    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello"))

    assert not caught.value.permanent and caught.value.retry_after == 35
    assert sleeps.waits == []


def test_short_flood_limit_is_waited_out(httpserver: HTTPServer, provider: TelegramProvider, sleeps):
    httpserver.expect_oneshot_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("error_429_short"), status=429
    )
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("sendMessage_channel")
    )

    assert provider.publish(OutboundPost(text="Hello")).external_id == "120"
    assert sleeps.waits == [1.0]


def test_server_error_on_send_is_temporary_and_not_resent(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("error_500"), status=500
    )

    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello"))

    assert not caught.value.permanent
    assert len(httpserver.log) == 1


def test_malformed_answer_is_temporary(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_data(
        '{"ok": true, "result": {"message_id": 1', content_type="application/json"
    )

    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Hello"))

    assert not caught.value.permanent


def test_oversized_answer_is_refused(httpserver: HTTPServer, provider: TelegramProvider):
    body = b'{"ok": true, "result": 1, "pad": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    httpserver.expect_request(method("getChatMemberCount"), method="POST").respond_with_response(
        Response(body, content_type="application/json")
    )

    with pytest.raises(ConnectorError) as caught:
        provider.account_metrics()

    assert caught.value.permanent and "limit" in caught.value.message


def test_private_address_is_refused_without_the_test_override(httpserver: HTTPServer):
    provider = TelegramProvider(
        {"api_base_url": httpserver.url_for("/").rstrip("/"), "channel_id": CHANNEL}, {"bot_token": "1:x"}
    )
    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()
    assert caught.value.permanent and "private" in caught.value.message
    assert httpserver.log == []


def test_verify_credentials_and_subscriber_count(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("getMe"), method="POST").respond_with_json(fixture("getMe"))
    httpserver.expect_request(method("getChatMemberCount"), method="POST").respond_with_json(
        fixture("getChatMemberCount")
    )

    info = provider.verify_credentials()
    metrics = provider.account_metrics()

    assert (info.external_id, info.handle, info.display_name) == (
        "7000000001",
        "ExampliaLisbonBot",
        "Examplia Lisbon",
    )
    assert metrics.followers == 18250
