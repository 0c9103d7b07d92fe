"""Mastodon webhooks: X-Hub-Signature (HMAC-SHA256 of the body) checked, status events read, replays named."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from legation.connectors.base import WebhookRejected, WebhookRequest

from .conftest import FIXTURES

SECRET = "hook-secret"


def signed(body: bytes, secret: str = SECRET) -> WebhookRequest:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return WebhookRequest(
        "POST", "https://legation.example/hooks/mastodon/1", {"x-hub-signature": signature}, body
    )


def test_a_signed_status_event_is_accepted_and_read(provider):
    body = (FIXTURES / "webhook_status_created.json").read_bytes()
    result = provider.parse_webhook(signed(body))
    [item] = result.items
    assert item.external_id == "113000000000000700"
    assert item.kind == "reply" and item.in_reply_to == "113000000000000001"
    assert item.text == "Merci pour l'information\xa0!"
    assert item.language == "fr" and item.author_name == "resident"


def test_an_event_without_statuses_is_accepted_with_no_items(provider):
    body = (FIXTURES / "webhook_account_created.json").read_bytes()
    assert provider.parse_webhook(signed(body)).items == []


def test_a_wrong_signature_is_refused(provider):
    body = (FIXTURES / "webhook_status_created.json").read_bytes()
    with pytest.raises(WebhookRejected) as caught:
        provider.parse_webhook(signed(body, secret="someone-else"))
    assert caught.value.status == 401


def test_a_tampered_body_is_refused(provider):
    body = (FIXTURES / "webhook_status_created.json").read_bytes()
    request = signed(body)
    tampered = WebhookRequest(request.method, request.url, request.headers, body.replace(b"Merci", b"Pwned"))
    with pytest.raises(WebhookRejected):
        provider.parse_webhook(tampered)


def test_a_missing_signature_is_refused(provider):
    body = (FIXTURES / "webhook_status_created.json").read_bytes()
    with pytest.raises(WebhookRejected, match="without X-Hub-Signature"):
        provider.parse_webhook(WebhookRequest("POST", "https://legation.example/h", {}, body))


def test_malformed_and_oversized_bodies_are_refused(provider):
    with pytest.raises(WebhookRejected) as caught:
        provider.parse_webhook(signed(b"{not json"))
    assert caught.value.status == 400
    with pytest.raises(WebhookRejected) as caught:
        provider.parse_webhook(signed(b"x" * (1024 * 1024 + 1)))
    assert caught.value.status == 413


def test_a_replayed_delivery_has_the_same_delivery_id(provider):
    created = (FIXTURES / "webhook_status_created.json").read_bytes()
    other = (FIXTURES / "webhook_account_created.json").read_bytes()
    first = provider.parse_webhook(signed(created)).delivery_id
    again = provider.parse_webhook(signed(created)).delivery_id
    assert first == again
    assert provider.parse_webhook(signed(other)).delivery_id != first
