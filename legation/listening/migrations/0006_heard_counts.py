"""Counters of the posts each unit heard per minute and key, which the alerts read instead of regrouping posts.

The posts stored before are counted once here (every unit path in ``heard_by``), the same way ingestion counts.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db import migrations, models

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    item_model = apps.get_model("listening", "ListenedItem")
    count_model = apps.get_model("listening", "HeardCount")
    counts: Counter[tuple[str, int, str]] = Counter()
    rows = item_model.objects.values_list("heard_by", "created_at", "language", "crisis_category", "countries")
    for heard_by, when, language, category, countries in rows.iterator(chunk_size=5000):
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        minute = (when - _EPOCH) // timedelta(minutes=1)
        keys = ["all"]
        if language:
            keys.append(f"language:{language}")
        if category and category != "not_humanitarian":
            keys.append(f"category:{category}")
        keys.extend(f"country:{c}" for c in countries.split(",") if c)
        for path in set(filter(None, heard_by.split("|"))):
            for key in keys:
                counts[(path, minute, key)] += 1
    objects = [count_model(unit_path=p, minute=m, key=k, n=n) for (p, m, k), n in sorted(counts.items())]
    count_model.objects.bulk_create(objects, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ("listening", "0005_fts_language_column"),
    ]

    operations = [
        migrations.CreateModel(
            name="HeardCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("unit_path", models.CharField(max_length=500)),
                ("minute", models.BigIntegerField()),
                ("key", models.CharField(max_length=250)),
                ("n", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("unit_path", "minute", "key"),
                                                        name="one_count_per_minute")],
            },
        ),
        migrations.RunPython(_backfill, migrations.RunPython.noop),
    ]
