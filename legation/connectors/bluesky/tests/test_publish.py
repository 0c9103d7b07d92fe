"""Publishing to Bluesky through the atproto SDK: facets, images with alt text, replies, errors, sessions."""

from __future__ import annotations

import pytest

from legation.connectors.base import ConnectorError, Media, OutboundPost
from legation.connectors.bluesky.provider import BlueskyProvider

from .conftest import DID, HANDLE, PASSWORD, fixture

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_publish_returns_the_at_uri_and_the_bsky_app_url(provider, pds):
    delivered = provider.publish(OutboundPost(text="Consular hours change on Monday.", language="en"))
    assert delivered.external_id.startswith(f"at://{DID}/app.bsky.feed.post/")
    rkey = delivered.external_id.rsplit("/", 1)[1]
    assert delivered.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    assert pds.records[-1]["langs"] == ["en"]


def test_links_mentions_and_hashtags_become_facets(provider, pds):
    text = "Thanks @citizen.bsky.social! Details: https://embassy.example/hours #ConsularHelp"
    provider.publish(OutboundPost(text=text))
    facets = pds.records[-1]["facets"]
    features = {f["features"][0]["$type"].rsplit("#", 1)[1]: f for f in facets}
    assert features["mention"]["features"][0]["did"] == "did:plc:citizen00000000000000000"
    assert features["link"]["features"][0]["uri"] == "https://embassy.example/hours"
    assert features["tag"]["features"][0]["tag"] == "ConsularHelp"
    encoded = text.encode()
    link = features["link"]["index"]
    assert encoded[link["byteStart"] : link["byteEnd"]] == b"https://embassy.example/hours"


def test_facet_offsets_are_utf8_bytes_with_non_latin_text(provider, pds):
    text = "مرحبا 👋 https://embassy.example/ar"
    provider.publish(OutboundPost(text=text))
    [facet] = pds.records[-1]["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end] == b"https://embassy.example/ar"


def test_images_are_uploaded_with_alt_text(provider, pds):
    provider.publish(
        OutboundPost(text="Our building", media=[Media(PNG, "image/png", alt_text="The embassy at dusk")])
    )
    embed = pds.records[-1]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert embed["images"][0]["alt"] == "The embassy at dusk"
    assert pds.blobs == [PNG]


def test_reply_refers_to_the_parent_and_the_thread_root(provider, pds):
    root = pds.add_post("Root of the thread")
    parent = pds.add_post("A reply in the thread", author=fixture("notification_reply")["author"])
    parent["record"]["reply"] = {
        "root": {"uri": root["uri"], "cid": root["cid"]},
        "parent": {"uri": root["uri"], "cid": root["cid"]},
    }
    provider.publish(OutboundPost(text="Our answer", reply_to=parent["uri"]))
    reply = pds.records[-1]["reply"]
    assert reply["parent"]["uri"] == parent["uri"]
    assert reply["root"]["uri"] == root["uri"]


def test_a_post_over_300_graphemes_is_refused_before_sending(provider, pds):
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="é" * 301))
    assert caught.value.permanent is True
    assert "com.atproto.repo.createRecord" not in pds.calls


def test_delete_removes_the_post(provider, pds):
    delivered = provider.publish(OutboundPost(text="to retract"))
    provider.delete(delivered.external_id)
    assert delivered.external_id not in pds.posts


def test_429_with_retry_after_then_success(provider, pds, waits):
    pds.fail_next("com.atproto.repo.createRecord", 429, fixture("error_rate_limit"), {"Retry-After": "3"})
    delivered = provider.publish(OutboundPost(text="After the wait"))
    assert delivered.external_id in pds.posts
    assert waits == [3.0]


def test_rate_limit_reset_beyond_the_cap_is_returned_with_retry_after(provider, pds, waits):
    reset = {"RateLimit-Reset": "32503680000", "RateLimit-Remaining": "0"}  # the year 3000
    pds.fail_next("com.atproto.repo.createRecord", 429, fixture("error_rate_limit"), reset)
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="Too soon"))
    assert caught.value.permanent is False and caught.value.status == 429
    assert caught.value.retry_after is not None and caught.value.retry_after > 86400
    assert "RateLimitExceeded" in caught.value.message
    assert waits == []


