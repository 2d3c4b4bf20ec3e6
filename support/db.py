"""Database objects the ORM cannot declare: the trigram index and the immutability triggers.

Kept as SQL in one place so the migration, the tests and the benchmark (which
drops and rebuilds the index around its bulk load) all use the same text.
"""

from __future__ import annotations

from typing import Any

TRIGRAM_INDEX_NAME = "support_entry_document_trgm"

#: PostgreSQL only: ``document LIKE '%token%'`` is answered from this index.
TRIGRAM_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX_NAME} "
    "ON support_sitesearchentry USING gin (document gin_trgm_ops)"
)
DROP_TRIGRAM_INDEX_SQL = f"DROP INDEX IF EXISTS {TRIGRAM_INDEX_NAME}"

IMMUTABLE_TABLES = ("support_call", "support_callamendment")
#: Append-only like calls since migration 0005 (the hand-off inbox's history).
HANDOFF_TABLES = ("support_handoff", "support_handoffevent")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION support_refuse_call_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM support_callpurge WHERE active) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'support: % rows are immutable; append an amendment instead', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql
"""


def _pg_statements(tables: tuple[str, ...]) -> list[str]:
    statements = [_PG_FUNCTION]
    for table in tables:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}",
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION support_refuse_call_change()",
        ]
    return statements


def _sqlite_statements(tables: tuple[str, ...]) -> list[str]:
    statements = []
    for table in tables:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'support: {table} rows are immutable; append an amendment "
            "instead'); END",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "WHEN NOT EXISTS (SELECT 1 FROM support_callpurge WHERE active) BEGIN "
            f"SELECT RAISE(ABORT, 'support: {table} rows are immutable; append an amendment "
            "instead'); END",
        ]
    return statements


def install_immutability_triggers(
    schema_editor: Any, tables: tuple[str, ...] = IMMUTABLE_TABLES
) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": _pg_statements, "sqlite": _sqlite_statements}.get(vendor)
    for statement in statements(tables) if statements else []:
        schema_editor.execute(statement, params=None)


def remove_immutability_triggers(
    schema_editor: Any, tables: tuple[str, ...] = IMMUTABLE_TABLES
) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if vendor == "postgresql" and tables == IMMUTABLE_TABLES:
        schema_editor.execute("DROP FUNCTION IF EXISTS support_refuse_call_change()")


def create_trigram_index(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGRAM_INDEX_SQL)


def drop_trigram_index(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGRAM_INDEX_SQL)
