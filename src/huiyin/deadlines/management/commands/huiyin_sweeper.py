"""The deadline sweeper as a long-lived worker (started by ``huiyin serve``). It also
anchors the case event chains' heads every HUIYIN_AUDIT_ANCHOR_SECONDS (cases.audit) and
does the subscriber table's timetabled work (``periodic``: a survey round when due).

    huiyin huiyin_sweeper [--batch 500] [--interval 1.0] [--once] [--worker-id ID]

Any number may run, on any number of machines (PostgreSQL); on SQLite they take turns.
SIGTERM / Ctrl+C finish the current batch and exit.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from huiyin.cases import audit, bus
from huiyin.deadlines.models import SweeperHeartbeat
from huiyin.deadlines.sweeper import default_worker_id, log_calendar_warnings, sweep

log = logging.getLogger("huiyin.deadlines.sweeper")
HEARTBEAT_EVERY = 10.0  # seconds


class Command(BaseCommand):
    help = "Take due deadline clocks in batches: warnings, overdue notices, escalations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="clocks per transaction (default 500)")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to sleep when nothing is due (default 1.0)",
        )
        parser.add_argument("--once", action="store_true", help="sweep until nothing is due, then exit")
        parser.add_argument("--worker-id", default="", help="name in the records (default host:pid)")
        # Fault injection for the restart test: sleep between clocks inside a batch.
        parser.add_argument("--pause-between-clocks", type=float, default=0.0, help=argparse.SUPPRESS)

    def handle(
        self,
        *args: Any,
        batch: int,
        interval: float,
        once: bool,
        worker_id: str,
        pause_between_clocks: float,
        **options: Any,
    ) -> None:
        worker_id = worker_id or default_worker_id()
        stopping = False

        def stop(*_args: Any) -> None:
            nonlocal stopping
            stopping = True

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        started = timezone.now()
        last_beat = last_anchor = 0.0
        last_run: dict[str, float] = {}
        batches = actions = 0
        error = ""
        if not once:
            self.stdout.write(f"deadline sweeper {worker_id}: batch {batch}, interval {interval}s")
        while not stopping:
            self._recycle_connection()
            try:
                log_calendar_warnings()  # once a day: a year the holiday package does not know
                result = sweep(batch=batch, worker_id=worker_id, pause_between=pause_between_clocks)
            except DatabaseError as exc:  # database restarting, connection lost: wait and retry
                error = str(exc)[:500]
                log.warning("sweeper %s: database error, retrying: %s", worker_id, exc)
                if once:
                    raise
                connection.close()
                time.sleep(max(interval, 1.0))
                continue
            batches += 1
            actions += result.total_actions
            if result.total_actions or result.failed:
                log.info(
                    "sweeper %s: %s",
                    worker_id,
                    dict(result.actions, failed=result.failed, skipped=result.skipped),
                )
            if not once:
                last_anchor = self._anchor(last_anchor)
            self._periodic(last_run)
            if time.monotonic() - last_beat >= HEARTBEAT_EVERY or once:
                last_beat = time.monotonic()
                self._beat(worker_id, started, batches, actions, error)
            # Another batch at once while the last one was full (every subject's clocks).
            if result.picked >= batch and (result.processed or not result.picked):
                continue
            if once:
                break
            deadline = time.monotonic() + interval
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))
        if once:
            self.stdout.write(f"swept: {batches} batch(es), {actions} action(s)")

    @staticmethod
    def _recycle_connection() -> None:
        """Drop a broken or too old connection between batches (never inside a caller's
        transaction, e.g. when run from a test)."""
        if not connection.in_atomic_block:
            close_old_connections()

    @staticmethod
    def _anchor(last: float) -> float:
        """Every HUIYIN_AUDIT_ANCHOR_SECONDS, the heads of the cases that got events go to
        the anchor log (cases.audit.anchor); a failure is logged and tried next time."""
        every = settings.HUIYIN_AUDIT_ANCHOR_SECONDS
        if not every or time.monotonic() - last < every:
            return last
        try:
            run = audit.anchor()
        except (DatabaseError, OSError) as exc:
            log.warning("audit anchor failed, will retry: %s", exc)
        else:
            if run.broken:
                log.error("audit: %d case(s) with a broken event chain: %s", len(run.broken), sorted(run.broken))
        return time.monotonic()

    @staticmethod
    def _periodic(last_run: dict[str, float]) -> None:
        """The table's timetabled work, each entry at most once per its interval; a failure
        is logged and tried at the next interval."""
        for name, every, job in bus.table().periodic:
            if name in last_run and time.monotonic() - last_run[name] < every:
                continue
            last_run[name] = time.monotonic()
            try:
                job(timezone.now())
            except Exception:  # one job's failure must not stop the sweeper: logged, tried again later
                log.exception("periodic %s failed, will retry", name)

    @staticmethod
    def _beat(worker_id: str, started: Any, batches: int, actions: int, error: str) -> None:
        try:
            SweeperHeartbeat.objects.update_or_create(
                worker_id=worker_id,
                defaults={
                    "started_at": started,
                    "last_beat_at": timezone.now(),
                    "batches": batches,
                    "actions": actions,
                    "last_error": error,
                },
            )
        except DatabaseError:
            log.warning("sweeper %s: heartbeat not written", worker_id)
