"""Django's ``flush`` with the events included.

``flush`` empties every table. On SQLite it does so with ``DELETE FROM``, which the
append-only triggers on ``cases_event`` refuse (``huiyin.cases.triggers``); on PostgreSQL
with TRUNCATE, which a statement trigger refuses. Emptying the whole database is the one
deletion of events we allow, so the refusal is suspended for the flush's transaction.
The test runner flushes after every transactional test; an operator who flushes a real
installation must also start a new anchor log (``HUIYIN_AUDIT_ANCHOR_LOG``), or
``huiyin audit verify`` reports every anchored case as missing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from huiyin.cases.triggers import events_writable


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with events_writable(using=options["database"]):
            super().handle(**options)
