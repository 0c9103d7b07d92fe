"""Bot conversations: getUpdates with an offset cursor, answering people, and secret-token webhooks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from legation.connectors.base import ConnectorError, WebhookRejected, WebhookRequest
from legation.connectors.telegram.provider import TelegramProvider

from .conftest import CREDENTIALS, fixture, method


class UpdateQueue:
    """Answers getUpdates like Telegram: updates from ``offset`` on; an offset confirms the earlier ones."""

    def __init__(self, updates: list[dict[str, Any]]) -> None:
        self.updates = list(updates)
        self.offsets: list[int | None] = []

    def __call__(self, request: Request) -> Response:
        offset = int(request.form["offset"]) if "offset" in request.form else None
        limit = int(request.form.get("limit", 100))
        self.offsets.append(offset)
        if offset is not None:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return Response(
            json.dumps({"ok": True, "result": self.updates[:limit]}), content_type="application/json"
        )


def test_updates_become_conversation_items(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("getUpdates"), method="POST").respond_with_json(fixture("getUpdates"))

    page = provider.pull_messages(None)

    private, group_reply, edited = page.items  # the other bot's message is left out
    assert (private.external_id, private.kind, private.author_name, private.language) == (
        "5123456789:57",
        "message",
        "anasilva",
        "pt",
    )
    assert private.text == "I lost my passport in Porto"
    assert private.conversation_id == "5123456789"
    assert (group_reply.kind, group_reply.in_reply_to, group_reply.url) == (
        "reply",
        "-1009876543210:3300",
        "https://t.me/examplia_pt_chat/3301",
    )
    assert edited.text == "I lost my passport in Porto yesterday"
    assert page.cursor == "900000005"


def test_interrupted_pull_resumes_and_reads_each_update_once(httpserver: HTTPServer, make_provider):
    queue = UpdateQueue(fixture("getUpdates")["result"])
    httpserver.expect_request(method("getUpdates"), method="POST").respond_with_handler(queue)

    first = make_provider().pull_messages(None, limit=2)
    # The worker stops here; the next one starts from the stored cursor and a new message arrives meanwhile.
    queue.updates.append({**fixture("webhook_update_message"), "update_id": 900000005})
    second = make_provider().pull_messages(first.cursor, limit=2)
    third = make_provider().pull_messages(second.cursor, limit=2)
    fourth = make_provider().pull_messages(third.cursor, limit=2)

    seen = [i.external_id for page in (first, second, third, fourth) for i in page.items]
    assert seen == ["5123456789:57", "-1009876543210:3301", "5123456789:57", "5123456789:60"]
    # The edit comes after the other bot's message, which is left out.
    assert [i.text for i in second.items] == ["I lost my passport in Porto yesterday"]
    assert [i.text for i in third.items] == ["Obrigada!"]
    assert fourth.items == [] and fourth.cursor == "900000006"
    assert queue.offsets == [None, 900000003, 900000005, 900000006]


def test_server_error_while_pulling_is_retried(httpserver: HTTPServer, provider: TelegramProvider, sleeps):
    httpserver.expect_oneshot_request(method("getUpdates"), method="POST").respond_with_json(
        fixture("error_500"), status=502
    )
    httpserver.expect_request(method("getUpdates"), method="POST").respond_with_json(fixture("getUpdates"))

    page = provider.pull_messages(None)

    assert len(page.items) == 3
    assert len(sleeps.waits) == 1


def test_pulling_while_a_webhook_is_set_is_a_permanent_conflict(httpserver: HTTPServer, provider):
    httpserver.expect_request(method("getUpdates"), method="POST").respond_with_json(
        fixture("error_409_webhook_active"), status=409
    )

    with pytest.raises(ConnectorError) as caught:
        provider.pull_messages(None)

    assert caught.value.permanent and "webhook is active" in caught.value.message


def test_answer_a_person_in_reply_to_their_message(httpserver: HTTPServer, provider: TelegramProvider):
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("sendMessage_private")
    )

    delivered = provider.send_message("5123456789:57", "Please call the consular line on +351 21 000 0000.")

    assert delivered.external_id == "5123456789:58"
    request, _ = httpserver.log[0]
    assert request.form["chat_id"] == "5123456789"
    assert json.loads(request.form["reply_parameters"])["message_id"] == 57


def test_person_who_blocked_the_bot_is_a_permanent_failure(
    httpserver: HTTPServer, provider: TelegramProvider
):
    httpserver.expect_request(method("sendMessage"), method="POST").respond_with_json(
        fixture("error_403_blocked"), status=403
    )

    with pytest.raises(ConnectorError) as caught:
        provider.send_message("5123456789", "Hello")

    assert caught.value.permanent and "blocked by the user" in caught.value.message


# -- webhooks ----------------------------------------------------------------------------------------------

webhook_provider = TelegramProvider({"channel_id": "@examplia_lisbon"}, CREDENTIALS)


def delivery(body: bytes, secret: str | None = CREDENTIALS["webhook_secret"]) -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return WebhookRequest(
        method="POST", url="https://legation.example/hooks/telegram/1", headers=headers, body=body
    )


def test_webhook_with_the_right_secret_is_accepted():
    body = json.dumps(fixture("webhook_update_message")).encode()

    result = webhook_provider.parse_webhook(delivery(body))

    [item] = result.items
    assert (item.external_id, item.kind, item.text) == ("5123456789:60", "message", "Obrigada!")
    assert result.delivery_id == "900000010"


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_webhook_without_or_with_a_wrong_secret_is_refused(secret):
    body = json.dumps(fixture("webhook_update_message")).encode()
    with pytest.raises(WebhookRejected) as caught:
        webhook_provider.parse_webhook(delivery(body, secret))
    assert caught.value.status == 403


def test_webhook_with_malformed_body_is_refused_with_400():
    with pytest.raises(WebhookRejected) as caught:
        webhook_provider.parse_webhook(delivery(b'{"update_id": 9000'))
    assert caught.value.status == 400


def test_webhook_with_oversized_body_is_refused_with_413():
    with pytest.raises(WebhookRejected) as caught:
        webhook_provider.parse_webhook(delivery(b"{" + b" " * 1_000_001 + b"}"))
    assert caught.value.status == 413


def test_replayed_update_keeps_its_delivery_id_and_message_id():
    body = json.dumps(fixture("webhook_update_message")).encode()

    first = webhook_provider.parse_webhook(delivery(body))
    again = webhook_provider.parse_webhook(delivery(body))

    assert first.delivery_id == again.delivery_id == "900000010"
    assert [i.external_id for i in first.items] == [i.external_id for i in again.items]
