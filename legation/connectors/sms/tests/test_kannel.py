"""Kannel: sending and receiving through Debian's real gateway and fake SMSC; errors on a local server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote_to_bytes

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from legation.connectors.base import ConfigError, ConnectorError, WebhookRejected, WebhookRequest
from legation.connectors.sms.kannel import KannelProvider
from legation.connectors.sms.tests.kannel_gateway import (
    OUR_NUMBER,
    SENDSMS_PASSWORD,
    SENDSMS_USER,
    WEBHOOK_SECRET,
    KannelGateway,
    free_port,
    running_kannel,
)

CITIZEN = "+447700900123"
CREDENTIALS = {"username": SENDSMS_USER, "password": SENDSMS_PASSWORD, "webhook_secret": WEBHOOK_SECRET}


def make_provider(
    sendsms_url: str, credentials: dict[str, str] | None = None, **overrides: object
) -> KannelProvider:
    config: dict[str, object] = {"sendsms_url": sendsms_url, "from_number": OUR_NUMBER}
    config.update(overrides)
    return KannelProvider(config, credentials or CREDENTIALS)


@pytest.fixture(scope="module")
def kannel() -> Iterator[KannelGateway]:
    provider = make_provider("http://127.0.0.1:1/cgi-bin/sendsms")
    with running_kannel(provider.get_url) as gateway:
        yield gateway


@pytest.fixture
def gateway(kannel: KannelGateway, allow_loopback: None) -> KannelGateway:
    while not kannel.calls.empty():  # calls left over by an earlier test
        kannel.calls.get_nowait()
    return kannel


def ucs2(printed: str) -> str:
    """fakesmsc prints UCS-2 text form-encoded ("+" for the space byte); decode it back."""
    return unquote_to_bytes(printed.replace("+", "%20")).decode("utf-16-be")


# -- through the real gateway ------------------------------------------------------------------------------


def test_an_sms_sent_through_kannel_reaches_the_phone_network(gateway: KannelGateway):
    provider = make_provider(gateway.sendsms_url)
    with gateway.phone_network() as network:
        delivered = provider.send_message("+44 7700 900123", "Shelter open at the embassy")
        [line] = network.received()

    assert line == f"{OUR_NUMBER} {CITIZEN} text Shelter open at the embassy"
    assert delivered.raw["answer"] == "0: Accepted for delivery"
    assert delivered.raw["segments"] == 1


def test_arabic_travels_as_ucs2(gateway: KannelGateway):
    text = "الرجاء التوجه إلى السفارة"
    with gateway.phone_network() as network:
        make_provider(gateway.sendsms_url).send_message(CITIZEN, text)
        [line] = network.received()

    sender, receiver, kind, data = line.split(" ", 3)
    assert (sender, receiver, kind) == (OUR_NUMBER, CITIZEN, "ucs-2")
    assert ucs2(data) == text


def test_delivery_reports_come_back_for_the_message_sent(gateway: KannelGateway):
    provider = make_provider(gateway.sendsms_url, dlr_url=gateway.dlr_url)
    with gateway.phone_network() as network:
        delivered = provider.send_message(CITIZEN, "Your case is registered")
        network.received()
        reports = [provider.parse_delivery_report(gateway.next_call("dlr")) for _ in range(2)]

    assert [r.external_id for r in reports] == [delivered.external_id] * 2
    # Kannel calls the two report URLs from separate requests: they may arrive in either order.
    by_status = {r.status: r for r in reports}
    assert sorted(by_status) == ["delivered", "sent"]
    assert by_status["delivered"].final and not by_status["sent"].final


def test_an_sms_from_a_citizen_reaches_the_webhook(gateway: KannelGateway):
    provider = make_provider(gateway.sendsms_url)
    with gateway.phone_network(f"{CITIZEN} {OUR_NUMBER} text We are 3 people at the port"):
        call = gateway.next_call("hook")

    result = provider.parse_webhook(call)

    [item] = result.items
    assert item.kind == "sms"
    assert item.text == "We are 3 people at the port"
    assert item.author_id == CITIZEN
    assert item.raw["to"] == OUR_NUMBER
    assert item.raw["smsc"] == "FAKE"
    assert item.created_at is not None
    assert re.fullmatch(r"[0-9a-f-]{36}", item.external_id)  # Kannel's message UUID
    assert result.delivery_id == item.external_id
    # The same call delivered again names the same delivery, so it is stored once.
    assert provider.parse_webhook(call).delivery_id == result.delivery_id


def test_a_ucs2_sms_from_a_citizen_is_decoded(gateway: KannelGateway):
    text = "نحن بحاجة إلى مساعدة"
    encoded = "".join(f"%{b:02X}" for b in text.encode("utf-16-be"))
    with gateway.phone_network(f"{CITIZEN} {OUR_NUMBER} ucs2 {encoded}"):
        call = gateway.next_call("hook")

    [item] = make_provider(gateway.sendsms_url).parse_webhook(call).items
    assert item.text == text


def test_a_wrong_sendsms_password_is_permanent_and_not_quoted(gateway: KannelGateway):
    provider = make_provider(gateway.sendsms_url, {**CREDENTIALS, "password": "wrong pw"})
    with pytest.raises(ConnectorError) as caught:
        provider.send_message(CITIZEN, "hello")

    assert caught.value.permanent
    assert caught.value.status == 403
    assert "Authorization failed" in caught.value.message


def test_a_gateway_that_is_down_is_temporary_and_the_password_stays_secret(allow_loopback: None):
    provider = make_provider(f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms")
    with pytest.raises(ConnectorError) as caught:
        provider.send_message(CITIZEN, "hello")

    assert not caught.value.permanent
    assert "Connection refused" in caught.value.message
    assert "password=***" in caught.value.message
    assert "send%26pw" not in caught.value.message and SENDSMS_PASSWORD not in caught.value.message


# -- the webhook's secret ----------------------------------------------------------------------------------


def kannel_call(query: str) -> WebhookRequest:
    return WebhookRequest(
        method="GET", url=f"https://legation.example/hooks/kannel/3/?{query}", headers={}, body=b""
    )


def test_a_call_without_the_secret_is_refused():
    provider = make_provider("http://kannel.example/cgi-bin/sendsms")
    with pytest.raises(WebhookRejected, match="no secret") as caught:
        provider.parse_webhook(kannel_call("from=%2B447700900123&text=hi"))
    assert caught.value.status == 403


def test_a_call_with_a_wrong_secret_is_refused():
    provider = make_provider("http://kannel.example/cgi-bin/sendsms")
    with pytest.raises(WebhookRejected, match="does not match") as caught:
        provider.parse_webhook(kannel_call("secret=guess&from=%2B447700900123&text=hi"))
    assert caught.value.status == 403


def test_a_call_without_a_sender_is_refused_as_malformed():
    provider = make_provider("http://kannel.example/cgi-bin/sendsms")
    with pytest.raises(WebhookRejected) as caught:
        provider.parse_webhook(kannel_call(f"secret={WEBHOOK_SECRET}&text=hi"))
    assert caught.value.status == 400


def test_the_get_url_for_kannel_carries_the_secret_and_kannels_escapes():
    url = make_provider("http://kannel.example/cgi-bin/sendsms").get_url(
        "https://legation.example/hooks/kannel/3/"
    )
    assert url.startswith(f"https://legation.example/hooks/kannel/3/?secret={WEBHOOK_SECRET}&")
    assert "from=%p" in url and "text=%b" in url and "id=%I" in url


# -- error shapes (a local server answering as Kannel does) -------------------------------------------------


@pytest.fixture
def fake_kannel(httpserver: HTTPServer, allow_loopback: None) -> HTTPServer:
    return httpserver


def test_sending_failed_is_temporary(fake_kannel: HTTPServer):
    fake_kannel.expect_request("/cgi-bin/sendsms").respond_with_data("Sending failed.", status=503)
    with pytest.raises(ConnectorError, match="Sending failed") as caught:
        make_provider(fake_kannel.url_for("/cgi-bin/sendsms")).send_message(CITIZEN, "hello")
    assert not caught.value.permanent
    assert caught.value.status == 503
    assert len(fake_kannel.log) == 1  # not resent: a resend could text the citizen twice


def test_a_refused_message_is_permanent_with_kannels_words(fake_kannel: HTTPServer):
    fake_kannel.expect_request("/cgi-bin/sendsms").respond_with_data(
        "Missing receiver number, rejected", status=400
    )
    with pytest.raises(ConnectorError, match="Missing receiver number") as caught:
        make_provider(fake_kannel.url_for("/cgi-bin/sendsms")).send_message(CITIZEN, "hello")
    assert caught.value.permanent


def test_an_oversized_answer_is_refused(fake_kannel: HTTPServer):
    fake_kannel.expect_request("/cgi-bin/sendsms").respond_with_response(Response("0" * 200_000, status=202))
    with pytest.raises(ConnectorError, match="exceeds the limit") as caught:
        make_provider(fake_kannel.url_for("/cgi-bin/sendsms")).send_message(CITIZEN, "hello")
    assert caught.value.permanent


def test_the_sendsms_request_carries_coding_and_charset(fake_kannel: HTTPServer):
    fake_kannel.expect_request("/cgi-bin/sendsms").respond_with_data("0: Accepted for delivery", status=202)
    make_provider(fake_kannel.url_for("/cgi-bin/sendsms"), smsc_id="ORANGE").send_message(CITIZEN, "Ça va")
    make_provider(fake_kannel.url_for("/cgi-bin/sendsms")).send_message(CITIZEN, "Привет")

    first, second = (request.args for request, _response in fake_kannel.log)
    assert (first["coding"], first["charset"], first["text"], first["smsc"]) == (
        "0",
        "UTF-8",
        "Ça va",
        "ORANGE",
    )
    assert (second["coding"], second["text"]) == ("2", "Привет")
    assert first["username"] == SENDSMS_USER and first["to"] == CITIZEN


def test_a_text_too_long_or_a_bad_number_is_refused_before_sending(fake_kannel: HTTPServer):
    provider = make_provider(fake_kannel.url_for("/cgi-bin/sendsms"), max_segments=1)
    with pytest.raises(ConnectorError, match="needs 2 SMS parts"):
        provider.send_message(CITIZEN, "x" * 161)
    with pytest.raises(ConnectorError, match="international format"):
        provider.send_message("12", "hello")
    assert fake_kannel.log == []


def test_bad_configuration_is_named():
    with pytest.raises(ConfigError, match="sendsms_url"):
        KannelProvider({"sendsms_url": "ftp://kannel"}, CREDENTIALS)
