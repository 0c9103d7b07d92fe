"""The place filter reads an index of place names (``PlaceName``), kept by triggers, instead of every post's places.

Before, ``place=Misratah`` read each post's ``places`` as text (PostgreSQL: a jsonb cast per row): ~0.7 s on
PostgreSQL at a million posts. Triggers on ``listening_listeneditem`` keep one row per place name of each post
(inserted, its places updated, deleted), lowercased (SQLite: the Python function ``legation_place_key`` every
connection registers; PostgreSQL: ``lower()``), and the posts already stored are filled in here.
"""

from __future__ import annotations

from django.db import migrations, models

from legation.listening.fulltext import register_sqlite_functions

ITEMS = "listening_listeneditem"
NAMES = "listening_placename"

_SQLITE_NAMES = ("SELECT {id}, legation_place_key(json_extract(value, '$.name')) FROM json_each({places}) "
                 "WHERE json_extract(value, '$.name') IS NOT NULL")
SQLITE = [
    f"CREATE TRIGGER listening_place_ai AFTER INSERT ON {ITEMS} "
    "WHEN new.places <> '[]' AND json_valid(new.places) BEGIN "
    f"INSERT INTO {NAMES} (item_id, name_key) {_SQLITE_NAMES.format(id='new.id', places='new.places')}; END",
    f"CREATE TRIGGER listening_place_ad AFTER DELETE ON {ITEMS} WHEN old.places <> '[]' BEGIN "
    f"DELETE FROM {NAMES} WHERE item_id = old.id; END",
    f"CREATE TRIGGER listening_place_au AFTER UPDATE OF places ON {ITEMS} WHEN old.places IS NOT new.places BEGIN "
    f"DELETE FROM {NAMES} WHERE item_id = old.id; "
    f"INSERT INTO {NAMES} (item_id, name_key) "
    f"{_SQLITE_NAMES.format(id='new.id', places='CASE WHEN json_valid(new.places) THEN new.places ELSE NULL END')}"
    "; END",
    f"INSERT INTO {NAMES} (item_id, name_key) SELECT i.id, legation_place_key(json_extract(j.value, '$.name')) "
    f"FROM {ITEMS} i, json_each(i.places) j WHERE i.places <> '[]' AND json_valid(i.places) "
    "AND json_extract(j.value, '$.name') IS NOT NULL",
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS listening_place_{suffix}" for suffix in ("ai", "ad", "au")]

_PG_NAMES = ("SELECT {id}, left(lower(p->>'name'), 200) FROM jsonb_array_elements(CASE WHEN "
             "jsonb_typeof({places}) = 'array' THEN {places} ELSE '[]'::jsonb END) p WHERE p->>'name' IS NOT NULL")
POSTGRES = [
    f"""CREATE FUNCTION listening_place_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM {NAMES} WHERE item_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO {NAMES} (item_id, name_key) {_PG_NAMES.format(id='NEW.id', places='NEW.places')};
    END IF;
    RETURN NULL;
END $$""",
    f"CREATE TRIGGER listening_place_ai AFTER INSERT ON {ITEMS} FOR EACH ROW "
    "WHEN (NEW.places <> '[]'::jsonb) EXECUTE FUNCTION listening_place_names()",
    f"CREATE TRIGGER listening_place_au AFTER UPDATE OF places ON {ITEMS} FOR EACH ROW "
    "WHEN (OLD.places IS DISTINCT FROM NEW.places) EXECUTE FUNCTION listening_place_names()",
    f"CREATE TRIGGER listening_place_ad AFTER DELETE ON {ITEMS} FOR EACH ROW "
    "WHEN (OLD.places <> '[]'::jsonb) EXECUTE FUNCTION listening_place_names()",
    f"INSERT INTO {NAMES} (item_id, name_key) SELECT i.id, left(lower(p->>'name'), 200) FROM {ITEMS} i, "
    "jsonb_array_elements(CASE WHEN jsonb_typeof(i.places) = 'array' THEN i.places ELSE '[]'::jsonb END) p "
    "WHERE i.places <> '[]'::jsonb AND p->>'name' IS NOT NULL",
]
POSTGRES_REVERSE = [f"DROP TRIGGER IF EXISTS listening_place_{suffix} ON {ITEMS}" for suffix in ("ai", "ad", "au")] + [
    "DROP FUNCTION IF EXISTS listening_place_names()"]


def _run(forward: bool):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            register_sqlite_functions(schema_editor.connection.connection)
            statements = SQLITE if forward else SQLITE_REVERSE
        elif vendor == "postgresql":
            statements = POSTGRES if forward else POSTGRES_REVERSE
        else:
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("listening", "0017_source_refused_lines"),
    ]

    operations = [
        migrations.CreateModel(
            name="PlaceName",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("item_id", models.BigIntegerField()),
                ("name_key", models.CharField(max_length=200)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["name_key"], name="placename_prefix", opclasses=["varchar_pattern_ops"]),
                    models.Index(fields=["item_id"], name="placename_item"),
                ],
            },
        ),
        migrations.RunPython(_run(True), _run(False)),
    ]
