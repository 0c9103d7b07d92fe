"""Publishing: drafts in several languages, devolved clearance, delivery exactly once, corrections, lockdown."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from legation.network import services as network
from legation.publishing import delivery, services
from legation.publishing.models import Delivery, Post, UnauthorisedPost
from legation.publishing.services import VariantInput
from legation.records.models import Record
from legation.sandbox.models import Post as SandboxPost


def _draft(actor, unit, accounts, fr="Bonjour à tous", en="Hello everyone", **kwargs):
    return services.create_post(
        actor, unit=unit, source_language="fr",
        variants=[VariantInput("fr", fr), VariantInput("en", en)],
        targets=[(accounts[0], "fr"), (accounts[1], "en")], **kwargs)


def _on_sandbox(account):
    return list(SandboxPost.objects.filter(author__handle=account.handle, deleted_at__isnull=True)
                .values_list("text", flat=True))


def test_a_publisher_publishes_in_two_languages_to_two_accounts(tree, bob, paris_accounts):
    post = _draft(bob, tree.paris, paris_accounts)
    post = services.submit(bob, post)
    assert post.status == "publishing"  # devolved: no rule asked for clearance
    assert delivery.run_due() == {"delivered": 2}
    post.refresh_from_db()
    assert post.status == "published"
    assert _on_sandbox(paris_accounts[0]) == ["Bonjour à tous"]
    assert _on_sandbox(paris_accounts[1]) == ["Hello everyone"]
    urls = set(post.deliveries.values_list("url", flat=True))
    assert all(u.startswith("/sandbox/posts/") for u in urls) and len(urls) == 2
    actions = list(Record.objects.filter(object_type="publishing.post", object_id=str(post.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["post.drafted", "post.submitted", "post.released", "delivery.publish_delivered",
                       "delivery.publish_delivered"]


def test_an_editor_needs_a_publisher_and_cannot_clear_their_own(tree, editor, bob, paris_accounts):
    post = services.submit(editor, _draft(editor, tree.paris, paris_accounts))
    assert post.status == "awaiting_clearance"
    (clearance,) = services.pending_clearances(post)
    assert clearance.role == "publisher" and clearance.unit == tree.paris
    with pytest.raises(PermissionDenied):
        services.clear(editor, clearance)
    assert delivery.run_due() == {}
    post = services.clear(bob, clearance)
    assert post.status == "publishing"
    assert delivery.run_due() == {"delivered": 2}


def test_an_edit_after_clearance_voids_it(tree, editor, bob, paris_accounts):
    post = services.submit(editor, _draft(editor, tree.paris, paris_accounts, scheduled_for=timezone.now()
                                          + timedelta(days=1)))
    services.clear(bob, services.pending_clearances(post)[0])
    post.refresh_from_db()
    assert post.status == "scheduled"
    post = services.update_post(editor, post, source_language="fr",
                                variants=[VariantInput("fr", "Bonjour, changé"), VariantInput("en", "Hello")],
                                targets=[(paris_accounts[0], "fr")])
    assert Delivery.objects.filter(post=post, status="cancelled").count() == 2
    post = services.submit(editor, post)
    assert post.status == "awaiting_clearance"
    assert len(services.pending_clearances(post)) == 1  # the old clearance no longer counts


def test_scheduled_posts_wait_for_their_time(tree, bob, paris_accounts):
    post = services.submit(bob, _draft(bob, tree.paris, paris_accounts,
                                       scheduled_for=timezone.now() + timedelta(hours=2)))
    assert post.status == "scheduled"
    assert delivery.run_due() == {}
    Delivery.objects.filter(post=post).update(not_before=timezone.now() - timedelta(seconds=1))
    assert delivery.run_due() == {"delivered": 2}


def test_a_dead_workers_delivery_is_sent_once(tree, bob, paris_accounts):
    """The worker took the delivery and the platform accepted it, then the worker died before recording it."""
    post = services.submit(bob, _draft(bob, tree.paris, paris_accounts))
    first = Delivery.objects.filter(post=post).order_by("id").first()
    claimed = delivery.claim(first.pk)
    provider = network_provider(claimed.account)
    provider.publish(delivery_outbound(claimed))  # reached the platform, never recorded
    Delivery.objects.filter(pk=first.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert delivery.run_due() == {"delivered": 2}
    assert _on_sandbox(paris_accounts[0]) == ["Bonjour à tous"]


def test_without_platform_idempotency_the_timeline_prevents_a_duplicate(tree, bob, paris_accounts, monkeypatch):
    from legation.sandbox import network as sandbox_api

    real = sandbox_api.create_post
    monkeypatch.setattr(sandbox_api, "create_post",
                        lambda token, text, **kw: real(token, text, **{**kw, "idempotency_key": ""}))
    post = services.submit(bob, _draft(bob, tree.paris, paris_accounts))
    first = Delivery.objects.filter(post=post).order_by("id").first()
    claimed = delivery.claim(first.pk)
    network_provider(claimed.account).publish(delivery_outbound(claimed))
    Delivery.objects.filter(pk=first.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    delivery.run_due()
    assert _on_sandbox(paris_accounts[0]) == ["Bonjour à tous"]
    first.refresh_from_db()
    assert first.status == "delivered" and first.attempts == 2


def test_temporary_failures_retry_and_permanent_ones_tell_the_author(tree, editor, bob, paris_accounts, monkeypatch):
    from legation.connectors.base import ConnectorError
    from legation.connectors.sandbox.provider import SandboxProvider

    calls = {"n": 0}
    real = SandboxProvider.publish

    def flaky(self, post):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectorError("rate limited", retry_after=30)
        return real(self, post)

    monkeypatch.setattr(SandboxProvider, "publish", flaky)
    post = services.submit(editor, _draft(editor, tree.paris, paris_accounts))
    services.clear(bob, services.pending_clearances(post)[0])
    outcome = delivery.run_due()
    assert outcome == {"pending": 1, "delivered": 1}
    waiting = Delivery.objects.get(post=post, status="pending")
    assert waiting.not_before > timezone.now() + timedelta(seconds=25)
    Delivery.objects.filter(pk=waiting.pk).update(not_before=timezone.now())
    assert delivery.run_due() == {"delivered": 1}

    def refused(self, post):
        raise ConnectorError("text refused by the platform", permanent=True)

    monkeypatch.setattr(SandboxProvider, "publish", refused)
    post2 = services.submit(editor, _draft(editor, tree.paris, paris_accounts, fr="Deux", en="Two"))
    services.clear(bob, services.pending_clearances(post2)[0])
    assert delivery.run_due() == {"failed": 2}
    post2.refresh_from_db()
    assert post2.status == "failed"
    assert any(m.to == ["eve@mfa.example"] and "failed" in m.subject for m in mail.outbox)


def test_locking_an_account_and_pausing_a_unit_hold_deliveries(tree, alice, bob, paris_accounts):
    post = services.submit(bob, _draft(bob, tree.paris, paris_accounts))
    network.lock_account(alice, paris_accounts[0], reason="phished")
    services.pause_publishing(alice, tree.europe, reason="incident")
    assert delivery.run_due() == {"held": 2}
    services.resume_publishing(alice, tree.europe)
    assert delivery.run_due() == {"held": 1, "delivered": 1}  # the locked account stays held
    assert _on_sandbox(paris_accounts[0]) == []
    post.refresh_from_db()
    assert post.status == "publishing"


def test_a_correction_follows_the_post_to_every_account(tree, bob, paris_accounts):
    post = services.submit(bob, _draft(bob, tree.paris, paris_accounts))
    delivery.run_due()
    services.correct(bob, post, texts={"fr": "Bonjour à toutes et à tous", "en": "Hello all"}, mode="edit")
    assert delivery.run_due() == {"delivered": 2}
    assert _on_sandbox(paris_accounts[0]) == ["Bonjour à toutes et à tous"]
    assert _on_sandbox(paris_accounts[1]) == ["Hello all"]
    services.correct(bob, post, texts={"fr": "Correctif : 10h", "en": "Correction: 10am"}, mode="reply")
    delivery.run_due()
    replies = SandboxPost.objects.filter(author__handle=paris_accounts[1].handle, reply_to__isnull=False)
    assert [r.text for r in replies] == ["Correction: 10am"]
    services.retract(bob, post, reason="wrong date")
    delivery.run_due()
    assert _on_sandbox(paris_accounts[0]) == []
    post.refresh_from_db()
    assert post.status == "retracted"
    assert Record.objects.filter(action="post.retracted", object_id=str(post.pk)).exists()


def test_a_post_that_did_not_come_through_legation_raises_an_alert(tree, alice, bob, paris_accounts):
    from legation.inbox import services as inbox
    from legation.sandbox import network as sandbox_api

    services.submit(bob, _draft(bob, tree.paris, paris_accounts))
    delivery.run_due()
    token = network.read_credentials(paris_accounts[0])["access_token"]
    sandbox_api.create_post(token, "Unauthorised statement about the summit")
    alice.email = "alice@mfa.example"
    alice.save()
    inbox.pull(paris_accounts[0], "timeline")
    (alert,) = UnauthorisedPost.objects.filter(account=paris_accounts[0])
    assert alert.text == "Unauthorised statement about the summit"
    assert any("did not come through Legation" in m.subject for m in mail.outbox)
    inbox.pull(paris_accounts[0], "timeline")
    assert UnauthorisedPost.objects.count() == 1


def test_bad_input_is_refused_with_the_reason(tree, bob, charlie, paris_accounts):
    with pytest.raises(ValidationError, match="empty"):
        services.create_post(bob, unit=tree.paris, source_language="fr", variants=[VariantInput("fr", "  ")],
                             targets=[(paris_accounts[0], "fr")])
    with pytest.raises(ValidationError, match="lacks"):
        services.create_post(bob, unit=tree.paris, source_language="fr", variants=[VariantInput("fr", "Salut")],
                             targets=[(paris_accounts[0], "de")])
    with pytest.raises(PermissionDenied):
        services.create_post(charlie, unit=tree.paris, source_language="fr",
                             variants=[VariantInput("fr", "Salut")], targets=[(paris_accounts[0], "fr")])
    assert Post.objects.count() == 0


def test_a_blocked_submission_stays_on_the_ledger_with_its_findings(tree, alice, bob, paris_accounts):
    from legation.guidance import services as guidance

    guidance.create_rule(alice, unit=tree.europe, kind="blocked_terms", name="Europe words",
                         config={"terms": ["propaganda"]})
    post = services.create_post(bob, unit=tree.paris, source_language="fr",
                                variants=[VariantInput("fr", "Pure propaganda")], targets=[(paris_accounts[0], "fr")])
    with pytest.raises(ValidationError, match="propaganda"):
        services.submit(bob, post)
    post.refresh_from_db()
    assert post.status == "draft"
    assert [f["rule"] for f in post.findings] == ["Europe words"]
    blocked = Record.objects.filter(action="post.blocked", object_id=str(post.pk))
    assert blocked.count() == 1
    assert json.loads(blocked.get().payload)["findings"][0]["rule"] == "Europe words"


def network_provider(account):
    from legation.network.connections import provider_for

    return provider_for(account)


def delivery_outbound(claimed):
    from legation.connectors.base import OutboundPost

    return OutboundPost(text=claimed.text, idempotency_key=claimed.idempotency_key)


def test_pause_and_unauthorised_posts_in_the_ui(client, tree, alice, bob, paris_accounts):
    from legation.inbox import services as inbox
    from legation.sandbox import network as sandbox_api

    client.force_login(alice)
    response = client.post(f"/units/{tree.europe.pk}/", {"pause_publishing": "1", "reason": "incident"})
    assert response.status_code == 302
    page = client.get(f"/units/{tree.paris.pk}/").content.decode()
    assert "Publishing" in page
    services.submit(bob, _draft(bob, tree.paris, paris_accounts))
    assert delivery.run_due() == {"held": 2}
    client.post(f"/units/{tree.europe.pk}/", {"resume_publishing": "1"})
    assert delivery.run_due() == {"delivered": 2}

    token = network.read_credentials(paris_accounts[0])["access_token"]
    sandbox_api.create_post(token, "Posted straight on the platform")
    inbox.pull(paris_accounts[0], "timeline")
    assert "Posted straight on the platform" in client.get("/").content.decode()
    account_page = client.get(f"/accounts/{paris_accounts[0].pk}/").content.decode()
    assert "did not come through Legation" in account_page
    item = UnauthorisedPost.objects.get()
    client.post(f"/accounts/{paris_accounts[0].pk}/", {"acknowledge": str(item.pk)})
    item.refresh_from_db()
    assert item.acknowledged_by == alice
    assert Record.objects.filter(action="account.unauthorised_post_acknowledged").exists()


def test_an_image_goes_out_with_its_alt_text(tree, bob, paris_accounts, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                        "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    post = _draft(bob, tree.paris, paris_accounts)
    with pytest.raises(ValidationError, match="describe the image"):
        services.attach_image(bob, post, SimpleUploadedFile("map.png", png, "image/png"), alt_text=" ")
    with pytest.raises(ValidationError, match="not an image"):
        services.attach_image(bob, post, SimpleUploadedFile("x.exe", b"MZ", "application/x-msdownload"),
                              alt_text="a map")
    post = services.attach_image(bob, post, SimpleUploadedFile("map.png", png, "image/png"),
                                 alt_text="Map of the consulate's entrance")
    assert post.revision == 2
    services.submit(bob, post)
    delivery.run_due()
    on_platform = SandboxPost.objects.get(author__handle=paris_accounts[0].handle)
    assert on_platform.alt_texts == ["Map of the consulate's entrance"]
