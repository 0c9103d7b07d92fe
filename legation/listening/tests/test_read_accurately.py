"""On demand: a person asks the accurate tier to read a listened post again (ingestion reads with the fast tier)."""

from __future__ import annotations

import json

from django_tasks_db.models import DBTaskResult

from legation import nlp
from legation.listening import services
from legation.listening.models import ListenedItem
from legation.listening.tasks import read_item_accurately
from legation.listening.tests.conftest import make_posts

STRANDED = "نحن ٣٠ شخصا عالقون في ميناء مصراتة ونحتاج إلى الماء والطعام"


def _queued() -> list[list[object]]:
    return [row.args_kwargs["args"] for row in DBTaskResult.objects.filter(task_path=read_item_accurately.module_path)]


def test_a_person_asks_and_the_worker_reads_the_post_with_the_accurate_tier(client, bob, paris_source):
    services.ingest_posts(paris_source, make_posts([STRANDED]))
    item = ListenedItem.objects.get()
    fast, accurate = nlp.enrich([STRANDED], tier="fast")[0], nlp.enrich([STRANDED], tier="accurate")[0]
    assert (item.crisis_category, item.read_accurately_at) == (fast.crisis_category, None)
    client.force_login(bob)
    page = client.get(f"/listening/items/{item.pk}/").content.decode()
    assert '<dd id="read-by">the fast models, when it was heard</dd>' in page and 'id="read-accurately"' in page

    response = client.post(f"/listening/items/{item.pk}/read-accurately/", follow=True)
    assert "The accurate models will read this post in a moment" in response.content.decode()
    assert _queued() == [[item.pk]]
    assert read_item_accurately.call(item.pk) is True
    item.refresh_from_db()
    assert (item.language, item.sentiment, item.crisis_category) == (
        accurate.language, accurate.sentiment, accurate.crisis_category)
    assert item.crisis_category == "requests_or_urgent_needs" and item.head_count == 30
    page = client.get(f"/listening/items/{item.pk}/").content.decode()
    read_by = page.split('<dd id="read-by">')[1].split("</dd>")[0]
    assert "Requests or urgent needs" in page and read_by.startswith("the accurate models, ")
    from legation.records.models import Record

    asked = Record.objects.get(action="listening.item_reread_requested")
    assert asked.actor_id == bob.pk
    seen = json.loads(client.get(f"/api/v1/listening/items/{item.pk}").content)
    assert seen["crisis_category"] == "requests_or_urgent_needs" and seen["read_accurately_at"] is not None


def test_only_those_who_see_the_post_may_ask_and_the_api_queues_it(client, bob, charlie, paris_source):
    services.ingest_posts(paris_source, make_posts(["Roads flooded near the river"]))
    item = ListenedItem.objects.get()
    client.force_login(charlie)  # Berlin does not hear Paris's posts
    assert client.post(f"/listening/items/{item.pk}/read-accurately/").status_code == 404
    assert client.post(f"/api/v1/listening/items/{item.pk}/read-accurately").status_code == 404
    assert client.get(f"/listening/items/{item.pk}/read-accurately/").status_code in (404, 405)
    assert _queued() == []
    client.force_login(bob)
    queued = client.post(f"/api/v1/listening/items/{item.pk}/read-accurately")
    assert queued.status_code == 202 and json.loads(queued.content) == {"queued": True}
    assert _queued() == [[item.pk]]
    item.delete()
    assert read_item_accurately.call(item.pk) is False  # gone since: nothing to read, no error


def test_asking_for_a_post_another_mission_stored_first_is_recorded_on_the_askers_unit(client, charlie, tree,
                                                                                      paris_source, berlin_source):
    from legation.records.models import Record

    services.ingest_posts(paris_source, make_posts(["Roads flooded near the river"]))
    services.ingest_posts(berlin_source, make_posts(["Roads flooded near the river"]))
    item = ListenedItem.objects.get()
    assert item.unit == tree.paris  # Paris heard it first
    client.force_login(charlie)  # Berlin
    assert client.post(f"/api/v1/listening/items/{item.pk}/read-accurately").status_code == 202
    asked = Record.objects.get(action="listening.item_reread_requested")
    assert (asked.actor_id, asked.unit_id) == (charlie.pk, tree.berlin.pk)  # Paris learns nothing of Berlin


def test_asking_again_while_the_first_request_waits_queues_and_records_nothing_more(client, bob, paris_source):
    from legation.records.models import Record

    services.ingest_posts(paris_source, make_posts([STRANDED]))
    item = ListenedItem.objects.get()
    client.force_login(bob)
    answers = [client.post(f"/api/v1/listening/items/{item.pk}/read-accurately").json() for _ in range(5)]
    assert answers == [{"queued": True}] + [{"queued": False}] * 4
    assert _queued() == [[item.pk]]
    assert Record.objects.filter(action="listening.item_reread_requested").count() == 1
    read_item_accurately.call(item.pk)  # the worker read it: a new request is a new reading
    assert client.post(f"/api/v1/listening/items/{item.pk}/read-accurately").json() == {"queued": True}
    assert _queued() == [[item.pk], [item.pk]]
