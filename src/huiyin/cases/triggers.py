"""The database refuses UPDATE, DELETE and TRUNCATE on ``cases_event`` (F82).

``Event.save`` and ``Event.delete`` already refuse at the ORM; these triggers make the
database itself refuse, whoever connects: raw SQL, a shell, another program.

* PostgreSQL: one trigger function, fired BEFORE UPDATE OR DELETE FOR EACH ROW and
  BEFORE TRUNCATE FOR EACH STATEMENT (row triggers do not see a TRUNCATE).
* SQLite: two triggers that ``RAISE(ABORT)`` (SQLite has no TRUNCATE).

On SQLite, a migration that alters ``cases_event`` rebuilds the table and the rebuild
drops its triggers: such a migration must end with
``migrations.RunPython(restore_event_triggers, migrations.RunPython.noop)``
(``tests/cases/test_audit.py`` checks that the triggers exist after all migrations).

``events_writable()`` suspends the refusal inside one transaction, for the only two
legitimate writers: ``flush`` (which empties the whole database) and tests that tamper
with events on purpose to prove that tampering is detected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

TABLE = "cases_event"
MESSAGE = "cases_event is append-only"

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION cases_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = '{MESSAGE}: ' || TG_OP || ' refused';
END;
$$
"""
POSTGRES_TRIGGERS = ("cases_event_append_only", "cases_event_no_truncate")
POSTGRES_INSTALL = (
    POSTGRES_FUNCTION,
    *(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}" for name in POSTGRES_TRIGGERS),
    f"CREATE TRIGGER cases_event_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION cases_event_append_only()",
    f"CREATE TRIGGER cases_event_no_truncate BEFORE TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION cases_event_append_only()",
)
POSTGRES_REMOVE = (
    *(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}" for name in POSTGRES_TRIGGERS),
    "DROP FUNCTION IF EXISTS cases_event_append_only()",
)

SQLITE_TRIGGERS = ("cases_event_no_update", "cases_event_no_delete")
SQLITE_REMOVE = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS)
SQLITE_INSTALL = (
    *SQLITE_REMOVE,
    f"CREATE TRIGGER cases_event_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END",
    f"CREATE TRIGGER cases_event_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END",
)


def _statements(vendor: str, *, install: bool) -> tuple[str, ...]:
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def restore_event_triggers(apps: Any, schema_editor: Any) -> None:
    """RunPython callable: (re)create the triggers; safe to run any number of times."""
    for sql in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql)


def remove_event_triggers(apps: Any, schema_editor: Any) -> None:
    """RunPython callable for migrating backwards."""
    for sql in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql)


def installed_triggers(using: str = DEFAULT_DB_ALIAS) -> set[str]:
    """Names of the append-only triggers present (and, on PostgreSQL, enabled) on cases_event."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        names = {row[0] for row in cursor.fetchall()}
    expected = POSTGRES_TRIGGERS if connection.vendor == "postgresql" else SQLITE_TRIGGERS
    return names & set(expected)


@contextmanager
def events_writable(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Suspend the refusal for one transaction: on PostgreSQL the trigger is disabled, on
    SQLite dropped, and both are back when the block ends (commit or rollback alike, since
    the DDL is part of the transaction). Events written or removed inside no longer verify
    unless their keyed hashes and the anchors agree: this is a way to empty or to tamper,
    not to rewrite history unseen."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses while deferred foreign-key checks on the table are pending
            # (rows written earlier in this transaction): run them now, defer again after.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name in POSTGRES_TRIGGERS:
                cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {name}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for sql in SQLITE_REMOVE:
                cursor.execute(sql)
        yield
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name in POSTGRES_TRIGGERS:
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {name}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for sql in SQLITE_INSTALL:
                cursor.execute(sql)
