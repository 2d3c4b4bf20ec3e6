"""On PostgreSQL, a live visit must agree with its route's crew, date and plan.

Django cannot declare a composite foreign key, so this one is plain SQL; it
makes the ledger's last consistency rule a database rule too (SQLite keeps it
through ``dispatch.ledger``, the only writer, and ``ledger_problems``).
``MATCH SIMPLE`` leaves visits off the schedule (``route_id`` NULL) unchecked.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE dispatch_liveroute ADD CONSTRAINT live_route_identity "
    "UNIQUE (id, crew_id, date, plan_id)",
    "ALTER TABLE dispatch_visit ADD CONSTRAINT visit_live_on_its_own_route "
    "FOREIGN KEY (route_id, crew_id, date, plan_id) "
    "REFERENCES dispatch_liveroute (id, crew_id, date, plan_id)",
]
BACKWARD = [
    "ALTER TABLE dispatch_visit DROP CONSTRAINT IF EXISTS visit_live_on_its_own_route",
    "ALTER TABLE dispatch_liveroute DROP CONSTRAINT IF EXISTS live_route_identity",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0008_live_schedule")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
