"""The deadline sweeper: takes clocks whose ``next_action_at`` has come, in batches, and
takes their steps (warn → overdue → escalate along the preset's chain).

Concurrency, exactly once:

* PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` on the clocks (ordered by the
  partial index on ``next_action_at``), then the batch's case rows with SKIP LOCKED as
  well. Any number of sweepers on any number of machines take disjoint batches. The
  sweeper never *waits* for a lock, so it cannot deadlock with a case transition
  (which locks case → clocks): a clock whose case is busy is left for the next pass.
* SQLite: the project's connections use ``transaction_mode=IMMEDIATE``, so each batch's
  ``atomic()`` block holds the database write lock from its first statement: sweepers
  (and web requests) take turns, one batch at a time. Keep batches modest there.
* Each batch is one transaction: a sweeper killed mid-batch rolls the whole batch back
  (no event, no desk entry, no task) and the next pass does it again.
* Every step inserts a ClockAction row unique on (clock, action, level): should two
  passes ever race to the same step, the second insert fails and nothing is sent
  twice. Notices to people leave as tasks enqueued on commit.

A clock whose processing raises is logged and retried a minute later, so one bad row
cannot stall the sweeper.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from huiyin.cases.models import Case
from huiyin.policy.services.calendars import CalendarCache, unknown_year_warnings

from .models import Clock
from .notify import Directory
from .services.actions import perform_step
from .services.clocks import next_step, refresh_next_action

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(minutes=1)
_MAX_STEPS_PER_CLOCK = 32  # warn + overdue + a chain: far below; guards against a bad rule


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class SweepResult:
    picked: int = 0  # clocks taken from the index
    processed: int = 0  # clocks acted on
    skipped: int = 0  # case row busy in another transaction: retried next pass
    failed: int = 0  # raised: logged, retried after RETRY_AFTER
    duplicates: int = 0  # steps another pass had already taken
    actions: Counter[str] = field(default_factory=Counter)

    @property
    def total_actions(self) -> int:
        return sum(self.actions.values())

    def merge(self, other: SweepResult) -> None:
        self.picked += other.picked
        self.processed += other.processed
        self.skipped += other.skipped
        self.failed += other.failed
        self.duplicates += other.duplicates
        self.actions.update(other.actions)


def _skip_locked() -> bool:
    return bool(connection.features.has_select_for_update_skip_locked)


def _process(
    clock: Clock,
    case: Case | None,
    *,
    now: datetime,
    worker_id: str,
    directory: Directory,
    calendars: CalendarCache,
    result: SweepResult,
    stamp: datetime | None = None,
) -> None:
    calendar = calendars.get(clock.organization_id, clock.policy_version)
    changed: set[str] = set()
    for _step_number in range(_MAX_STEPS_PER_CLOCK):
        step = next_step(clock, calendar, now)
        if step is None or step.at > now:
            break
        action, fields = perform_step(
            clock=clock, case=case, step=step, now=now, worker_id=worker_id, directory=directory, stamp=stamp
        )
        changed.update(fields)
        if action is None:
            result.duplicates += 1
        else:
            result.actions[step.action] += 1
    refresh_next_action(clock, calendar)
    clock.version += 1
    clock.save(update_fields=[*sorted(changed), "next_action_at", "version"])


def sweep_batch(
    due: QuerySet,
    *,
    now: datetime,
    batch: int,
    related: tuple[str, ...],
    process: Callable[[Any, Case | None], None],
    result: SweepResult,
    label: str,
    pause_between: float = 0.0,
) -> SweepResult:
    """One pass's transaction over rows with ``case_id`` (nullable) and ``next_action_at``:
    lock up to ``batch`` of ``due`` (in order) and their cases with SKIP LOCKED where the
    database has it, leave a row whose case is busy for the next pass (a row without a
    case is processed with ``case=None``), ``process(row, case)`` each in its own savepoint, and retry a row that raises
    after ``RETRY_AFTER``. ``pause_between`` (seconds) slows the pass down between rows —
    only for fault-injection tests (kill a worker mid-batch)."""
    with transaction.atomic():
        cases_qs = Case.objects.all()
        if _skip_locked():
            due = due.select_for_update(skip_locked=True, of=("self",))
            cases_qs = cases_qs.select_for_update(skip_locked=True)
        rows = list(due.select_related(*related)[:batch])
        result.picked = len(rows)
        if not rows:
            return result
        cases = {c.pk: c for c in cases_qs.filter(pk__in={r.case_id for r in rows if r.case_id is not None})}
        for row in rows:
            case = cases.get(row.case_id) if row.case_id is not None else None
            if case is None and row.case_id is not None:
                result.skipped += 1
                continue
            try:
                with transaction.atomic():
                    process(row, case)
                result.processed += 1
            except Exception:
                log.exception("%s %s failed; retrying after %s", label, row.pk, RETRY_AFTER)
                result.failed += 1
                type(row).objects.filter(pk=row.pk).update(next_action_at=now + RETRY_AFTER)
            if pause_between:
                time.sleep(pause_between)
    return result


def sweep(
    *,
    now: datetime | None = None,
    batch: int = 500,
    worker_id: str | None = None,
    pause_between: float = 0.0,
    history: bool = False,
    organization_id: int | None = None,
) -> SweepResult:
    """One pass: take up to ``batch`` clocks due by ``now`` and act on them, in one
    transaction. ``history``: the pass recreates a past moment of one organisation's
    (``organization_id``: the demo), so the steps' events and desk entries carry ``now``
    instead of the time they are written."""
    now = now or timezone.now()
    worker_id = worker_id or default_worker_id()
    result = SweepResult()
    directory, calendars = Directory(), CalendarCache()

    def process(clock: Clock, case: Case | None) -> None:
        _process(
            clock,
            case,
            now=now,
            worker_id=worker_id,
            directory=directory,
            calendars=calendars,
            result=result,
            stamp=now if history else None,
        )

    due = Clock.objects.filter(next_action_at__lte=now)
    if organization_id is not None:
        due = due.filter(organization_id=organization_id)
    return sweep_batch(
        due.order_by("next_action_at", "pk"),
        now=now,
        batch=batch,
        related=("policy_version",),
        process=process,
        result=result,
        label="sweeper: clock",
        pause_between=pause_between,
    )


def until_idle(
    sweep_fn: Callable[..., SweepResult], *, batch: int, max_passes: int = 1000, **kwargs: Any
) -> SweepResult:
    """Pass after pass of ``sweep_fn`` until a pass finds less than a full batch (tests,
    ``--once``)."""
    total = SweepResult()
    for _pass in range(max_passes):
        result = sweep_fn(batch=batch, **kwargs)
        total.merge(result)
        if result.picked < batch or (result.picked and not result.processed):
            break
    return total


def sweep_until_idle(
    *,
    now: datetime | None = None,
    batch: int = 500,
    worker_id: str | None = None,
    max_passes: int = 1000,
    history: bool = False,
    organization_id: int | None = None,
) -> SweepResult:
    return until_idle(
        sweep,
        batch=batch,
        max_passes=max_passes,
        now=now,
        worker_id=worker_id,
        history=history,
        organization_id=organization_id,
    )


# The day each process last logged the calendar's unknown years (once a day is enough).
_calendar_logged: dict[str, date] = {}


def log_calendar_warnings(today: date | None = None) -> int:
    """Once a day per process, a warning in the log for each year the holiday package does
    not know: the current one, and the next from 1 October (``unknown_year_warnings``).
    Returns how many lines were logged (0 when already logged today)."""
    today = today or timezone.localdate()
    if _calendar_logged.get("day") == today:
        return 0
    _calendar_logged["day"] = today
    warnings = unknown_year_warnings(today=today)
    for warning in warnings:
        when = "has begun" if warning.started else f"starts in {(date(warning.year, 1, 1) - today).days} day(s)"
        log.warning(
            "calendar: the holiday package does not know %d (%s): its working days count Monday to Friday "
            "unless its holidays are added (%d day(s) added for all organisations); upgrade chinesecalendar "
            "or add them on the calendar page",
            warning.year,
            when,
            warning.supplied,
        )
    return len(warnings)
