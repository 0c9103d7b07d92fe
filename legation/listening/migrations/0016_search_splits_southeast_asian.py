"""Full-text search finds Thai, Lao, Burmese and Khmer words inside a run of letters: "กรุงเทพ" (Bangkok) finds
"น้ำท่วมกรุงเทพมหานคร" (``legation.listening.fulltext``). Both indexes hold each such letter as a word of its
own, without the scripts' combining marks; a query's run of them is searched as the phrase of its letters.

SQLite: the FTS5 triggers of migration 0015 call ``legation_search_text``, which now does this too; the index is
refilled, since its 'delete' must see the text as it was indexed. PostgreSQL: the stored ``search_vector``
column also drops those marks and puts spaces around those letters (copies of ``fulltext``'s ranges below).
"""

from __future__ import annotations

import importlib

from django.db import migrations

from legation.listening.fulltext import register_sqlite_functions

arabic = importlib.import_module("legation.listening.migrations.0010_search_folds_arabic")
latin = importlib.import_module("legation.listening.migrations.0014_search_folds_latin_diacritics")
cjk = importlib.import_module("legation.listening.migrations.0015_search_splits_cjk")

# Copies of fulltext.SOUTHEAST_ASIAN_RANGES and SOUTHEAST_ASIAN_MARKS as of this migration.
_PG_RANGES = r"\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
_PG_MARKS = (r"\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd\u102b-\u103e\u1056-\u1059"
             r"\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074\u1082-\u108d\u108f\u109a-\u109d"
             r"\u17b4-\u17d3\u17dd")


def postgres_text(column: str) -> str:
    unmarked = rf"regexp_replace({latin.postgres_fold(column)}, '[{_PG_MARKS}]+', '', 'g')"
    return rf"regexp_replace({unmarked}, '([{cjk._PG_RANGES}{_PG_RANGES}])', ' \1 ', 'g')"


def _run(split: bool):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            # fulltext.index_text is whatever the code now says: going back refills the index with it again
            register_sqlite_functions(schema_editor.connection.connection)
            statements = cjk._sqlite_index()
        elif vendor == "postgresql":
            statements = latin._vector(postgres_text("text") if split else cjk.postgres_text("text"))
        else:
            statements = []
        for statement in statements:
            schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0015_search_splits_cjk")]

    operations = [migrations.RunPython(_run(True), _run(False))]
