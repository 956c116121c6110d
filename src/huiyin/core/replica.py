"""Reads that may go to a read replica (``DATABASE_REPLICA_URL``): the dashboard and the
reports, which read much and write nothing.

``replica_reads()`` marks a block of code; while it runs, ``ReplicaRouter`` sends every
read to the ``replica`` database when one is configured (writes, and reads outside such
a block, stay on ``default``). A replica lags its primary by a moment: what a person just
did may be missing from a figure for that long, never from the pages that act on cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
_reading: ContextVar[bool] = ContextVar("huiyin_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    """Reads inside ``replica_reads()`` from the replica; everything else from default."""

    def db_for_read(self, model, **hints):
        if _reading.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows the primary's schema
