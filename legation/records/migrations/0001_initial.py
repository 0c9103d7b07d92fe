from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Record",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(db_index=True)),
                ("actor_id", models.BigIntegerField(db_index=True, null=True)),
                ("actor_label", models.CharField(max_length=200)),
                ("unit_id", models.BigIntegerField(db_index=True, null=True)),
                ("unit_path", models.CharField(blank=True, db_index=True, max_length=500)),
                ("unit_label", models.CharField(blank=True, max_length=200)),
                ("action", models.CharField(db_index=True, max_length=100)),
                ("object_type", models.CharField(blank=True, max_length=100)),
                ("object_id", models.CharField(blank=True, max_length=100)),
                ("payload", models.TextField(default="{}")),
                ("prev_hash", models.CharField(max_length=64, unique=True)),
                ("hash", models.CharField(max_length=64, unique=True)),
            ],
            options={"ordering": ["-id"]},
        ),
    ]
