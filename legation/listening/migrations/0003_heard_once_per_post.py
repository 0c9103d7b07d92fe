"""A post is stored once per (platform, external id), listing every unit and source that heard it (step 1).

Existing rows get ``heard_by`` / ``heard_sources`` from their own unit and source; copies of one post kept by
several units are merged into the oldest row (which then lists every unit); 0004 adds the unique constraint.
"""

from __future__ import annotations

from django.db import migrations, models
from django.db.models import Count, Min


def _fill_heard(apps, schema_editor):  # type: ignore[no-untyped-def]
    item_model = apps.get_model("listening", "ListenedItem")
    items = item_model.objects.using(schema_editor.connection.alias)
    duplicated = (items.values("platform", "external_id").annotate(n=Count("id"), first=Min("id"))
                  .filter(n__gt=1).order_by())
    merged_away: list[int] = []
    keep: dict[int, tuple[str, str]] = {}
    for group in duplicated.iterator():
        copies = list(items.filter(platform=group["platform"], external_id=group["external_id"]).order_by("id")
                      .values_list("id", "unit_path", "source_id"))
        paths = list(dict.fromkeys(path for _id, path, _source in copies))
        sources = list(dict.fromkeys(str(source) for _id, _path, source in copies if source))
        keep[copies[0][0]] = ("|" + "|".join(paths) + "|", "|" + "|".join(sources) + "|" if sources else "")
        merged_away.extend(item_id for item_id, _path, _source in copies[1:])
    for start in range(0, len(merged_away), 500):
        items.filter(id__in=merged_away[start : start + 500]).delete()
    for row in items.filter(heard_by="").only("id", "unit_path", "source_id").iterator(chunk_size=2000):
        paths, sources = keep.get(row.id, (f"|{row.unit_path}|", f"|{row.source_id}|" if row.source_id else ""))
        items.filter(id=row.id).update(heard_by=paths, heard_sources=sources)


class Migration(migrations.Migration):

    dependencies = [
        ("listening", "0002_full_text_index"),
        ("network", "0003_unit_publishing_paused_at"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="listeneditem", name="one_item_per_unit_post"),
        migrations.RemoveIndex(model_name="listeneditem", name="listening_item_path_time"),
        migrations.AddField(model_name="listeneditem", name="heard_by",
                            field=models.TextField(blank=True, default="")),
        migrations.AddField(model_name="listeneditem", name="heard_sources",
                            field=models.TextField(blank=True, default="")),
        migrations.RunPython(_fill_heard, migrations.RunPython.noop),
    ]
