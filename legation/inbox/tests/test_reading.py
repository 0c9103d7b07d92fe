"""Every message that reaches an official account is read by the offline models' accurate tier, in the worker."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from legation import nlp
from legation.inbox import services as inbox
from legation.inbox.models import InboundMessage
from legation.inbox.tasks import pull_account_stream, read_new_messages
from legation.network import services
from legation.sandbox import services as sandbox

STRANDED = "@VeridiaFR نحن ٣٠ شخصا عالقون في ميناء مصراتة ونحتاج إلى الماء"
THANKS = "@VeridiaFR Merci pour votre accueil au consulat, très bon service"


@pytest.fixture
def embassy(tree, alice):
    second = services.create_person(alice, unit=tree.ministry, username="dora", role="admin")
    account = services.register_account(alice, unit=tree.paris, platform="sandbox", handle="@VeridiaFR")
    services.approve_account(second, account)
    sandbox.connect_official_account(alice, account)
    account.refresh_from_db()
    return account


def _read_tasks_waiting() -> int:
    return DBTaskResult.objects.filter(task_path=read_new_messages.module_path, status="READY").count()


def test_a_pull_that_stores_messages_has_the_models_read_them_with_the_accurate_tier(embassy):
    citizen = sandbox.join("@amal")
    sandbox.post(citizen, STRANDED)
    sandbox.post(citizen, THANKS)
    assert pull_account_stream.call(embassy.pk, "mentions") == {"stored": 2}
    assert _read_tasks_waiting() == 1  # the pull asked the worker to read what it stored
    assert list(InboundMessage.objects.values_list("read_at", flat=True)) == [None, None]

    assert read_new_messages.call() == 2
    expected = {r_text: r for r_text, r in zip((STRANDED, THANKS), nlp.enrich([STRANDED, THANKS], tier="accurate"),
                                               strict=True)}
    for message in InboundMessage.objects.all():
        reading = expected[message.text]
        assert message.read_at is not None
        assert (message.language, message.sentiment, message.crisis_category) == (
            reading.language, reading.sentiment, reading.crisis_category)
        assert message.needs == reading.needs and message.phones == reading.phone_numbers
    stranded = InboundMessage.objects.get(text=STRANDED)
    # Thirty people stranded at the port of Misratah, who need water: what the consular officer must see.
    assert stranded.crisis_category == "requests_or_urgent_needs"
    assert stranded.countries == ",LY," and stranded.places[0]["name"] == "Misratah"
    assert stranded.head_count == 30 and "water" in stranded.needs
    assert read_new_messages.call() == 0  # each message is read once


def test_the_platform_language_is_kept_and_hard_texts_do_not_stop_the_batch(embassy):
    inbox.store_items(embassy, "messages", [
        _item("1", "Hola, necesito un visado", language="es-MX"),
        _item("2", ""),
        _item("3", "\x00\x01\x02" * 1000),
        _item("4", "a" * 1_100_000),
        _item("5", "\ud800 lone surrogate, help at the port of Benghazi"),
    ])
    assert read_new_messages.call() == 5
    by_id = {m.external_id: m for m in InboundMessage.objects.all()}
    assert by_id["1"].language == "es-MX"  # what the platform said stays
    assert by_id["5"].countries == ",LY,"
    assert all(m.read_at is not None for m in by_id.values())


def test_a_signed_telegram_message_is_read_by_the_worker_not_the_web_request(client, tree, alice, embassy):
    import json

    telegram = services.register_account(alice, unit=tree.paris, platform="telegram", handle="@veridia_paris_bot")
    services.approve_account(services.create_person(alice, unit=tree.ministry, username="ed", role="admin"),
                             telegram)
    services.set_credentials(alice, telegram, {"bot_token": "123:abc", "webhook_secret": "s3cret-s3cret"})
    update = {"update_id": 9001, "message": {"message_id": 7, "date": 1767225600, "text": STRANDED,
                                             "chat": {"id": 42, "type": "private"},
                                             "from": {"id": 42, "is_bot": False, "first_name": "Amal"}}}
    response = client.post(f"/hooks/{telegram.webhook_key}/", data=json.dumps(update),
                           content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="s3cret-s3cret")
    assert response.status_code == 200
    message = InboundMessage.objects.get(account=telegram)
    assert message.read_at is None and _read_tasks_waiting() == 1
    read_new_messages.call()
    message.refresh_from_db()
    assert message.crisis_category == "requests_or_urgent_needs" and message.head_count == 30


def test_the_inbox_shows_what_the_models_read_and_filters_by_category(client, tree, alice, embassy):
    citizen = sandbox.join("@amal")
    sandbox.post(citizen, STRANDED)
    sandbox.post(citizen, THANKS)
    inbox.pull(embassy, "mentions")
    client.force_login(alice)
    assert "Not read yet" in client.get("/inbox/").content.decode()
    read_new_messages.call()
    html = client.get("/inbox/").content.decode()
    assert "Requests or urgent needs" in html and "Misratah (LY)" in html and "30 people" in html
    urgent = client.get("/inbox/", {"category": "requests_or_urgent_needs"}).content.decode()
    assert "مصراتة" in urgent and "Merci pour votre accueil" not in urgent
    assert "Merci pour votre accueil" in client.get("/inbox/", {"category": "bogus"}).content.decode()


def _item(external_id: str, text: str, language: str | None = None):
    from legation.connectors.base import InboundItem

    return InboundItem(platform="sandbox", external_id=external_id, kind="message", text=text, author_id="u1",
                       language=language)


def test_a_message_the_models_cannot_read_does_not_hold_up_the_others(embassy, monkeypatch):
    from legation.inbox import services as inbox_services

    real = inbox_services.enrich_batch

    def fragile(texts, tier="fast"):
        if any("poison" in text for text in texts):
            raise MemoryError("the models gave up")
        return real(texts, tier=tier)

    monkeypatch.setattr(inbox_services, "enrich_batch", fragile)
    inbox.store_items(embassy, "messages", [_item("1", "poison pill"), _item("2", STRANDED), _item("3", THANKS)])
    assert read_new_messages.call() == 3
    by_id = {m.external_id: m for m in InboundMessage.objects.all()}
    assert all(m.read_at is not None for m in by_id.values())  # nothing stays in the queue to block it
    assert by_id["1"].crisis_category == "" and by_id["2"].crisis_category == "requests_or_urgent_needs"
    assert read_new_messages.call() == 0
