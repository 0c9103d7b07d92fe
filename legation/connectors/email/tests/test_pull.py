"""Reading a mailbox on a real Dovecot IMAP server with a UIDVALIDITY + UID cursor."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from legation.connectors.base import ConnectorError, InboundItem
from legation.connectors.email.provider import EmailProvider
from legation.connectors.email.tests.conftest import PASSWORD, USER, Dovecot
from legation.connectors.testing import drain

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
_folders = itertools.count()


@pytest.fixture
def folder(dovecot: Dovecot) -> str:
    """A fresh folder per test, so tests sharing one Dovecot never see each other's mail."""
    name = f"Test{next(_folders)}"
    admin = dovecot.admin()
    try:
        typ, data = admin.create(name)
        assert typ == "OK", data
    finally:
        admin.logout()
    return name


def make_provider(
    dovecot: Dovecot, folder: str, *, password: str = PASSWORD, **overrides: object
) -> EmailProvider:
    config: dict[str, object] = {
        "address": USER,
        "smtp_host": "127.0.0.1",
        "imap_host": dovecot.host,
        "imap_port": dovecot.ssl_port,
        "imap_security": "ssl",
        "imap_folder": folder,
        "ca_file": dovecot.cert.certfile,
    }
    config.update(overrides)
    return EmailProvider(config, {"username": USER, "password": password})


def plain(n: int, **headers: str) -> bytes:
    msg = EmailMessage()
    msg.set_content(f"Message number {n}")
    msg["From"] = headers.pop("From", f"Citizen {n} <citizen{n}@example.org>")
    msg["To"] = USER
    msg["Subject"] = headers.pop("Subject", f"Question {n}")
    msg["Message-ID"] = headers.pop("Message_ID", f"<q{n}@example.org>")
    msg["Date"] = "Mon, 03 Mar 2025 10:00:00 +0100"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg.as_bytes()


def test_a_plain_message_becomes_an_inbox_item(dovecot: Dovecot, folder: str):
    dovecot.deliver(plain(1, Content_Language="fr"), folder)

    page = make_provider(dovecot, folder).pull_messages(None)

    [item] = page.items
    assert item.platform == "email"
    assert item.kind == "email"
    assert item.external_id == "q1@example.org"
    assert item.author_id == "citizen1@example.org"
    assert item.author_name == "Citizen 1"
    assert item.text == "Message number 1"
    assert item.created_at == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert item.language == "fr"
    assert item.raw["subject"] == "Question 1"
    assert item.conversation_id == "q1@example.org"
    assert not page.has_more


def test_an_html_only_message_is_read_as_plain_text_without_scripts(dovecot: Dovecot, folder: str):
    dovecot.deliver((FIXTURES / "html_only.eml").read_bytes(), folder)

    [item] = make_provider(dovecot, folder).pull_messages(None).items

    assert (
        item.text
        == "Help needed\n\nWe are 4 people at the Hotel Splendide & need to leave.\nCall +44 20 7946 0000"
    )
    assert "alert" not in item.text
    assert "color" not in item.text


def test_a_reply_keeps_its_thread(dovecot: Dovecot, folder: str):
    dovecot.deliver((FIXTURES / "reply.eml").read_bytes(), folder)

    [item] = make_provider(dovecot, folder).pull_messages(None).items

    assert item.in_reply_to == "reply1.legation@mission.example"
    assert item.conversation_id == "root@example.org"
    assert item.raw["references"] == ["root@example.org", "reply1.legation@mission.example"]
    # Quoted history stays in the text; the attachment is listed, not inlined.
    assert item.text.startswith("Thank you, we are now at the border.")
    assert item.raw["attachments"] == [{"filename": "passport.jpg", "mime_type": "image/jpeg", "size": 9}]


def test_a_broken_message_is_read_rather_than_lost(dovecot: Dovecot, folder: str):
    raw = (FIXTURES / "broken.eml").read_bytes()
    dovecot.deliver(raw, folder)
    provider = make_provider(dovecot, folder)

    [item] = provider.pull_messages(None).items

    # No Message-ID: the id is derived from the content, so reading it again gives the same id.
    assert item.external_id.startswith("sha256-") and item.external_id.endswith("@legation.invalid")
    assert item.author_id == "someone@example.org"
    assert "Bonjour" in item.text
    assert "\ufffd" in item.text  # the bytes that were not valid in the declared charset
    assert item.created_at is None
    [again] = provider.pull_messages(None).items
    assert again.external_id == item.external_id


