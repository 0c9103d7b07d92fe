"""Twilio through the official SDK against a local server that answers as Twilio's REST API does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator

from legation.connectors.base import ConfigError, ConnectorError, WebhookRejected, WebhookRequest
from legation.connectors.sms import twilio as twilio_module
from legation.connectors.sms.tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, FakeTwilio, Fault
from legation.connectors.sms.twilio import TwilioProvider
from legation.connectors.testing import drain

CITIZEN = "+447700900123"
WEBHOOK_URL = "https://legation.example/hooks/twilio/7/"


def make_provider(httpserver: HTTPServer, token: str = AUTH_TOKEN, **overrides: object) -> TwilioProvider:
    config: dict[str, object] = {
        "from_number": OUR_NUMBER,
        "api_base_url": httpserver.url_for("/"),
        "status_callback_url": "https://legation.example/hooks/twilio/7/status",
    }
    config.update(overrides)
    return TwilioProvider(config, {"account_sid": ACCOUNT_SID, "auth_token": token})


def outbound(fake: FakeTwilio) -> list[dict]:
    return [m for m in fake.messages if m["direction"] == "outbound-api"]


# -- sending -----------------------------------------------------------------------------------------------


def test_an_sms_is_sent_and_its_message_sid_is_the_external_id(
    httpserver: HTTPServer, fake_twilio: FakeTwilio
):
    delivered = make_provider(httpserver).send_message("+44 7700 900123", "Shelter open at the embassy.")

    [sent] = outbound(fake_twilio)
    assert sent["to"] == CITIZEN
    assert sent["from"] == OUR_NUMBER
    assert sent["body"] == "Shelter open at the embassy."
    assert delivered.external_id == sent["sid"]
    assert delivered.raw["status"] == "queued"
    assert delivered.raw["segments"] == 1


def test_a_long_arabic_text_is_counted_in_ucs2_segments(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    text = "الرجاء التوجه إلى السفارة فوراً. " * 3  # 99 characters, not GSM-7

    delivered = make_provider(httpserver).send_message(CITIZEN, text)
    count = TwilioProvider.count_text(text)

    assert delivered.raw["segments"] == 2
    assert count.used == 2 and count.unit == "segments"
    assert "UCS-2" in count.detail


def test_a_text_over_the_segment_limit_is_refused_before_sending(
    httpserver: HTTPServer, fake_twilio: FakeTwilio
):
    with pytest.raises(ConnectorError, match="needs 3 SMS parts, more than the 2 allowed") as caught:
        make_provider(httpserver, max_segments=2).send_message(CITIZEN, "x" * 400)
    assert caught.value.permanent
    assert fake_twilio.requests == []


def test_a_malformed_number_is_refused_before_sending(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    with pytest.raises(ConnectorError, match="international format") as caught:
        make_provider(httpserver).send_message("07700 900123", "hello")
    assert caught.value.permanent
    assert fake_twilio.requests == []


def test_a_429_is_waited_out_as_retry_after_says_and_sent_once(
    httpserver: HTTPServer, fake_twilio: FakeTwilio, waits: list[float]
):
    fake_twilio.faults.append(
        Fault(
            429,
            json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429}),
            {"Retry-After": "2"},
        )
    )
    delivered = make_provider(httpserver).send_message(CITIZEN, "hello")

    assert waits == [2.0]
    assert [m["sid"] for m in outbound(fake_twilio)] == [delivered.external_id]


def test_a_long_retry_after_is_handed_back_to_the_scheduler(
    httpserver: HTTPServer, fake_twilio: FakeTwilio, waits: list[float]
):
    body = json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429})
    fake_twilio.faults.extend([Fault(429, body, {"Retry-After": "3600"})])
    with pytest.raises(ConnectorError) as caught:
        make_provider(httpserver).send_message(CITIZEN, "hello")

    assert not caught.value.permanent
    assert caught.value.retry_after == 3600
    assert caught.value.status == 429
    assert waits == []
    assert outbound(fake_twilio) == []


def test_a_503_is_retried_and_the_sms_sent_once(
    httpserver: HTTPServer, fake_twilio: FakeTwilio, waits: list[float]
):
    fake_twilio.faults.append(Fault(503, "Service Unavailable", content_type="text/plain"))
    make_provider(httpserver).send_message(CITIZEN, "hello")

    assert len(waits) == 1
    assert len(outbound(fake_twilio)) == 1


def test_a_500_on_send_is_not_resent_blindly(
    httpserver: HTTPServer, fake_twilio: FakeTwilio, waits: list[float]
):
    # Twilio may have queued the SMS before failing; without an idempotency key a resend could text twice.
    fake_twilio.faults.append(Fault(500, json.dumps({"code": 20500, "message": "Internal Server Error"})))
    with pytest.raises(ConnectorError) as caught:
        make_provider(httpserver).send_message(CITIZEN, "hello")

    assert not caught.value.permanent
    assert caught.value.status == 500
    assert len(fake_twilio.requests) == 1


def test_an_invalid_number_is_permanent_with_twilios_words(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    with pytest.raises(ConnectorError) as caught:
        make_provider(httpserver).send_message("+15005550009", "hello")

    assert caught.value.permanent
    assert caught.value.status == 400
    assert "is not a valid mobile number" in caught.value.message
    assert "21614" in caught.value.message


def test_wrong_credentials_are_permanent(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    with pytest.raises(ConnectorError) as caught:
        make_provider(httpserver, token="0" * 32).send_message(CITIZEN, "hello")

    assert caught.value.permanent
    assert caught.value.status == 401
    assert not caught.value.auth_expired  # an auth token does not expire; a person must fix it
    assert "Authenticate" in caught.value.message


def test_an_unreadable_answer_to_a_send_is_not_retried(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    fake_twilio.faults.append(Fault(201, "<html>proxy says hi", content_type="text/html"))
    with pytest.raises(ConnectorError, match="check the Twilio console") as caught:
        make_provider(httpserver).send_message(CITIZEN, "hello")
    assert caught.value.permanent


def test_an_oversized_answer_is_refused(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    fake_twilio.faults.append(Fault(200, "[" + "0," * (6 * 1024 * 1024) + "0]"))
    with pytest.raises(ConnectorError, match="exceeds the limit") as caught:
        make_provider(httpserver).pull_messages(None)
    assert caught.value.permanent


def test_delivery_status_reports_what_twilio_knows(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    provider = make_provider(httpserver)
    sid = provider.send_message(CITIZEN, "hello").external_id
    fake_twilio.messages[-1].update(
        status="undelivered", error_code=30003, error_message="Unreachable handset"
    )

    report = provider.delivery_status(sid)

    assert report.status == "undelivered"
    assert report.final
    assert report.error_code == "30003"


def test_verify_credentials_names_the_account(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    info = make_provider(httpserver).verify_credentials()
    assert info.external_id == ACCOUNT_SID
    assert info.display_name == "Embassy SMS"
    assert info.handle == OUR_NUMBER


def test_config_needs_a_sender():
    with pytest.raises(ConfigError, match="from_number"):
        TwilioProvider({}, {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN})
    with pytest.raises(ConfigError, match="international format"):
        TwilioProvider({"from_number": "12345"}, {})


def test_the_private_address_guard_applies_to_the_sdk(httpserver: HTTPServer):
    # No allow_loopback here: the SDK's requests go through connectors/http.py and are refused.
    with pytest.raises(ConnectorError, match="private, loopback") as caught:
        make_provider(httpserver).send_message(CITIZEN, "hello")
    assert caught.value.permanent


# -- pulling -----------------------------------------------------------------------------------------------


def test_an_interrupted_pull_resumes_and_reads_every_sms_exactly_once(
    httpserver: HTTPServer, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(twilio_module, "PAGE_SIZE", 3)  # so the SDK follows next_page_uri
    start = datetime.now(UTC) - timedelta(hours=2)
    sids = [
        fake_twilio.add_inbound(f"report {n}", f"+4477009001{n:02d}", start + timedelta(minutes=n))
        for n in range(7)
    ]
    fake_twilio.add_inbound("to another number", CITIZEN, start, to="+15005550001")
    provider = make_provider(httpserver)
    provider.send_message(CITIZEN, "our own outgoing SMS is not inbound")

    first = provider.pull_messages(None, limit=3)
    assert [i.external_id for i in first.items] == sids[:3]
    assert first.has_more

    # Twilio fails through every retry: the pull raises, so the stored cursor stays at the first page.
    fake_twilio.faults.extend([Fault(500, "{}")] * 4)
    with pytest.raises(ConnectorError) as caught:
        provider.pull_messages(first.cursor, limit=3)
    assert not caught.value.permanent

    # Meanwhile one SMS arrives, and one that Twilio dated a minute before the newest we had read.
    late = fake_twilio.add_inbound("late", "+447700900999", start + timedelta(minutes=1, seconds=30))
    newest = fake_twilio.add_inbound("new", "+447700900998", start + timedelta(minutes=30))

    rest, cursor = drain(provider.pull_messages, first.cursor, limit=3)
    items = [*first.items, *rest]

    got = [i.external_id for i in items]
    assert sorted(got) == sorted([*sids, late, newest])
    assert len(got) == len(set(got))
    assert provider.pull_messages(cursor).items == []
    assert items[0].text == "report 0" and items[0].author_id == "+447700900100"


def test_a_500_while_pulling_is_retried(httpserver: HTTPServer, fake_twilio: FakeTwilio, waits: list[float]):
    fake_twilio.add_inbound("help", CITIZEN, datetime.now(UTC) - timedelta(minutes=5))
    fake_twilio.faults.append(Fault(500, json.dumps({"code": 20500, "message": "Internal Server Error"})))

    page = make_provider(httpserver).pull_messages(None)

    assert [i.text for i in page.items] == ["help"]
    assert len(waits) == 1


def test_a_malformed_list_answer_is_temporary(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    fake_twilio.faults.append(Fault(200, "{not json"))
    with pytest.raises(ConnectorError, match="could not be read") as caught:
        make_provider(httpserver).pull_messages(None)
    assert not caught.value.permanent


def test_a_malformed_cursor_is_refused(httpserver: HTTPServer, fake_twilio: FakeTwilio):
    with pytest.raises(ConnectorError, match="cursor is malformed"):
        make_provider(httpserver).pull_messages("yesterday")


# -- webhooks ----------------------------------------------------------------------------------------------


def inbound_form(**extra: str) -> dict[str, str]:
    form = {
        "ToCountry": "US",
        "SmsMessageSid": "SM" + "1" * 32,
        "NumMedia": "0",
        "SmsSid": "SM" + "1" * 32,
        "SmsStatus": "received",
        "Body": "We are 3 people trapped near the port",
        "FromCountry": "GB",
        "To": OUR_NUMBER,
        "NumSegments": "1",
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": CITIZEN,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def signed(form: dict[str, str], url: str = WEBHOOK_URL, token: str = AUTH_TOKEN) -> WebhookRequest:
    signature = RequestValidator(token).compute_signature(url, form)
    return WebhookRequest(
        method="POST",
        url=url,
        headers={"x-twilio-signature": signature, "content-type": "application/x-www-form-urlencoded"},
        body=urlencode(form).encode(),
    )


def test_a_signed_inbound_sms_is_accepted(httpserver: HTTPServer):
    result = make_provider(httpserver).parse_webhook(signed(inbound_form()))

    [item] = result.items
    assert item.kind == "sms"
    assert item.external_id == "SM" + "1" * 32
    assert item.author_id == CITIZEN
    assert item.text == "We are 3 people trapped near the port"
    assert item.conversation_id == CITIZEN
    assert result.delivery_id == item.external_id
    assert result.response_content_type == "text/xml"
    assert "<Response></Response>" in (result.response_body or "")


def test_a_replayed_delivery_has_the_same_delivery_id(httpserver: HTTPServer):
    provider = make_provider(httpserver)
    first = provider.parse_webhook(signed(inbound_form()))
    again = provider.parse_webhook(signed(inbound_form()))
    assert first.delivery_id == again.delivery_id == "SM" + "1" * 32


def test_a_wrong_signature_is_refused(httpserver: HTTPServer):
    with pytest.raises(WebhookRejected, match="does not match") as caught:
        make_provider(httpserver).parse_webhook(signed(inbound_form(), token="0" * 32))
    assert caught.value.status == 403


def test_a_tampered_body_is_refused(httpserver: HTTPServer):
    request = signed(inbound_form())
    tampered = WebhookRequest(
        method="POST",
        url=request.url,
        headers=request.headers,
        body=request.body.replace(b"3+people", b"300+people"),
    )
    with pytest.raises(WebhookRejected):
        make_provider(httpserver).parse_webhook(tampered)


def test_a_missing_signature_is_refused(httpserver: HTTPServer):
    request = signed(inbound_form())
    bare = WebhookRequest(method="POST", url=request.url, headers={}, body=request.body)
    with pytest.raises(WebhookRejected, match="no X-Twilio-Signature") as caught:
        make_provider(httpserver).parse_webhook(bare)
    assert caught.value.status == 403


def test_a_get_is_refused(httpserver: HTTPServer):
    with pytest.raises(WebhookRejected) as caught:
        make_provider(httpserver).parse_webhook(
            WebhookRequest(method="GET", url=WEBHOOK_URL, headers={}, body=b"")
        )
    assert caught.value.status == 405


def test_behind_a_proxy_the_public_url_is_what_is_verified(httpserver: HTTPServer):
    request = signed(inbound_form())
    as_seen = WebhookRequest(
        method="POST", url="http://10.0.0.5:8000/hooks/twilio/7/", headers=request.headers, body=request.body
    )
    with pytest.raises(WebhookRejected):
        make_provider(httpserver).parse_webhook(as_seen)
    result = make_provider(httpserver, webhook_url=WEBHOOK_URL).parse_webhook(as_seen)
    assert len(result.items) == 1


def test_a_status_callback_is_verified_and_read(httpserver: HTTPServer):
    form = {
        "MessageSid": "SM" + "2" * 32,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": ACCOUNT_SID,
        "From": OUR_NUMBER,
        "To": CITIZEN,
    }
    url = "https://legation.example/hooks/twilio/7/status"
    provider = make_provider(httpserver)

    report = provider.parse_status_callback(signed(form, url=url))
    as_webhook = provider.parse_webhook(signed(form, url=url))

    assert report.status == "undelivered"
    assert report.error_code == "30003"
    assert report.final
    assert as_webhook.items == []
    assert as_webhook.delivery_id == "SM" + "2" * 32 + ":undelivered"
    with pytest.raises(WebhookRejected):
        provider.parse_status_callback(signed(form, url=url, token="0" * 32))
