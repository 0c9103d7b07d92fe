"""Publishing, editing and deleting on Mastodon through Mastodon.py against a local instance."""

from __future__ import annotations

import pytest

from legation.connectors.base import ConfigError, ConnectorError, Media, OutboundPost
from legation.connectors.mastodon.provider import MastodonProvider

from .conftest import TOKEN, fixture

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_publish_returns_the_status_id_and_url(provider, fake):
    delivered = provider.publish(OutboundPost(text="Consular hours change on Monday.", language="en"))
    assert delivered.external_id in fake.statuses
    assert delivered.url == f"https://diplo.example/@embassy_example/{delivered.external_id}"
    assert fake.statuses[delivered.external_id]["language"] == "en"


def test_publish_with_images_and_alt_text(provider, fake):
    post = OutboundPost(
        text="Our new building",
        media=[
            Media(PNG, "image/png", alt_text="The embassy at dusk"),
            Media(PNG, "image/png", alt_text="Gate"),
        ],
    )
    delivered = provider.publish(post)
    attached = fake.statuses[delivered.external_id]["media_attachments"]
    assert [m["description"] for m in attached] == ["The embassy at dusk", "Gate"]
    assert all(m["size"] == len(PNG) for m in attached)


def test_reply_to_and_link_are_sent(provider, fake):
    original = fake.add_own_status("original")
    delivered = provider.publish(
        OutboundPost(text="Details here:", link="https://embassy.example/hours", reply_to=original["id"])
    )
    status = fake.statuses[delivered.external_id]
    assert status["in_reply_to_id"] == original["id"]
    assert "https://embassy.example/hours" in status["content"]


def test_the_same_idempotency_key_publishes_once(provider, fake):
    post = OutboundPost(text="Only once", idempotency_key="delivery-42")
    first = provider.publish(post)
    second = provider.publish(post)
    assert first.external_id == second.external_id
    assert len(fake.statuses) == 1


def test_5xx_then_success_retries_a_post_that_carries_an_idempotency_key(provider, fake, waits):
    fake.fail_next("POST", "/api/v1/statuses", 503, {"error": "Service Unavailable"})
    fake.fail_next("POST", "/api/v1/statuses", 502, "<html>Bad gateway</html>")
    delivered = provider.publish(OutboundPost(text="Resilient", idempotency_key="k-5xx"))
    assert delivered.external_id in fake.statuses
    assert len(waits) == 2


def test_429_with_rate_limit_reset_then_success(provider, fake, waits):
    fake.fail_next(
        "POST", "/api/v1/statuses", 429, fixture("error_429_rate_limited"), headers={"Retry-After": "4"}
    )
    delivered = provider.publish(OutboundPost(text="After the wait"))
    assert delivered.external_id in fake.statuses
    assert waits == [4.0]


def test_429_for_longer_than_the_cap_is_returned_with_retry_after(provider, fake, waits):
    for _ in range(2):
        fake.fail_next(
            "POST",
            "/api/v1/statuses",
            429,
            fixture("error_429_rate_limited"),
            headers={"X-RateLimit-Reset": "2999-01-01T00:00:00.000Z", "X-RateLimit-Remaining": "0"},
        )
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Too soon"))
    assert caught.value.permanent is False
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and caught.value.retry_after > 3600
    assert waits == []


def test_422_validation_is_permanent_with_the_instance_message(provider, fake):
    fake.fail_next("POST", "/api/v1/statuses", 422, fixture("error_422_validation"))
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="refused"))
    assert caught.value.permanent is True and caught.value.status == 422
    assert "character limit" in caught.value.message


def test_403_suspended_account_is_permanent(provider, fake):
    fake.fail_next("POST", "/api/v1/statuses", 403, fixture("error_403_suspended"))
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="hello"))
    assert caught.value.permanent is True
    assert "login is currently disabled" in caught.value.message


def test_a_revoked_token_is_permanent_and_not_refreshable(fake):
    provider = MastodonProvider({"api_base_url": fake.base_url}, {"access_token": "revoked"})
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="hello"))
    assert caught.value.permanent is True and caught.value.status == 401
    assert caught.value.auth_expired is False
    assert "access token is invalid" in caught.value.message


def test_a_post_over_the_instance_limit_is_refused_before_sending(provider, fake):
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="a" * 501))
    assert caught.value.permanent is True and "over the limit of 500" in caught.value.message
    assert ("POST", "/api/v1/statuses") not in fake.requests


def test_edit_changes_the_text(provider, fake):
    status = fake.add_own_status("Hours: 9-12")
    delivered = provider.edit(status["id"], OutboundPost(text="Hours: 9-13"))
    assert delivered.external_id == status["id"]
    assert fake.statuses[status["id"]]["content"] == "<p>Hours: 9-13</p>"


def test_delete_removes_the_status_and_is_idempotent(provider, fake):
    status = fake.add_own_status("to retract")
    provider.delete(status["id"])
    assert status["id"] not in fake.statuses
    provider.delete(status["id"])  # already gone: still done


def test_send_message_is_a_direct_status_mentioning_the_recipient(provider, fake):
    delivered = provider.send_message("traveller@social.example", "Please call +1 555 0100.")
    status = fake.statuses[delivered.external_id]
    assert status["visibility"] == "direct"
    assert status["content"].startswith("<p>@traveller@social.example Please call")


def test_malformed_json_is_a_temporary_error(provider, fake):
    fake.faults.append(("GET", "/api/v1/statuses/", _raw("{not json", 200)))
    with pytest.raises(ConnectorError) as caught:
        provider.post_metrics("113000000000000001")
    assert caught.value.permanent is False
    assert "malformed" in caught.value.message


def test_oversized_payload_is_refused(provider, fake):
    provider.max_response_bytes = 2048
    huge = '{"id": "109302", "acct": "x", "note": "' + "x" * 5000 + '"}'
    fake.faults.append(("GET", "/api/v1/accounts/verify_credentials", _raw(huge, 200)))
    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()
    assert caught.value.permanent is True
    assert "exceeds the limit" in caught.value.message


def test_verify_credentials_names_the_account(provider):
    info = provider.verify_credentials()
    assert (info.external_id, info.handle, info.display_name) == (
        "109302",
        "embassy_example",
        "Embassy of Example in Utopia",
    )


def test_missing_token_and_bad_config_fail_clearly(fake):
    with pytest.raises(ConfigError, match="access_token"):
        MastodonProvider({"api_base_url": fake.base_url}, {}).verify_credentials()
    with pytest.raises(ConfigError, match="api_base_url"):
        MastodonProvider({"api_base_url": "diplo.example"}, {"access_token": TOKEN})


def test_a_private_instance_address_is_refused_without_the_setting(httpserver):
    provider = MastodonProvider({"api_base_url": httpserver.url_for("/")}, {"access_token": TOKEN})
    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()
    assert caught.value.permanent is True
    assert "LEGATION_ALLOW_PRIVATE_HOSTS" in caught.value.message


def _raw(body: str, status: int):
    from werkzeug import Response

    return Response(body, status=status, content_type="application/json")
