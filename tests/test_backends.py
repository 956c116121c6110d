"""Which backing services this run really uses.

CI runs the suite twice, on SQLite and on PostgreSQL + Redis. These tests make the
second run prove it: with ``HUIYIN_REQUIRE_POSTGRES=1`` the database must be PostgreSQL,
with ``HUIYIN_REQUIRE_REDIS=1`` a real Redis must answer at ``REDIS_URL``, so a lost
DATABASE_URL cannot quietly run SQLite twice. Without those flags they skip.
"""

from __future__ import annotations

import os

import pytest


def _required(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _check_postgresql() -> None:
    if not _required("HUIYIN_REQUIRE_POSTGRES"):
        pytest.skip(
            "HUIYIN_REQUIRE_POSTGRES is not set: the database is whatever DATABASE_URL gives (SQLite when unset)"
        )
    from django.db import connection

    assert connection.vendor == "postgresql", (
        f"HUIYIN_REQUIRE_POSTGRES=1 but the tests run on {connection.vendor}: "
        "set DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/NAME"
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_encoding")
        (encoding,) = cursor.fetchone()
        cursor.execute("SELECT %s::text", ["回音"])
        (echoed,) = cursor.fetchone()
    assert encoding == "UTF8"
    assert echoed == "回音"


@pytest.mark.postgres
def test_database_is_postgresql_when_required(db):
    _check_postgresql()


@pytest.mark.redis
def test_redis_answers_when_required(settings):
    if not _required("HUIYIN_REQUIRE_REDIS"):
        pytest.skip("HUIYIN_REQUIRE_REDIS is not set: no Redis server is needed (cache and tasks run in-process)")
    url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    assert url, "HUIYIN_REQUIRE_REDIS=1 but REDIS_URL is not set"
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        assert client.ping() is True
    finally:
        client.close()
    # The settings picked it up too: the cache is Redis and round-trips Chinese text.
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    cache.set("huiyin-test-backends-probe", "回音", 30)
    assert cache.get("huiyin-test-backends-probe") == "回音"
    cache.delete("huiyin-test-backends-probe")
