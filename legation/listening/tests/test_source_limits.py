"""Source settings a person can type but no scheduler can live with, sources set up by the operator's CLI, and
parameters that are numbers to a person but not to int(): each gets a clear answer, never a 500 or a stopped
scheduler."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from legation.listening import services
from legation.listening.models import ListeningSource
from legation.listening.tasks import pull_due_sources

BIG = "99999999999999999999999"


def _post_source(client, tree, account, **fields):
    body = {"unit_id": tree.paris.pk, "name": "Keywords", "kind": "keyword", "platform": "mastodon",
            "query": "veridia", "account_id": account.pk, **fields}
    return client.post("/api/v1/listening/sources", json.dumps(body).replace('"INF"', "Infinity"),
                       content_type="application/json")


def test_an_interval_or_threshold_out_of_bounds_is_refused_by_the_api_and_the_page(client, bob, tree,
                                                                                    europe_mastodon, paris_source):
    client.force_login(bob)
    assert _post_source(client, tree, europe_mastodon, pull_every=6_000_000_000).status_code == 422
    assert _post_source(client, tree, europe_mastodon, spike_threshold="INF").status_code == 422
    patched = client.patch(f"/api/v1/listening/sources/{paris_source.pk}", json.dumps({"pull_every": 43_201}),
                           content_type="application/json")
    assert patched.status_code == 422
    page = client.post(f"/listening/sources/{paris_source.pk}/edit/", {
        "name": paris_source.name, "query": paris_source.query, "active": "on", "pull_every": 6_000_000_000,
        "batch_size": 100, "spike_threshold": 3, "spike_min_count": 10, "story_min_size": 8})
    assert page.status_code == 200 and 'id="id_pull_every_error"' in page.content.decode()
    paris_source.refresh_from_db()
    assert paris_source.pull_every == 5  # nothing changed


def test_the_api_creates_a_source_paused_when_asked(client, bob, tree, europe_mastodon):
    client.force_login(bob)
    created = _post_source(client, tree, europe_mastodon, active=False)
    assert created.status_code == 201 and json.loads(created.content)["active"] is False
    assert ListeningSource.objects.get(pk=json.loads(created.content)["id"]).active is False


def test_one_source_with_a_huge_interval_does_not_stop_the_others_being_pulled(paris_source, berlin_source):
    from django.utils import timezone

    # Set before the bound existed (or by hand in the database): the scheduler must not overflow on it.
    ListeningSource.objects.filter(pk=paris_source.pk).update(pull_every=2_000_000_000, last_pulled_at=timezone.now())
    assert pull_due_sources.call() == [berlin_source.pk]


def test_a_source_the_operator_set_up_on_a_file_since_gone_can_be_paused_and_retuned(client, tree, alice, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"text": "hello"}\n')
    source = services.create_source(None, unit=tree.paris, name="replay", kind="file", platform="file",
                                    query=str(posts))  # the CLI may name a file anywhere
    posts.unlink()
    client.force_login(alice)
    response = client.post("/listening/sources/", {"toggle": source.pk}, follow=True)
    assert response.status_code == 200
    source.refresh_from_db()
    assert source.active is False
    services.update_source(alice, source, spike_threshold=5)
    source.refresh_from_db()
    assert source.spike_threshold == 5
    with pytest.raises(ValidationError):  # a new file is checked, as when a person sets one up
        services.update_source(alice, source, query="../../etc/passwd")


@pytest.mark.parametrize("url", [
    "/api/v1/listening/saved-searches?unit_id=" + BIG, "/api/v1/listening/sources?unit_id=" + BIG,
    "/api/v1/listening/sources/" + BIG, "/api/v1/listening/items/" + BIG, "/api/v1/listening/alerts?unit_id=" + BIG,
    "/api/v1/listening/units/" + BIG + "/overview", "/listening/items/" + BIG + "/", "/inbox/?account=" + BIG,
    "/listening/search/?source=" + BIG, "/api/v1/listening/search?source=" + BIG,
])
def test_an_id_no_row_can_have_is_not_found(client, bob, url):
    client.force_login(bob)
    assert client.get(url).status_code in (200, 404, 422)


@pytest.mark.parametrize("url", ["/listening/?hours=²", "/listening/search/?page=²", "/listening/search/?source=²",
                                 "/inbox/?account=²", "/listening/search/?page=٣"])
def test_a_digit_that_is_not_a_number_is_ignored(client, bob, paris_source, url):
    client.force_login(bob)
    assert client.get(url).status_code == 200
