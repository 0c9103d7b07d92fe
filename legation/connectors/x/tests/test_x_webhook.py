"""X Account Activity webhooks: the CRC challenge, signature checks, parsing, and replays."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from legation.connectors.base import WebhookRejected, WebhookRequest
from legation.connectors.x.provider import XProvider

from .conftest import CREDENTIALS, fixture

provider = XProvider({"user_id": "1450000000000000001", "username": "ExampliaLisbon"}, CREDENTIALS)


def signed(payload: bytes, secret: str = CREDENTIALS["consumer_secret"]) -> dict[str, str]:
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return {"x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode()}


def post(body: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(method="POST", url="https://legation.example/hooks/x/1", headers=headers, body=body)


def test_crc_challenge_is_answered_with_the_hmac_of_the_token():
    result = provider.parse_webhook(
        WebhookRequest(
            method="GET",
            url="https://legation.example/hooks/x/1",
            headers={},
            body=b"",
            query={"crc_token": "challenge-123"},
        )
    )

    expected = base64.b64encode(
        hmac.new(b"consumer-secret", b"challenge-123", hashlib.sha256).digest()
    ).decode()
    assert json.loads(result.response_body or "") == {"response_token": f"sha256={expected}"}
    assert result.response_content_type == "application/json"
    assert result.items == []


def test_crc_without_token_is_refused():
    with pytest.raises(WebhookRejected) as caught:
        provider.parse_webhook(WebhookRequest(method="GET", url="/", headers={}, body=b""))
    assert caught.value.status == 400


def test_signed_mention_is_accepted_and_our_own_reply_left_out():
    body = json.dumps(fixture("webhook_tweet_create_events")).encode()

    result = provider.parse_webhook(post(body, signed(body)))

    [item] = result.items
    assert (item.external_id, item.kind, item.author_name) == ("1800000000000000600", "mention", "anasilva")
    assert item.text.startswith("@ExampliaLisbon can I renew my passport")
    assert item.url == "https://x.com/anasilva/status/1800000000000000600"


def test_signed_direct_message_is_accepted():
    body = json.dumps(fixture("webhook_direct_message_events")).encode()

    [item] = provider.parse_webhook(post(body, signed(body))).items

    assert (item.external_id, item.kind, item.author_id, item.author_name) == (
        "1580000000000000030",
        "message",
        "783214",
        "ruicosta",
    )
    assert item.text == "Preciso de um visto urgente"
    assert item.created_at is not None and item.created_at.year == 2025


@pytest.mark.parametrize("headers", [{}, {"x-twitter-webhooks-signature": "sha256=bm9wZQ=="}])
def test_missing_or_wrong_signature_is_refused(headers):
    body = json.dumps(fixture("webhook_tweet_create_events")).encode()
    with pytest.raises(WebhookRejected) as caught:
        provider.parse_webhook(post(body, headers))
    assert caught.value.status == 403


def test_signature_made_with_another_secret_is_refused():
    body = json.dumps(fixture("webhook_tweet_create_events")).encode()
    with pytest.raises(WebhookRejected):
        provider.parse_webhook(post(body, signed(body, secret="someone-else")))


def test_tampered_body_is_refused():
    body = json.dumps(fixture("webhook_tweet_create_events")).encode()
    headers = signed(body)
    with pytest.raises(WebhookRejected):
        provider.parse_webhook(post(body.replace(b"passport", b"password"), headers))


def test_signed_but_malformed_body_is_refused_with_400():
    body = b'{"for_user_id": "14500'
    with pytest.raises(WebhookRejected) as caught:
        provider.parse_webhook(post(body, signed(body)))
    assert caught.value.status == 400


def test_oversized_body_is_refused_with_413():
    body = b"{" + b" " * 1_000_001 + b"}"
    with pytest.raises(WebhookRejected) as caught:
        provider.parse_webhook(post(body, signed(body)))
    assert caught.value.status == 413


def test_a_replayed_delivery_has_the_same_delivery_id_and_item_ids():
    body = json.dumps(fixture("webhook_tweet_create_events")).encode()

    first = provider.parse_webhook(post(body, signed(body)))
    again = provider.parse_webhook(post(body, signed(body)))

    assert first.delivery_id == again.delivery_id and first.delivery_id
    assert [i.external_id for i in first.items] == [i.external_id for i in again.items]
