"""Test databases cloned from one migrated template (the ``django_db_setup`` of tests/conftest.py).

Migrating an empty database takes 20-30 s of one core, nearly all of it Django rendering
the models' states between migrations, and every test process paid it: each xdist worker
of each CI step, the fault test's and the contract fuzz's own processes, every local run.
Now the first process to need a database migrates a template named after a fingerprint of
the migrations (their files and Django's version), under a lock shared by every process on
the machine (a lock file for SQLite, an advisory lock on PostgreSQL); the others wait for it
and clone it, SQLite by copying the file, PostgreSQL with ``CREATE DATABASE ... TEMPLATE``.
Django then opens the clone as a kept test database (its ``migrate`` finds nothing to do)
and drops it at the end as usual. A changed migration changes the fingerprint, so a stale
template is never used; older templates are removed when a new one is made.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import django
from django.conf import settings
from django.db import connections

ADVISORY_KEY = 0x4875_6979  # any constant: the template lock among the test processes on one server


def fingerprint() -> str:
    """The migrations as the loader finds them on disk, and the Django that runs them."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    digest = hashlib.sha256(django.get_version().encode())
    for key in sorted(loader.disk_migrations):
        module = sys.modules[type(loader.disk_migrations[key]).__module__]
        digest.update(repr(key).encode())
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:12]


def _migrate_into(alias: str, name: str) -> None:
    """Create and migrate the database ``name`` as Django makes a test database, then put the
    connection's settings back as they were."""
    connection = connections[alias]
    saved_name, saved_test = connection.settings_dict["NAME"], dict(connection.settings_dict["TEST"])
    connection.settings_dict["TEST"]["NAME"] = name
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = saved_name
        connection.settings_dict["TEST"] = saved_test


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_template(alias: str, fp: str) -> Path:
    """The migrated template file, built first if missing. The caller holds the lock."""
    template = Path(settings.DATA_DIR) / f"test-template-{fp}.sqlite3"
    if not template.exists():
        building = template.with_suffix(".building")
        _migrate_into(alias, str(building))
        for old in Path(settings.DATA_DIR).glob("test-template-*.sqlite3"):
            old.unlink(missing_ok=True)
        os.replace(building, template)
    return template


def _sqlite_lock() -> Path:
    return Path(settings.DATA_DIR) / "test-template.lock"


def _sqlite_clone(alias: str, fp: str) -> None:
    connection = connections[alias]
    test_name = Path(connection.creation._get_test_db_name())
    with _file_lock(_sqlite_lock()):
        template = _sqlite_template(alias, fp)
        for leftover in (test_name, Path(f"{test_name}-wal"), Path(f"{test_name}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(template, test_name)


@contextmanager
def _postgres_lock(alias: str) -> Iterator[object]:
    with connections[alias]._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_KEY])
        try:
            yield cursor
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])


def _postgres_template(alias: str, fp: str, cursor) -> str:
    """The migrated template database's name, built first if missing. The caller holds the lock."""
    quote = connections[alias].ops.quote_name
    template = f"test_template_{fp}"
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
    if cursor.fetchone() is None:
        building = f"{template}_building"
        _migrate_into(alias, building)
        cursor.execute(f"ALTER DATABASE {quote(building)} RENAME TO {quote(template)}")
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_template\\_%%'")
        for (old,) in cursor.fetchall():
            if old != template:
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(old)}")
    return template


def _postgres_clone(alias: str, fp: str) -> None:
    connection = connections[alias]
    quote = connection.ops.quote_name
    test_name = connection.creation._get_test_db_name()
    with _postgres_lock(alias) as cursor:
        template = _postgres_template(alias, fp, cursor)
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(test_name)}")
        cursor.execute(f"CREATE DATABASE {quote(test_name)} TEMPLATE {quote(template)}")


def clone_from_template(alias: str = "default") -> bool:
    """Put a migrated database where Django will look for this process's test database.
    False when this database cannot be cloned (an in-memory SQLite, another engine): then
    Django migrates one as before."""
    connection = connections[alias]
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db() or connection.creation._get_test_db_name() == ":memory:":
            return False
        _sqlite_clone(alias, fingerprint())
        return True
    if connection.vendor == "postgresql":
        _postgres_clone(alias, fingerprint())
        return True
    return False


def build(alias: str = "default") -> str:
    """Build the template now if it is missing (what the first test process would do), and
    name it. CI runs this before the suite, beside other single-core work
    (``python -m tests.dbtemplate``), so that no test worker waits for the migrations."""
    connection = connections[alias]
    fp = fingerprint()
    if connection.vendor == "sqlite":
        with _file_lock(_sqlite_lock()):
            return str(_sqlite_template(alias, fp))
    if connection.vendor == "postgresql":
        with _postgres_lock(alias) as cursor:
            return _postgres_template(alias, fp, cursor)
    raise SystemExit(f"no template for the {connection.vendor} engine")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    django.setup()
    print(f"test database template: {build()}")
