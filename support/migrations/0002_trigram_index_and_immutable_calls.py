"""PostgreSQL: pg_trgm and the trigram index of the search document. Both: calls are append-only.

The index and the triggers live outside the model state (the ORM cannot
declare them portably); ``support.db`` holds their SQL. On SQLite the
extension and the index are skipped (search falls back to LIKE scans) and
the triggers use SQLite's own syntax.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


def forwards(apps, schema_editor):
    from support.db import create_trigram_index, install_immutability_triggers

    create_trigram_index(schema_editor)
    install_immutability_triggers(schema_editor)


def backwards(apps, schema_editor):
    from support.db import drop_trigram_index, remove_immutability_triggers

    remove_immutability_triggers(schema_editor)
    drop_trigram_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [
        TrigramExtension(),  # a no-op on other databases
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
