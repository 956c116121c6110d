"""A sweeper worker process for the timer benchmark's throughput runs.

Each worker is its own interpreter and database connection, like a sweeper started on
another machine: it sets Django up, reports ready, waits for the common start time and
then runs the real command, ``huiyin_sweeper --once`` (pass after pass until nothing is
due). Module-level imports stay free of Django: spawned workers import this module
before they set Django up.
"""

from __future__ import annotations

import io
import os
import re
import time


def sweeper_worker(index: int, worker_id: str, batch: int, start_box, ready, out) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        connection.ensure_connection()
    except BaseException as exc:  # noqa: BLE001
        ready.put(("error", index, f"{type(exc).__name__}: {exc}"))
        raise
    ready.put(("ready", index, ""))
    while start_box.value == 0.0:  # published once every worker is ready
        time.sleep(0.001)
    while time.time() < start_box.value:
        time.sleep(0.0005)
    started = time.time()
    buf = io.StringIO()
    error = ""
    try:
        call_command("huiyin_sweeper", "--once", "--batch", str(batch), "--worker-id", worker_id, stdout=buf)
    except Exception as exc:  # noqa: BLE001 - reported
        error = f"{type(exc).__name__}: {exc}"
    finished = time.time()
    connection.close()
    match = re.search(r"swept: (\d+) batch\(es\), (\d+) action\(s\)", buf.getvalue())
    out.put(
        {
            "worker": index,
            "worker_id": worker_id,
            "started": started,
            "finished": finished,
            "batches": int(match.group(1)) if match else None,
            "actions": int(match.group(2)) if match else None,
            "error": error,
        }
    )