def test_5xx_then_success_on_a_read(provider, pds, waits):
    post = pds.add_post("measured")
    pds.fail_next("app.bsky.feed.getPosts", 502, "<html>Bad gateway</html>")
    pds.fail_next("app.bsky.feed.getPosts", 500, {"error": "InternalServerError", "message": "oops"})
    metrics = provider.post_metrics(post["uri"])
    assert (metrics.likes, metrics.reposts, metrics.replies) == (40, 14, 3)
    assert len(waits) == 2


def test_expired_access_token_is_refreshed_and_the_call_repeated(provider, pds):
    provider.verify_credentials()
    first_session = provider.credentials["session_string"]
    pds.expire_all_access_tokens()
    delivered = provider.publish(OutboundPost(text="after refresh"))
    assert delivered.external_id in pds.posts
    assert pds.calls.count("com.atproto.server.refreshSession") == 1
    assert pds.calls.count("com.atproto.server.createSession") == 1
    assert provider.renewed_credentials["session_string"] != first_session


def test_a_dead_refresh_token_falls_back_to_the_app_password(provider, pds):
    provider.verify_credentials()
    pds.expire_all_access_tokens()
    pds.expire_all_refresh_tokens()
    assert provider.publish(OutboundPost(text="signed in again")).external_id in pds.posts
    assert pds.calls.count("com.atproto.server.createSession") == 2


def test_a_stored_session_is_reused_without_signing_in(pds):
    session = BlueskyProvider({"service_url": pds.base_url}, {"identifier": HANDLE, "app_password": PASSWORD})
    session.verify_credentials()
    stored = session.credentials["session_string"]
    again = BlueskyProvider({"service_url": pds.base_url}, {"session_string": stored})
    assert again.verify_credentials().handle == HANDLE
    assert pds.calls.count("com.atproto.server.createSession") == 1


def test_refresh_token_returns_a_new_session_for_the_vault(provider, pds):
    provider.verify_credentials()
    before = provider.credentials["session_string"]
    tokens = provider.refresh_token()
    assert tokens.credentials["session_string"] != before
    assert tokens.expires_at is not None


def test_expired_session_without_a_password_is_a_permanent_auth_error(pds):
    seed = BlueskyProvider({"service_url": pds.base_url}, {"identifier": HANDLE, "app_password": PASSWORD})
    seed.verify_credentials()
    provider = BlueskyProvider(
        {"service_url": pds.base_url}, {"session_string": seed.credentials["session_string"]}
    )
    pds.expire_all_access_tokens()
    pds.expire_all_refresh_tokens()
    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()
    assert caught.value.permanent is True and caught.value.auth_expired is True
    assert "ExpiredToken" in caught.value.message


def test_wrong_app_password_is_permanent(pds):
    provider = BlueskyProvider({"service_url": pds.base_url}, {"identifier": HANDLE, "app_password": "wrong"})
    with pytest.raises(ConnectorError) as caught:
        provider.verify_credentials()
    assert caught.value.permanent is True and caught.value.status == 401
    assert "Invalid identifier or password" in caught.value.message


def test_a_taken_down_account_is_permanent(provider, pds):
    pds.fail_next("com.atproto.repo.createRecord", 400, fixture("error_account_takedown"))
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="hello"))
    assert caught.value.permanent is True and caught.value.auth_expired is False
    assert "taken down" in caught.value.message


def test_validation_error_is_permanent(provider, pds):
    pds.fail_next("com.atproto.repo.createRecord", 400, fixture("error_invalid_request"))
    with pytest.raises(ConnectorError) as caught:
        provider.publish(OutboundPost(text="hello"))
    assert caught.value.permanent is True and caught.value.status == 400


def test_malformed_json_is_a_temporary_error(provider, pds):
    provider.verify_credentials()
    pds.fail_next("app.bsky.actor.getProfile", 200, "{not json")
    with pytest.raises(ConnectorError) as caught:
        provider.account_metrics()
    assert caught.value.permanent is False
    assert "malformed" in caught.value.message


def test_oversized_payload_is_refused(provider, pds):
    provider.max_response_bytes = 4096
    pds.fail_next("app.bsky.actor.getProfile", 200, '{"did": "x", "handle": "' + "x" * 20000 + '"}')
    with pytest.raises(ConnectorError) as caught:
        provider.account_metrics()
    assert caught.value.permanent is True
    assert "exceeds the limit" in caught.value.message


def test_verify_credentials_and_account_metrics(provider):
    info = provider.verify_credentials()
    assert (info.external_id, info.handle, info.display_name) == (DID, HANDLE, "Embassy of Example")
    assert provider.account_metrics().followers == 5120
