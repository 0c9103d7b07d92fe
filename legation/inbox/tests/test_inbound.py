"""Inbound: pulls with stored cursors (exactly once across interruptions), permanent failures, webhooks."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from legation.connectors.base import OutboundPost
from legation.connectors.sandbox.provider import SandboxProvider
from legation.inbox import services as inbox
from legation.inbox.models import InboundMessage, PullCursor
from legation.network import services
from legation.records.models import Record
from legation.sandbox import services as sandbox


@pytest.fixture
def second_admin(tree, alice):
    return services.create_person(alice, unit=tree.ministry, username="dora", role="admin",
                                  email="dora@mfa.example")


@pytest.fixture
def embassy(tree, alice, second_admin):
    account = services.register_account(alice, unit=tree.paris, platform="sandbox", handle="@VeridiaFR")
    services.approve_account(second_admin, account)
    sandbox.connect_official_account(alice, account)
    account.refresh_from_db()
    return account


def _provider(account):
    return SandboxProvider({}, services.read_credentials(account))


def test_publish_edit_delete_through_the_provider(embassy):
    provider = _provider(embassy)
    delivered = provider.publish(OutboundPost(text="Bonjour #visa", idempotency_key="post-1/acct"))
    again = provider.publish(OutboundPost(text="Bonjour #visa", idempotency_key="post-1/acct"))
    assert again.external_id == delivered.external_id  # the platform honours the idempotency key
    assert delivered.url == f"/sandbox/posts/{delivered.external_id}/"
    provider.edit(delivered.external_id, OutboundPost(text="Bonjour à tous #visa"))
    assert provider.pull_timeline(None).items[0].text == "Bonjour à tous #visa"
    provider.delete(delivered.external_id)
    assert provider.pull_timeline(None).items == []


def test_replies_arrive_through_a_pull_once(embassy):
    post = _provider(embassy).publish(OutboundPost(text="Consular hours today: 9-12"))
    amal = sandbox.join("@amal")
    from legation.sandbox.models import Post

    sandbox.post(amal, "Is the consulate open tomorrow?", reply_to=Post.objects.get(pk=post.external_id))
    sandbox.post(amal, "@VeridiaFR hello from Lyon")
    first = inbox.pull(embassy, "mentions")
    assert first.stored == 2
    assert inbox.pull(embassy, "mentions").stored == 0  # nothing is read twice
    texts = sorted(InboundMessage.objects.filter(account=embassy).values_list("text", flat=True))
    assert texts == ["@VeridiaFR hello from Lyon", "Is the consulate open tomorrow?"]


def test_an_interrupted_pull_resumes_and_reads_everything_exactly_once(embassy, monkeypatch):
    crowd = [sandbox.join(f"@citizen{i}") for i in range(7)]
    for i, member in enumerate(crowd):
        sandbox.post(member, f"@VeridiaFR message {i}")
    inbox.pull(embassy, "mentions", limit=3)  # first page stored, cursor advanced
    real_store = inbox.store_items

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed between fetch and commit")

    monkeypatch.setattr(inbox, "store_items", crash)
    with pytest.raises(RuntimeError):
        inbox.pull(embassy, "mentions", limit=3)
    monkeypatch.setattr(inbox, "store_items", real_store)
    sandbox.post(crowd[0], "@VeridiaFR arrived meanwhile")
    inbox.pull_all(embassy, "mentions", limit=3)
    texts = list(InboundMessage.objects.filter(account=embassy).values_list("text", flat=True))
    assert len(texts) == len(set(texts)) == 8
    assert "@VeridiaFR arrived meanwhile" in texts


def test_a_revoked_token_suspends_the_account_and_tells_its_admins(embassy):
    from legation.sandbox.models import Member

    Member.objects.filter(handle="@VeridiaFR").update(token="sbx_rotated_by_the_platform")
    with pytest.raises(Exception, match="invalid or revoked token"):
        inbox.pull(embassy, "mentions")
    embassy.refresh_from_db()
    assert embassy.status == "suspended"
    assert "invalid or revoked token" in embassy.last_error
    assert Record.objects.filter(action="account.error", object_id=str(embassy.pk)).exists()
    assert [m.to for m in mail.outbox] == [["dora@mfa.example"]]
    assert "needs attention" in mail.outbox[0].subject


def test_a_temporary_failure_backs_off(embassy, monkeypatch):
    from legation.connectors.base import ConnectorError

    def busy(self, cursor, limit=100):
        raise ConnectorError("slow down", retry_after=120)

    monkeypatch.setattr(SandboxProvider, "pull_mentions", busy)
    with pytest.raises(ConnectorError):
        inbox.pull(embassy, "mentions")
    state = PullCursor.objects.get(account=embassy, stream="mentions")
    assert state.failures == 1 and state.last_error == "slow down" and state.next_pull_at is not None
    embassy.refresh_from_db()
    assert embassy.status == "active"


@pytest.fixture
def telegram(tree, alice, second_admin):
    account = services.register_account(alice, unit=tree.paris, platform="telegram", handle="@veridia_paris_bot")
    services.approve_account(second_admin, account)
    services.set_credentials(alice, account, {"bot_token": "123:abc", "webhook_secret": "s3cret-s3cret"})
    return account


UPDATE = {"update_id": 9001, "message": {"message_id": 7, "date": 1767225600, "text": "I need a visa appointment",
                                         "chat": {"id": 42, "type": "private"},
                                         "from": {"id": 42, "is_bot": False, "first_name": "Amal"}}}


def test_webhook_signature_checked_and_replays_stored_once(client, telegram):
    url = f"/hooks/{telegram.webhook_key}/"
    body = json.dumps(UPDATE)
    missing = client.post(url, data=body, content_type="application/json")
    wrong = client.post(url, data=body, content_type="application/json",
                        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="guess")
    assert missing.status_code == 403 and wrong.status_code == 403
    ok = client.post(url, data=body, content_type="application/json",
                     HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="s3cret-s3cret")
    replay = client.post(url, data=body, content_type="application/json",
                         HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="s3cret-s3cret")
    assert ok.status_code == 200 and replay.status_code == 200
    stored = InboundMessage.objects.filter(account=telegram)
    assert [m.text for m in stored] == ["I need a visa appointment"]
    assert client.post("/hooks/not-a-key/", data=body, content_type="application/json").status_code == 404
    broken = client.post(url, data="{not json", content_type="application/json",
                         HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="s3cret-s3cret")
    assert 400 <= broken.status_code < 500


def test_a_setting_the_provider_learns_is_kept_for_the_next_call(tree, alice, second_admin, httpserver):
    """Mastodon looks up the account's own id once; it is stored in the account's config, not asked again."""
    from legation.connectors.http import allow_private_hosts
    from legation.network import connections

    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(
        {"id": "109", "username": "veridia", "acct": "veridia", "display_name": "Veridia"})
    httpserver.expect_request("/api/v1/accounts/109/statuses").respond_with_json([])
    httpserver.expect_request("/api/v1/instance").respond_with_json({"version": "4.3.0", "uri": "localhost"})
    httpserver.expect_request("/api/v2/instance").respond_with_json({"version": "4.3.0", "domain": "localhost"})
    account = services.register_account(alice, unit=tree.paris, platform="mastodon", handle="@veridia@local",
                                        config={"api_base_url": httpserver.url_for("/").rstrip("/")})
    services.approve_account(second_admin, account)
    services.set_credentials(alice, account, {"access_token": "tok-1234567890abcdef"})
    with allow_private_hosts("127.0.0.1", "localhost"):
        connections.call(account, lambda p: p.pull_timeline(None, 10))
        account.refresh_from_db()
        assert account.config["account_id"] == "109"
        lookups = sum(1 for req, _ in httpserver.log if req.path.endswith("verify_credentials"))
        connections.call(account, lambda p: p.pull_timeline(None, 10))
    assert sum(1 for req, _ in httpserver.log if req.path.endswith("verify_credentials")) == lookups
    assert Record.objects.filter(action="account.config_learned", object_id=str(account.pk)).count() == 1