def test_an_oversized_message_is_reported_with_its_headers(dovecot: Dovecot, folder: str):
    dovecot.deliver(plain(1) + b"\n" + b"A" * 50_000, folder)
    dovecot.deliver(plain(2), folder)

    items = make_provider(dovecot, folder, max_message_bytes=4096).pull_messages(None).items

    assert [i.external_id for i in items] == ["q1@example.org", "q2@example.org"]
    assert items[0].raw["truncated"] is True
    assert items[0].raw["subject"] == "Question 1"
    assert "over the size limit" in items[0].text
    assert items[1].text == "Message number 2"


def test_an_interrupted_pull_resumes_and_reads_every_message_exactly_once(
    dovecot: Dovecot, folder: str, monkeypatch: pytest.MonkeyPatch
):
    for n in range(7):
        dovecot.deliver(plain(n), folder)
    provider = make_provider(dovecot, folder)

    first = provider.pull_messages(None, limit=3)
    assert [i.external_id for i in first.items] == ["q0@example.org", "q1@example.org", "q2@example.org"]
    assert first.has_more

    # The worker dies on the second message of the next batch: no page, so the stored cursor stays put.
    original = EmailProvider._fetch_message
    calls = itertools.count()

    def dying_fetch(self: EmailProvider, imap, uid: int, validity: int) -> InboundItem:  # noqa: ANN001
        if next(calls) == 1:
            raise ConnectorError("connection reset")
        return original(self, imap, uid, validity)

    monkeypatch.setattr(EmailProvider, "_fetch_message", dying_fetch)
    with pytest.raises(ConnectorError):
        provider.pull_messages(first.cursor, limit=3)
    monkeypatch.undo()

    dovecot.deliver(plain(7), folder)  # arrives while the worker is down
    rest, cursor = drain(provider.pull_messages, first.cursor, limit=3)

    seen = [i.external_id for i in first.items + rest]
    assert seen == [f"q{n}@example.org" for n in range(8)]
    assert provider.pull_messages(cursor).items == []


def test_reading_leaves_messages_unread_for_the_people_using_the_mailbox(dovecot: Dovecot, folder: str):
    dovecot.deliver(plain(1), folder)
    make_provider(dovecot, folder).pull_messages(None)

    admin = dovecot.admin()
    try:
        admin.select(folder, readonly=True)
        typ, data = admin.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
    finally:
        admin.logout()
    assert typ == "OK"
    assert data[0].split() == [b"1"]


def test_a_recreated_folder_is_read_again_from_the_start(dovecot: Dovecot, folder: str):
    dovecot.deliver(plain(1), folder)
    provider = make_provider(dovecot, folder)
    page = provider.pull_messages(None)
    old_validity = json.loads(page.cursor or "")["uidvalidity"]

    admin = dovecot.admin()
    try:
        assert admin.delete(folder)[0] == "OK"
        assert admin.create(folder)[0] == "OK"
    finally:
        admin.logout()
    dovecot.deliver(plain(1), folder)  # the same message, restored from a backup
    dovecot.deliver(plain(2), folder)

    after = provider.pull_messages(page.cursor)

    assert json.loads(after.cursor or "")["uidvalidity"] != old_validity
    # UIDs restarted at 1; the Message-ID lets the store drop the copy it already has.
    assert [i.external_id for i in after.items] == ["q1@example.org", "q2@example.org"]


def test_starttls_on_the_plain_port_works(dovecot: Dovecot, folder: str):
    dovecot.deliver(plain(1), folder)
    provider = make_provider(dovecot, folder, imap_port=dovecot.port, imap_security="starttls")
    assert [i.external_id for i in provider.pull_messages(None).items] == ["q1@example.org"]


def test_a_wrong_password_is_permanent(dovecot: Dovecot, folder: str):
    with pytest.raises(ConnectorError) as caught:
        make_provider(dovecot, folder, password="wrong").pull_messages(None)
    assert caught.value.permanent
    assert caught.value.status == 401
    assert "AUTHENTICATIONFAILED" in caught.value.message


def test_a_missing_folder_is_permanent_and_named(dovecot: Dovecot):
    with pytest.raises(ConnectorError) as caught:
        make_provider(dovecot, "NoSuchFolder").pull_messages(None)
    assert caught.value.permanent
    assert "NoSuchFolder" in caught.value.message


def test_a_malformed_cursor_is_refused_clearly(dovecot: Dovecot, folder: str):
    with pytest.raises(ConnectorError, match="cursor is malformed") as caught:
        make_provider(dovecot, folder).pull_messages("uid=12")
    assert caught.value.permanent
