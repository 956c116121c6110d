"""Tasks only the tests enqueue (the worker imports them by path)."""

from __future__ import annotations

from django_tasks import task


@task()
def always_fails() -> None:
    raise RuntimeError("gateway down")


@task()
def succeeds() -> int:
    return 1
