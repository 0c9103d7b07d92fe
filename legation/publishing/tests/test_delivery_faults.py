"""Fault tests against a local Mastodon: the platform answers 429, 5xx and times out, and still every post ends on
every account exactly once, with every delivery ``delivered`` and one ledger record for each.

The fake platform keeps its own clock; retries that the HTTP layer would sleep through advance that clock
instead, and between worker rounds the test lets time pass on both sides (the platform's clock and each
delivery's ``not_before``), so rate-limit windows really close and reopen without the test sleeping.
Deliveries run with ``run_due(concurrency=1)`` inside the test's transaction; the platform runs in a thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from legation.connectors import http
from legation.network import services as network
from legation.publishing import delivery, services
from legation.publishing.models import Delivery, Post
from legation.publishing.services import VariantInput
from legation.publishing.tests.fake_mastodon import FakeMastodon, Faults, ManualClock, RateLimit, running
from legation.records.models import Record

pytestmark = pytest.mark.django_db

TIMEOUT = 0.3  # the client's read timeout in these tests; a "timeout" fault holds the answer twice as long


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def platform(monkeypatch, clock) -> Iterator[FakeMastodon]:
    fake = FakeMastodon(per_token=RateLimit(4, 60.0), clock=clock, faults=Faults(hang=2 * TIMEOUT))
    monkeypatch.setattr(http, "READ_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(http, "sleep", clock.advance)  # a retry's wait passes on the platform, not in the test
    with running(fake), http.allow_private_hosts("127.0.0.1", "localhost"):  # the guard opens for this test only
        yield fake


@pytest.fixture
def accounts(tree, alice, hq_admin2, platform):
    """Four Mastodon accounts of the Paris embassy on the fake instance, registered and approved as in use."""
    made = []
    for n in range(4):
        handle = f"veridia_paris_{n}"
        on_platform = platform.add_account(handle, f"token-{n}")
        config = {"api_base_url": platform.base_url}
        if n % 2 == 0:  # the others look their id up (verify_credentials) before reading their timeline
            config["account_id"] = on_platform.id
        account = network.register_account(alice, unit=tree.paris, platform="mastodon", handle=f"@{handle}",
                                           config=config)
        network.approve_account(hq_admin2, account)
        network.set_credentials(alice, account, {"access_token": f"token-{n}"})
        account.refresh_from_db()
        made.append(account)
    return made


def _publish(bob, unit, accounts, text: str) -> Post:
    post = services.create_post(bob, unit=unit, source_language="fr", variants=[VariantInput("fr", text)],
                                targets=[(a, "fr") for a in accounts])
    return services.submit(bob, post)


def _settle(clock: ManualClock, rounds: int = 60) -> int:
    """Run the worker until nothing is left to send, letting the waits it asked for pass; returns the rounds."""
    for n in range(1, rounds + 1):
        delivery.run_due(concurrency=1)
        waiting = list(Delivery.objects.filter(status="pending").values_list("not_before", flat=True))
        if not waiting and not Delivery.objects.filter(status="sending").exists():
            return n
        now = timezone.now()
        wait = max([(t - now).total_seconds() for t in waiting if t is not None] + [0.0])
        clock.advance(wait + 0.01)
        Delivery.objects.filter(status="pending").update(not_before=now - timedelta(seconds=1))
    raise AssertionError(f"deliveries still not settled after {rounds} rounds")


def _assert_each_post_once_on_each_account(platform: FakeMastodon, posts: list[Post], accounts) -> None:
    texts = sorted(p.variants.get().text for p in posts)
    created = platform.created_texts()
    for account in accounts:
        assert sorted(created[account.handle.lstrip("@")]) == texts, account.handle
    assert platform.duplicates() == 0
    deliveries = list(Delivery.objects.filter(post__in=posts))
    assert len(deliveries) == len(posts) * len(accounts)
    assert {d.status for d in deliveries} == {"delivered"}
    for d in deliveries:  # the id recorded is the status on the platform
        statuses = platform.accounts[f"token-{accounts.index(d.account)}"].statuses
        assert d.external_id in statuses and d.url.endswith(d.external_id)
    for post in posts:
        post.refresh_from_db()
        assert post.status == "published"
        records = Record.objects.filter(object_type="publishing.post", object_id=str(post.pk),
                                        action="delivery.publish_delivered")
        recorded = sorted(json.loads(r.payload)["delivery"] for r in records)
        assert recorded == sorted(d.pk for d in deliveries if d.post_id == post.pk)  # one record per delivery


def test_the_private_address_guard_refuses_the_fake_platform_unless_the_test_allows_it():
    with running(FakeMastodon()) as fake:
        with pytest.raises(http.PrivateAddressRefused):
            http.check_url(fake.base_url)
        with http.allow_private_hosts("127.0.0.1"):
            http.check_url(fake.base_url)


def test_429_5xx_and_timeouts_then_each_post_is_on_each_account_exactly_once(tree, bob, accounts, platform,
                                                                             clock):
    # The first posts meet every kind of failure, in this order, one per request.
    platform.script("503", "429", "timeout", "5xx_after", "ok", "500", "timeout", "503", "503", "503", "503",
                    "5xx_after", "timeout")
    platform.burst_429(3)
    posts = [_publish(bob, tree.paris, accounts, f"Communiqué n°{n} : horaires du consulat") for n in range(3)]
    rounds = _settle(clock)
    _assert_each_post_once_on_each_account(platform, posts, accounts)
    assert rounds > 1  # some deliveries had to wait and go again
    seen = platform.requests
    assert any(k.endswith(" 429") for k in seen) and seen["POST /api/v1/statuses 502"] >= 1
    assert seen["POST /api/v1/statuses 503"] >= 4 and seen["POST /api/v1/statuses 500"] >= 1
    retried = Delivery.objects.filter(post__in=posts, attempts__gt=1)
    assert retried.exists()


def test_random_faults_and_a_rate_limit_still_deliver_exactly_once(tree, bob, accounts, platform, clock):
    platform.faults = Faults(error_5xx=0.2, error_5xx_after=0.15, timeout=0.1, rate_429=0.1, hang=2 * TIMEOUT,
                             seed=7)
    posts = [_publish(bob, tree.paris, accounts, f"Avis n°{n}") for n in range(5)]
    _settle(clock)
    _assert_each_post_once_on_each_account(platform, posts, accounts)
    assert platform.stats()["statuses"] == len(posts) * len(accounts)


def test_a_rate_limit_is_waited_out_not_hammered(tree, bob, accounts, platform, clock):
    """Mastodon's 429 gives X-RateLimit-Reset; the delivery waits until then instead of retrying at once.

    The account knows its id, so the retry costs two requests (the timeline check, then the post): within a
    window of two.
    """
    platform.per_token = RateLimit(2, 300.0)
    clock.advance(300.0 - clock.now() % 300.0 + 1)  # a fresh window: the 429 comes with most of it left
    posts = [_publish(bob, tree.paris, accounts[:1], f"Message {n}") for n in range(3)]
    before = timezone.now()
    assert delivery.run_due(concurrency=1) == {"delivered": 2, "pending": 1}
    waiting = Delivery.objects.get(status="pending")
    # The wait is what was left of the platform's window when the 429 came (the platform's clock is read from
    # its Date header, to the second): at least what is left of it now, counted from before the run. (Counting
    # from timezone.now() after the run made this test flaky on a loaded machine.)
    window_left = 300.0 - clock.now() % 300.0
    assert waiting.not_before >= before + timedelta(seconds=window_left - 1)
    assert "rate limit" in waiting.last_error
    assert delivery.run_due(concurrency=1) == {}  # not due yet: nothing is sent
    refused = sum(n for k, n in platform.requests.items() if k.endswith(" 429"))
    _settle(clock)
    _assert_each_post_once_on_each_account(platform, posts, accounts[:1])
    assert sum(n for k, n in platform.requests.items() if k.endswith(" 429")) == refused


def test_without_the_timeline_check_the_idempotency_key_prevents_the_duplicate(tree, bob, accounts, platform,
                                                                               clock, monkeypatch):
    """A timeout after the platform created the status: the retry carries the same Idempotency-Key."""
    monkeypatch.setattr(delivery, "_already_there", lambda provider, d: None)
    platform.script("timeout", "timeout", "5xx_after")
    posts = [_publish(bob, tree.paris, accounts[:2], "Le consulat sera fermé lundi")]
    _settle(clock)
    _assert_each_post_once_on_each_account(platform, posts, accounts[:2])
    assert platform.replays >= 3  # each retry was answered with the status created the first time
