"""Serialising writers on a name without a failing INSERT.

A unique constraint that catches a race does so with an error, and PostgreSQL writes
the failing statement, with its values, to the server log (``log_min_error_statement``):
for a registration that is the complaint text. Writers that may race on a key take
``xact_lock(key)`` first and then look: the second waits until the first commits and
finds its row, so the constraint never fires in the normal course of things.
"""

from __future__ import annotations

import hashlib

from django.db import connection


def xact_lock(name: str) -> None:
    """Hold a lock on ``name`` until the current transaction ends (call inside
    ``transaction.atomic``). PostgreSQL: a transaction-level advisory lock on a 64-bit
    hash of the name (a collision only makes two writers wait for each other). SQLite:
    nothing more to do, an IMMEDIATE transaction already holds the database write lock."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
