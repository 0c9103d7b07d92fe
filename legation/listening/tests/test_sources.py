"""Sources: created through services with permissions, pulled from their cursor, errors kept."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from legation.connectors.base import ConnectorError, InboundItem, Page, Provider
from legation.connectors.registry import PROVIDERS
from legation.listening import services
from legation.listening.models import ListenedItem, ListeningSource
from legation.listening.pull import pull_source
from legation.records.models import Record

FEED = [InboundItem(platform="mastodon", external_id=str(i), kind="post", text=f"post number {i} about Veridia",
                    author_id="u1") for i in range(7)]
CALLS: list[tuple[str, str | None, int]] = []


class FakeProvider(Provider):
    """Hands out FEED three at a time; the cursor is the next index."""

    key = "mastodon"
    name = "Fake"

    def search(self, query: str, cursor: str | None, limit: int = 100) -> Page:
        CALLS.append((query, cursor, limit))
        start = int(cursor or 0)
        if query == "fail":
            raise ConnectorError("rate limited", retry_after=30)
        if query == "revoked":
            raise ConnectorError("token revoked", permanent=True)
        chunk = FEED[start : start + 3]
        return Page(items=chunk, cursor=str(start + len(chunk)), has_more=start + 3 < len(FEED))


@pytest.fixture
def fake_platform(monkeypatch):
    CALLS.clear()
    monkeypatch.setitem(PROVIDERS, "mastodon", ("Fake", f"{__name__}.FakeProvider"))


def test_an_editor_adds_a_source_and_it_is_on_the_ledger(tree, alice, bob, charlie):
    source = services.create_source(bob, unit=tree.paris, name="Protests", kind="hashtag", platform="mastodon",
                                    query="#veridia")
    assert Record.objects.filter(action="listening.source_created", object_id=str(source.pk)).exists()
    with pytest.raises(PermissionDenied):
        services.create_source(charlie, unit=tree.paris, name="Other", kind="keyword", platform="x", query="a")
    with pytest.raises(ValidationError):
        services.create_source(bob, unit=tree.paris, name="Protests", kind="keyword", platform="x", query="a")
    with pytest.raises(ValidationError):
        services.create_source(bob, unit=tree.paris, name="Nothing", kind="keyword", platform="x", query=" ")
    with pytest.raises(ValidationError):
        services.create_source(bob, unit=tree.paris, name="Secrets", kind="file", platform="file",
                               query="../../etc/passwd")
    services.update_source(bob, source, active=False, spike_threshold=2.5)
    source.refresh_from_db()
    assert source.active is False and source.spike_threshold == 2.5
    services.delete_source(bob, source)
    assert not ListeningSource.objects.exists()


def test_pulls_resume_from_the_stored_cursor(tree, alice, fake_platform):
    source = services.create_source(alice, unit=tree.paris, name="Fake", kind="keyword", platform="mastodon",
                                    query="veridia", batch_size=3)
    for _ in range(4):
        pull_source(source)
    assert [cursor for _q, cursor, _l in CALLS] == [None, "3", "6", "7"]
    assert ListenedItem.objects.count() == 7
    source.refresh_from_db()
    assert source.cursor == "7" and source.last_pulled_at is not None


def test_a_failed_pull_keeps_the_error_and_a_permanent_one_pauses(tree, alice, fake_platform):
    source = services.create_source(alice, unit=tree.paris, name="Flaky", kind="keyword", platform="mastodon",
                                    query="fail")
    pull_source(source)
    source.refresh_from_db()
    assert source.last_error == "rate limited" and source.active
    services.update_source(alice, source, query="revoked")
    pull_source(source)
    source.refresh_from_db()
    assert source.last_error == "token revoked" and not source.active
