"""Sending through a real SMTP server (aiosmtpd) over STARTTLS and implicit TLS, with a password."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from legation.connectors.base import ConfigError, ConnectorError, Media, OutboundPost
from legation.connectors.email.provider import EmailProvider
from legation.connectors.email.tests.conftest import PASSWORD, USER, Cert, SmtpServer, free_port

CITIZEN = "citizen@example.org"

# The implicit-TLS server is TLS from the first byte, which aiosmtpd cannot see, so it warns wrongly.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def make_provider(server: SmtpServer, cert: Cert, **overrides: object) -> EmailProvider:
    config: dict[str, object] = {
        "address": USER,
        "display_name": "Embassy of Ruritania",
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_security": server.mode,
        "ca_file": cert.certfile,
        "publish_to": ["press@lists.example.org", "diaspora@lists.example.org"],
    }
    config.update(overrides)
    return EmailProvider(config, {"username": USER, "password": PASSWORD})


def received_message(server: SmtpServer, index: int = 0) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(server.handler.received[index].content)
    assert isinstance(msg, EmailMessage)
    return msg


def test_a_message_arrives_with_its_message_id_as_the_external_id(smtp_server: SmtpServer, tls_cert: Cert):
    delivered = make_provider(smtp_server, tls_cert).send_message(
        CITIZEN, "Your passport is ready.\nCome by."
    )

    assert len(smtp_server.handler.received) == 1
    got = smtp_server.handler.received[0]
    assert got.mail_from == USER
    assert got.rcpt_tos == [CITIZEN]
    msg = received_message(smtp_server)
    assert msg["Message-ID"] == f"<{delivered.external_id}>"
    assert msg["From"] == f"Embassy of Ruritania <{USER}>"
    assert msg["To"] == CITIZEN
    assert msg["Subject"] == "Your passport is ready."
    assert msg.get_content().replace("\r\n", "\n").strip() == "Your passport is ready.\nCome by."


def test_a_reply_threads_under_the_citizens_message(smtp_server: SmtpServer, tls_cert: Cert):
    make_provider(smtp_server, tls_cert).send_message(
        f"Jane Citizen <{CITIZEN}>",
        "We have received your request.",
        subject="Lost passport in Strelsau",
        in_reply_to="second@mail.example.org",
        references=["first@mail.example.org"],
    )

    msg = received_message(smtp_server)
    assert msg["Subject"] == "Re: Lost passport in Strelsau"
    assert msg["In-Reply-To"] == "<second@mail.example.org>"
    assert msg["References"] == "<first@mail.example.org> <second@mail.example.org>"
    assert smtp_server.handler.received[0].rcpt_tos == [CITIZEN]


def test_publish_goes_to_the_lists_as_bcc_with_images_described_by_their_alt_text(
    smtp_server: SmtpServer, tls_cert: Cert
):
    post = OutboundPost(
        text="Consular hours change from Monday\nThe consulate opens at 9:00.",
        media=[
            Media(
                data=b"\x89PNG fake", mime_type="image/png", alt_text="Opening hours table", filename="h.png"
            )
        ],
        link="https://embassy.example/hours",
        language="en",
    )
    make_provider(smtp_server, tls_cert).publish(post)

    got = smtp_server.handler.received[0]
    assert got.rcpt_tos == ["press@lists.example.org", "diaspora@lists.example.org"]
    assert b"press@lists.example.org" not in got.content  # no recipient sees the list
    msg = received_message(smtp_server)
    assert msg["Subject"] == "Consular hours change from Monday"
    assert msg["Content-Language"] == "en"
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert "https://embassy.example/hours" in body.get_content()
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "h.png"
    assert attachment["Content-Description"] == "Opening hours table"
    assert attachment.get_content() == b"\x89PNG fake"


def test_a_retried_delivery_keeps_its_message_id(smtp_server: SmtpServer, tls_cert: Cert):
    provider = make_provider(smtp_server, tls_cert)
    post = OutboundPost(text="Crisis update 3", idempotency_key="delivery-42")
    first = provider.publish(post)
    second = provider.publish(post)
    other = provider.publish(OutboundPost(text="Crisis update 3", idempotency_key="delivery-43"))

    assert first.external_id == second.external_id
    assert other.external_id != first.external_id
    assert received_message(smtp_server, 1)["Message-ID"] == f"<{first.external_id}>"


def test_a_wrong_password_is_a_permanent_error(smtp_server: SmtpServer, tls_cert: Cert):
    provider = EmailProvider(
        make_provider(smtp_server, tls_cert).config, {"username": USER, "password": "wrong"}
    )
    with pytest.raises(ConnectorError) as caught:
        provider.send_message(CITIZEN, "hello")
    assert caught.value.permanent
    assert caught.value.status == 535
    assert "refused the login" in caught.value.message
    assert smtp_server.handler.received == []


def test_a_refused_mailbox_is_permanent_and_carries_the_servers_words(
    smtp_server: SmtpServer, tls_cert: Cert
):
    smtp_server.handler.rcpt_reply[CITIZEN] = "550 5.1.1 No such user here"
    with pytest.raises(ConnectorError) as caught:
        make_provider(smtp_server, tls_cert).send_message(CITIZEN, "hello")
    assert caught.value.permanent
    assert caught.value.status == 550
    assert "No such user here" in caught.value.message


def test_a_full_mailbox_is_temporary(smtp_server: SmtpServer, tls_cert: Cert):
    smtp_server.handler.rcpt_reply[CITIZEN] = "452 4.2.2 Mailbox full, try later"
    with pytest.raises(ConnectorError) as caught:
        make_provider(smtp_server, tls_cert).send_message(CITIZEN, "hello")
    assert not caught.value.permanent
    assert caught.value.status == 452


def test_a_server_busy_at_data_is_temporary(smtp_server: SmtpServer, tls_cert: Cert):
    smtp_server.handler.data_reply = "451 4.3.0 Temporary local problem"
    with pytest.raises(ConnectorError) as caught:
        make_provider(smtp_server, tls_cert).send_message(CITIZEN, "hello")
    assert not caught.value.permanent
    assert "Temporary local problem" in caught.value.message


def test_a_message_over_the_servers_size_limit_is_refused_permanently(
    smtp_server: SmtpServer, tls_cert: Cert
):
    big = OutboundPost(
        text="x", media=[Media(data=b"\0" * 300_000, mime_type="image/jpeg", alt_text="photo")]
    )
    with pytest.raises(ConnectorError) as caught:
        make_provider(smtp_server, tls_cert).publish(big)
    assert caught.value.permanent
    assert caught.value.status == 552
    assert smtp_server.handler.received == []


def test_a_message_over_our_own_limit_is_refused_before_connecting(tls_cert: Cert):
    server = SmtpServer("127.0.0.1", free_port(), handler=None, mode="starttls")  # type: ignore[arg-type]
    provider = make_provider(server, tls_cert, max_message_bytes=4096)
    with pytest.raises(ConnectorError) as caught:
        provider.send_message(CITIZEN, "x" * 10_000)
    assert caught.value.permanent
    assert "over this mailbox's limit of 4096" in caught.value.message


def test_an_untrusted_certificate_is_permanent(smtp_server: SmtpServer, tls_cert: Cert):
    provider = make_provider(smtp_server, tls_cert, ca_file=None)
    with pytest.raises(ConnectorError) as caught:
        provider.send_message(CITIZEN, "hello")
    assert caught.value.permanent
    assert "certificate is not trusted" in caught.value.message


def test_a_server_that_is_down_is_temporary(tls_cert: Cert):
    server = SmtpServer("127.0.0.1", free_port(), handler=None, mode="starttls")  # type: ignore[arg-type]
    with pytest.raises(ConnectorError) as caught:
        make_provider(server, tls_cert).send_message(CITIZEN, "hello")
    assert not caught.value.permanent
    assert "cannot reach the SMTP server" in caught.value.message


def test_a_password_is_never_sent_in_clear_to_another_machine(tls_cert: Cert):
    server = SmtpServer("mail.example.org", 25, handler=None, mode="none")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="without TLS"):
        make_provider(server, tls_cert).send_message(CITIZEN, "hello")


def test_a_bad_recipient_address_is_refused_clearly(smtp_server: SmtpServer, tls_cert: Cert):
    with pytest.raises(ConnectorError, match="is not an e-mail address") as caught:
        make_provider(smtp_server, tls_cert).send_message("not an address", "hello")
    assert caught.value.permanent


def test_bad_configuration_names_the_field():
    with pytest.raises(ConfigError, match="address") as caught:
        EmailProvider({"address": "nobody", "smtp_host": "mail.example.org"}, {})
    assert "not an e-mail address" in caught.value.message
    with pytest.raises(ConfigError, match="smtp_security"):
        EmailProvider({"address": USER, "smtp_host": "h", "smtp_security": "tls1.0"}, {})


def test_publishing_without_lists_says_so(smtp_server: SmtpServer, tls_cert: Cert):
    with pytest.raises(ConfigError, match="publish_to"):
        make_provider(smtp_server, tls_cert, publish_to=[]).publish(OutboundPost(text="hello"))


def test_verify_credentials_names_the_mailbox(smtp_server: SmtpServer, tls_cert: Cert):
    info = make_provider(smtp_server, tls_cert).verify_credentials()
    assert info.handle == USER
    assert info.display_name == "Embassy of Ruritania"
