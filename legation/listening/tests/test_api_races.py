"""What a careless or hostile API client found: writes racing each other, other units' files and accounts, and
input that reached the database unchecked. Each gets a clear answer and loses nothing."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from legation.listening import services
from legation.listening.models import Alert, ListeningSource, SavedSearch
from legation.records.models import Record


def _json(response):
    return json.loads(response.content)


def _records(action, obj):
    return Record.objects.filter(action=action, object_id=str(obj.pk)).count()


def test_a_change_to_a_source_deleted_meanwhile_does_not_bring_it_back(client, bob, paris_source):
    stale = ListeningSource.objects.get(pk=paris_source.pk)  # a PATCH read it; a DELETE ends first
    services.delete_source(bob, paris_source)
    with pytest.raises(Http404):
        services.update_source(bob, stale, pull_every=7)
    with pytest.raises(Http404):
        services.delete_source(bob, stale)  # a second DELETE of it
    assert not ListeningSource.objects.filter(pk=stale.pk).exists()
    assert _records("listening.source_deleted", stale) == 1 and _records("listening.source_updated", stale) == 0
    client.force_login(bob)
    assert client.delete(f"/api/v1/listening/sources/{stale.pk}").status_code == 404


def test_a_change_to_a_source_keeps_what_a_pull_stored_meanwhile(bob, paris_source):
    stale = ListeningSource.objects.get(pk=paris_source.pk)  # the page was opened before the pull
    ListeningSource.objects.filter(pk=paris_source.pk).update(cursor="page-9", refused_count=2)
    services.update_source(bob, stale, spike_threshold=4.0)
    paris_source.refresh_from_db()
    assert (paris_source.cursor, paris_source.refused_count, paris_source.spike_threshold) == ("page-9", 2, 4.0)
    services.update_source(bob, paris_source, query="veridia OR embassy")  # a new question starts again
    paris_source.refresh_from_db()
    assert (paris_source.cursor, paris_source.refused_count) == ("", 0)


def test_two_requests_making_one_source_name_get_one_source_and_a_clear_refusal(tree, bob, europe_mastodon,
                                                                                 monkeypatch):
    fields = {"unit": tree.paris, "name": "Race", "kind": "keyword", "platform": "mastodon", "query": "a",
              "account": europe_mastodon}
    services.create_source(bob, **fields)
    # The other request's source was not committed yet when this one checked the name: the check passes.
    monkeypatch.setattr(services, "_validate_source", lambda source, **_checks: None)
    with pytest.raises(ValidationError) as refused:
        services.create_source(bob, **fields)
    assert refused.value.message_dict == {"name": ["this unit already has a source with that name"]}
    assert ListeningSource.objects.filter(name="Race").count() == 1


def test_an_alert_acknowledged_twice_at_once_is_recorded_once(tree, alice):
    alert = services.raise_alert(unit=tree.paris, kind="spike", key="all@a", message="Spike: 40 posts", count=40)
    assert alert is not None
    first, second = Alert.objects.get(pk=alert.pk), Alert.objects.get(pk=alert.pk)  # two clicks, one page
    services.acknowledge_alert(alice, first)
    services.acknowledge_alert(alice, second)
    assert second.acknowledged_at == first.acknowledged_at
    assert _records("listening.alert_acknowledged", alert) == 1


def test_a_saved_search_deleted_twice_is_recorded_once(client, bob, tree):
    saved = services.save_search(bob, unit=tree.paris, name="Floods", params={"q": "flood"})
    stale = SavedSearch.objects.get(pk=saved.pk)
    services.delete_saved_search(bob, saved)
    with pytest.raises(Http404):
        services.delete_saved_search(bob, stale)
    assert _records("listening.search_deleted", stale) == 1


def test_mentions_of_an_account_above_are_not_read_by_a_mission_below(tree, alice, bob, europe_mastodon):
    # A search may go through the region's account (its platform access serves the missions)...
    services.create_source(bob, unit=tree.paris, name="Search", kind="keyword", platform="mastodon", query="a",
                           account=europe_mastodon)
    # ...but the region's own mentions and timeline are the region's to read.
    for kind in ("mentions", "feed"):
        with pytest.raises(ValidationError) as refused:
            services.create_source(bob, unit=tree.paris, name=kind, kind=kind, platform="mastodon",
                                   query="" if kind == "mentions" else "home",
                                   account=europe_mastodon)
        assert "account" in refused.value.message_dict
    services.create_source(alice, unit=tree.europe, name="Mentions", kind="mentions", platform="mastodon",
                           account=europe_mastodon)


def test_a_unit_reads_the_files_of_its_folder_and_those_below_not_another_missions(tree, alice, bob, charlie,
                                                                                   settings, tmp_path):
    from legation.network import services as network

    settings.LISTENING_FILES_DIR = tmp_path
    for folder, name in ((tree.paris.pk, "paris.csv"), (tree.berlin.pk, "berlin.csv"), (None, "all.csv")):
        place = tmp_path / str(folder) if folder else tmp_path
        place.mkdir(exist_ok=True)
        (place / name).write_text("id,text\n1,Queues at the consulate\n", encoding="utf-8")

    def refused(actor, unit, query):
        with pytest.raises(ValidationError) as said:
            services.create_source(actor, unit=unit, name=query, kind="file", platform="file", query=query)
        return said.value.message_dict["query"][0]

    made = services.create_source(bob, unit=tree.paris, name="Ours", kind="file", platform="file",
                                  query="paris.csv")
    assert services.resolve_file(made.query, made.unit, scoped=False) == (
        tmp_path / str(tree.paris.pk) / "paris.csv").resolve()
    from legation.listening import tasks

    assert tasks.pull_source.call(made.pk)["stored"] == 1  # the pull finds it in the unit's folder
    # Berlin's file is "no file" to Paris, by either name, as a file that does not exist is.
    assert refused(bob, tree.paris, "berlin.csv") == refused(bob, tree.paris, "nothing.csv").replace(
        "nothing", "berlin")
    assert "no file named" in refused(bob, tree.paris, f"{tree.berlin.pk}/berlin.csv")
    assert "no file named" in refused(bob, tree.paris, "all.csv")  # the top is the ministry's
    assert "no file named" in refused(bob, tree.paris, "x" * 300)  # too long a name for the file system
    # The region reads its missions' folders; the ministry reads the top.
    europe_editor = network.create_person(alice, unit=tree.europe, username="erin", role="editor",
                                          password="erin-secret-pw-12")
    services.create_source(europe_editor, unit=tree.europe, name="Paris's", kind="file", platform="file",
                           query=f"{tree.paris.pk}/paris.csv")
    services.create_source(alice, unit=tree.ministry, name="All", kind="file", platform="file", query="all.csv")


def test_input_that_reached_the_database_unchecked_is_refused_by_field(client, bob, tree, europe_mastodon):
    client.force_login(bob)

    def post(path, body):
        return client.post(path, body, content_type="application/json")

    source = {"unit_id": tree.paris.pk, "name": "S", "kind": "keyword", "platform": "mastodon",
              "account_id": europe_mastodon.pk}
    # A lone surrogate, as JSON allows it to be written.
    lone = post("/api/v1/listening/sources", json.dumps(source)[:-1] + ', "query": "\\udfff"}')
    assert lone.status_code == 422 and _json(lone)["detail"][0]["loc"] == ["body", "query"]
    saved = post("/api/v1/listening/saved-searches",
                 json.dumps({"unit_id": tree.paris.pk, "name": "s"})[:-1] + ', "params": {"q": "\\udfff"}}')
    assert saved.status_code == 422
    # A feed whose bracketed host is no address.
    feed = post("/api/v1/listening/sources", json.dumps({"unit_id": tree.paris.pk, "name": "F", "kind": "feed",
                                                         "platform": "rss", "query": "http://[zz]/"}))
    assert feed.status_code == 422 and "not well formed" in _json(feed)["detail"][0]["msg"]
    # A time zone offset PostgreSQL cannot store is read in UTC; a date past the calendar's ends is refused.
    odd = client.get("/api/v1/listening/search", {"since": "2026-12-07T10:00:00-23:59"})
    assert odd.status_code == 200 and client.get("/listening/search/", {"since": "2026-12-07T10:00:00-23:59"}
                                                 ).status_code == 200
    for name, moment in (("since", "0001-01-01T00:00:00+01:00"), ("until", "9999-12-31T23:59:59-01:00")):
        searched = client.get("/api/v1/listening/search", {name: moment})
        assert searched.status_code == 422 and _json(searched)["detail"][0]["loc"][-1] == name
        assert client.get("/listening/search/", {name: moment}).status_code == 200  # the form ignores it
    kept = post("/api/v1/listening/saved-searches", json.dumps(
        {"unit_id": tree.paris.pk, "name": "s3", "params": {"since": "0001-01-01T00:00:00+01:00"}}))
    assert kept.status_code == 422 and not SavedSearch.objects.exists()


def test_a_pull_reads_only_what_the_unit_may_even_when_its_file_is_replaced(tree, bob, settings, tmp_path):
    from legation.listening import tasks
    from legation.listening.models import ListenedItem

    settings.LISTENING_FILES_DIR = tmp_path
    settings.LISTENING_ENRICH_PROCESSES = 0
    own = tmp_path / str(tree.paris.pk)
    own.mkdir()
    (own / "x.csv").write_text("id,text\nours,Queues at the consulate\n", encoding="utf-8")
    source = services.create_source(bob, unit=tree.paris, name="Ours", kind="file", platform="file",
                                    query="x.csv", batch_size=10)
    (own / "x.csv").unlink()  # the mission's file goes; the ministry drops one of the same name at the top
    (tmp_path / "x.csv").write_text("id,text\nsecret,Ministry only\n", encoding="utf-8")
    tasks.pull_source.call(source.pk)
    assert not ListenedItem.objects.filter(external_id="secret").exists()
    source.refresh_from_db()
    assert "no file named" in source.last_error and not source.active
    # A folder named otherwise than by a unit's id ("03") is not that unit's.
    (tmp_path / f"0{tree.paris.pk}").mkdir()
    (tmp_path / f"0{tree.paris.pk}" / "y.csv").write_text("id,text\ny,Other\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        services.create_source(bob, unit=tree.paris, name="Y", kind="file", platform="file",
                               query=f"0{tree.paris.pk}/y.csv")


def test_a_source_set_up_before_a_rule_can_still_be_paused(tree, bob, europe_mastodon):
    source = ListeningSource.objects.create(unit=tree.paris, name="Old mentions", kind="mentions",
                                            platform="mastodon", account=europe_mastodon)
    services.update_source(bob, source, active=False)  # the account rule is checked when the account changes
    source.refresh_from_db()
    assert source.active is False
