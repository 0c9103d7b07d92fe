"""Sources: created through services with permissions, pulled from their cursor, errors kept."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from legation.connectors.base import Capability, ConfigError, ConnectorError, InboundItem, Page, Provider
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
    capabilities = frozenset({Capability.SEARCH})

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


def test_an_editor_adds_a_source_and_it_is_on_the_ledger(tree, alice, bob, charlie, europe_mastodon):
    source = services.create_source(bob, unit=tree.paris, name="Protests", kind="hashtag", platform="mastodon",
                                    query="#veridia", account=europe_mastodon)
    assert Record.objects.filter(action="listening.source_created", object_id=str(source.pk)).exists()
    with pytest.raises(PermissionDenied):
        services.create_source(charlie, unit=tree.paris, name="Other", kind="keyword", platform="x", query="a")
    with pytest.raises(ValidationError):
        services.create_source(bob, unit=tree.paris, name="Protests", kind="keyword", platform="x", query="a")
    with pytest.raises(ValidationError):
        services.create_source(bob, unit=tree.paris, name="Nothing", kind="keyword", platform="x", query=" ")
    with pytest.raises(ValidationError) as refused:
        services.create_source(bob, unit=tree.paris, name="Secrets", kind="file", platform="file",
                               query="../../etc/passwd")
    from django.conf import settings

    said = " ".join(refused.value.messages)  # names the folder as configured, not where the server keeps it
    assert "LEGATION_DATA_DIR/listening" in said and str(settings.DATA_DIR) not in said
    services.update_source(bob, source, active=False, spike_threshold=2.5)
    source.refresh_from_db()
    assert source.active is False and source.spike_threshold == 2.5
    services.delete_source(bob, source)
    assert not ListeningSource.objects.exists()


def _refusal(**fields):
    with pytest.raises(ValidationError) as refused:
        services.create_source(fields.pop("actor"), name="New", **fields)
    return {field: " ".join(messages) for field, messages in refused.value.message_dict.items()}


def test_a_source_its_platform_cannot_serve_is_refused_when_it_is_set_up(tree, bob, europe_mastodon):
    """Not paused with an error at its first pull: the person setting it up is told why, on the right field."""
    assert _refusal(actor=bob, unit=tree.paris, kind="keyword", platform="telegram", query="veridia") == {
        "kind": "Telegram cannot search public posts through Legation: choose another kind of source or "
                "another platform"}
    assert "read an account's posts or a feed" in _refusal(actor=bob, unit=tree.paris, kind="feed",
                                                            platform="flickr", query="veridia")["kind"]
    assert _refusal(actor=bob, unit=tree.paris, kind="keyword", platform="mastodon", query="veridia") == {
        "account": "Mastodon is heard through one of our accounts there: choose it (an admin registers it "
                   "under Accounts first)"}
    assert _refusal(actor=bob, unit=tree.paris, kind="hashtag", platform="rss", query="#veridia")["kind"].startswith(
        "RSS / Atom feed cannot search public posts")
    assert not ListeningSource.objects.exists()
    # A feed needs no account; a search does, and with one it is taken.
    feed = services.create_source(bob, unit=tree.paris, name="Le Monde", kind="feed", platform="rss",
                                  query="https://www.lemonde.fr/rss/une.xml")
    search = services.create_source(bob, unit=tree.paris, name="Veridia", kind="keyword", platform="mastodon",
                                    query="veridia", account=europe_mastodon)
    assert {feed.pk, search.pk} == set(ListeningSource.objects.values_list("pk", flat=True))


def test_a_source_set_up_before_the_check_can_still_be_paused_but_not_retuned(tree, bob):
    legacy = ListeningSource.objects.create(unit=tree.paris, name="Old", kind="keyword", platform="mastodon",
                                           query="veridia")
    services.update_source(bob, legacy, active=False, spike_threshold=4)
    legacy.refresh_from_db()
    assert legacy.active is False and legacy.spike_threshold == 4
    with pytest.raises(ValidationError) as refused:
        services.update_source(bob, legacy, query="veridia OR veridian")
    assert list(refused.value.message_dict) == ["account"]
    legacy.refresh_from_db()
    assert legacy.query == "veridia"


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


def test_a_platform_error_is_explained_to_the_reader_in_their_language(client, tree, alice, bob, fake_platform):
    source = services.create_source(alice, unit=tree.paris, name="Flaky", kind="keyword", platform="mastodon",
                                    query="fail")
    pull_source(source)
    bob.language = "fr"
    bob.save()
    client.force_login(bob)
    page = client.get("/listening/sources/").content.decode()
    assert "La limite de débit de la plateforme est atteinte : la source sera relevée plus tard. Détails : " \
           "rate limited" in page
    services.update_source(alice, source, query="revoked")
    pull_source(source)
    page = client.get("/listening/sources/").content.decode()
    assert "La plateforme a refusé la demande : la source est en pause" in page and "token revoked" in page
    assert "en pause" in client.get("/listening/").content.decode()  # the dashboard's list of sources too
    # The API keeps the connector's words in English, and says them in the language asked for.
    body = client.get(f"/api/v1/listening/sources/{source.pk}", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert body["last_error"] == "token revoked"
    assert body["last_error_said"].startswith("La plateforme a refusé la demande")
    # English for an English reader; a source pulled fine again shows nothing
    bob.language = "en"
    bob.save()
    assert "The platform refused the request: the source is paused until someone resumes it. Details: token " \
           "revoked" in client.get("/listening/sources/").content.decode()
    services.update_source(alice, source, query="veridia", active=True)
    pull_source(source)
    source.refresh_from_db()
    assert (source.last_error, source.last_error_said, source.last_error_kept) == ("", "", {})


@pytest.mark.parametrize(("error", "said"), [
    (ConnectorError("401 invalid token", permanent=True, status=401, auth_expired=True),
     "The platform refused the account this source uses: reconnect it"),
    (ConnectorError("429 slow down", status=429, retry_after=60), "The platform's rate limit was reached"),
    (ConnectorError("X has no account @nobody", permanent=True, status=404),
     "The platform does not know what this source asks for: check its query"),
    (ConnectorError("content refused", permanent=True, status=400), "The platform refused the request"),
    (ConnectorError("timed out", permanent=False), "The platform could not be reached or failed"),
    (ConfigError("mastodon: credential 'access_token' is not set"),
     "The account this source uses is not fully set up: check it"),
])
def test_each_kind_of_platform_error_says_what_to_do(error, said):
    from legation.listening.reasons import platform_error

    reason = platform_error(error)
    assert reason.startswith(said) and reason.endswith("Details: " + error.message)


def test_a_unit_hearing_posts_another_unit_stored_first_gets_its_own_alert(tree, alice, fake_platform):
    from legation.listening.models import Alert
    from legation.listening.tasks import pull_source as pull_task

    paris = services.create_source(alice, unit=tree.paris, name="Paris", kind="keyword", platform="mastodon",
                                   query="veridia", batch_size=10, spike_min_count=3)
    berlin = services.create_source(alice, unit=tree.berlin, name="Berlin", kind="keyword", platform="mastodon",
                                    query="veridia", batch_size=10, spike_min_count=3)
    assert sum(pull_task.call(paris.pk)["stored"] for _ in range(3)) == 7
    assert sum(pull_task.call(berlin.pk)["stored"] for _ in range(3)) == 0  # the same seven posts, stored once
    spikes = {alert.unit_id: alert.message for alert in Alert.objects.filter(kind="spike", key__startswith="all@")}
    # Nothing in the hours before: no ratio to give.
    assert spikes == {tree.paris.pk: "Spike in all posts: 7 posts in the last hour (usually none)",
                      tree.berlin.pk: "Spike in all posts: 7 posts in the last hour (usually none)"}


@pytest.mark.parametrize("url", ["http://127.0.0.1/feed.xml", "http://169.254.169.254/latest/meta-data/",
                                 "http://10.0.0.1/rss", "http://[::1]/rss", "http://2130706433/", "http://localhost/"])
def test_a_feed_on_a_private_address_is_refused_when_it_is_set_up(tree, bob, url):
    refused = _refusal(actor=bob, unit=tree.paris, kind="feed", platform="rss", query=url)
    assert refused["query"].startswith("refusing to connect to ")
    assert "private, loopback, link-local" in refused["query"]
    if "localhost" in url:  # what a name resolves to is not said
        assert "refusing to connect to localhost:" in refused["query"] and "127.0.0.1" not in refused["query"]
    assert not ListeningSource.objects.exists()


def test_a_feed_whose_host_does_not_resolve_now_is_kept_for_its_pulls_to_report(tree, bob):
    feed = services.create_source(bob, unit=tree.paris, name="Later", kind="feed", platform="rss",
                                  query="https://feeds.invalid/rss.xml")
    assert feed.pk and feed.active


def test_a_feed_address_is_looked_up_before_the_setup_holds_the_database(tree, bob, monkeypatch):
    from django.db import connection

    outside = len(connection.atomic_blocks)  # the test's own transaction
    depths = []
    monkeypatch.setattr(services, "check_url", lambda url: depths.append(len(connection.atomic_blocks)))
    feed = services.create_source(bob, unit=tree.paris, name="Feed", kind="feed", platform="rss",
                                  query="https://feeds.invalid/a.xml")
    services.update_source(bob, feed, query="https://feeds.invalid/b.xml")
    services.update_source(bob, feed, active=False)  # no address changed: no lookup
    assert depths == [outside, outside]
