"""Background tasks are acknowledged only when done, retried, and never lost silently.

How each backend behaves when a worker dies in the middle of a task (``kill -9``, OOM,
power loss), and what Huiyin adds:

* **Database queue** (``django_tasks_db``, the default). A worker claims a row
  (``status=RUNNING``, its id appended to ``worker_ids``) and commits *before* it runs
  the task, so a killed worker leaves the row ``RUNNING`` for ever: nobody retries it and
  nobody sees it fail. ``huiyin huiyin_worker`` therefore

  - beats a ``WorkerHeartbeat`` row from a thread of its own every few seconds;
  - reaps (``reap``): a ``RUNNING`` task whose worker stopped beating for
    ``HUIYIN_TASK_WORKER_DEAD_AFTER`` seconds, or that has run longer than
    ``HUIYIN_TASK_STUCK_AFTER``, goes back to ``READY`` (after a backoff) — any worker
    may reap, rows are taken with ``SKIP LOCKED``;
  - re-queues a task that raised (``retry_failed``), with exponential backoff.

  The number of attempts is ``len(worker_ids)`` (one per claim). After
  ``HUIYIN_TASK_MAX_ATTEMPTS`` a task stays ``FAILED`` (a lost one with
  ``TaskLost``): the administrators' status page and ``huiyin tasks status`` list it,
  ``huiyin tasks retry ID`` gives it another attempt.

* **RQ on Redis** (``django_tasks_rq``). A dequeued job sits in the queue's
  ``StartedJobRegistry`` with a heartbeat; when the work horse is killed the worker marks
  the job failed at once, and when the whole worker dies RQ's registry maintenance finds
  the abandoned job once its heartbeat expires (``AbandonedJobError``). Either way RQ
  retries a job only if it was enqueued with retries, which ``django_tasks_rq`` does not
  do: ``huiyin.ops.rq.RetryingRQBackend`` enqueues every job with
  ``HUIYIN_TASK_MAX_ATTEMPTS`` attempts and the same backoff, and ``huiyin_worker`` runs
  the RQ worker with its scheduler (for the backoff) and a short maintenance interval.
  What is left in the ``FailedJobRegistry`` is listed like the database's failures.

Running a task twice is harmless by construction: every task body is idempotent (case
event side effects are recorded per event and subscriber, ``cases.EventDelivery``;
messages are keyed, ``notifications.Message``; desk entries are unique per recipient and
key), so a reaped task that was only slow does no harm when it runs again.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from .models import WorkerHeartbeat

log = logging.getLogger("huiyin.tasks")

LOST = "huiyin.ops.taskqueue.TaskLost"


class TaskLost(Exception):
    """The worker running the task died (or the task ran past the stuck limit)."""


# --- settings -------------------------------------------------------------------------


def max_attempts() -> int:
    return max(1, int(getattr(settings, "HUIYIN_TASK_MAX_ATTEMPTS", 5)))


def dead_after() -> timedelta:
    """A worker silent this long is dead: its running task is lost."""
    return timedelta(seconds=float(getattr(settings, "HUIYIN_TASK_WORKER_DEAD_AFTER", 60)))


def stuck_after() -> timedelta:
    """A task running this long is stuck, whatever its worker says."""
    return timedelta(seconds=float(getattr(settings, "HUIYIN_TASK_STUCK_AFTER", 900)))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: base, 2×base, 4×base… capped at ten minutes."""
    base = float(getattr(settings, "HUIYIN_TASK_RETRY_BACKOFF", 5))
    return timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 600.0))


def backend_kind() -> str:
    """``db``, ``rq`` or ``immediate``: which queue the default task backend is."""
    path = str(settings.TASKS["default"]["BACKEND"])
    if "RQBackend" in path:
        return "rq"
    if "DatabaseBackend" in path:
        return "db"
    return "immediate"


# --- the database queue ---------------------------------------------------------------


def _requeue(row: Any, *, now: datetime, reason_class: str, reason: str) -> bool:
    """Back to READY after a backoff, or FAILED for good; True when re-queued."""

    attempts = len(row.worker_ids or [])
    row.exception_class_path = reason_class
    row.traceback = reason
    if attempts < max_attempts():
        row.status = TaskResultStatus.READY
        row.run_after = now + backoff(attempts)
        row.finished_at = None
        row.save(update_fields=["status", "run_after", "finished_at", "exception_class_path", "traceback"])
        return True
    row.status = TaskResultStatus.FAILED
    row.finished_at = now
    row.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
    return False


def retry_failed(task_id: Any, *, now: datetime | None = None) -> bool:
    """After a run that raised: re-queue with backoff while attempts remain (the worker
    calls this right after marking the task failed). True when re-queued."""

    now = now or timezone.now()
    with transaction.atomic():
        row = DBTaskResult.objects.select_for_update().filter(pk=task_id, status=TaskResultStatus.FAILED).first()
        if row is None:
            return False
        attempts = len(row.worker_ids or [])
        requeued = _requeue(
            row,
            now=now,
            reason_class=row.exception_class_path,
            reason=row.traceback,
        )
    error = (row.exception_class_path or "").rsplit(".", 1)[-1] or "error"
    if requeued:
        log.warning(
            "task %s (%s) failed on attempt %d of %d (%s): retrying in %ss",
            row.pk,
            row.task_path,
            attempts,
            max_attempts(),
            error,
            int(backoff(attempts).total_seconds()),
        )
    else:
        log.error(
            "task %s (%s) failed %d times (%s): given up, see the status page", row.pk, row.task_path, attempts, error
        )
    return requeued


@dataclass
class ReapResult:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.requeued) + len(self.failed)


def _alive_workers(now: datetime) -> set[str]:

    return set(WorkerHeartbeat.objects.filter(last_beat_at__gte=now - dead_after()).values_list("worker_id", flat=True))


def _lost_rows(now: datetime, alive: set[str]) -> list[tuple[Any, str]]:
    """RUNNING rows whose worker is dead or which ran past the stuck limit, with why."""

    out = []
    for row in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=now - dead_after()):
        worker = (row.worker_ids or ["?"])[-1]
        if row.started_at is not None and row.started_at < now - stuck_after():
            out.append((row, f"ran longer than {int(stuck_after().total_seconds())}s on worker {worker}"))
        elif worker not in alive:
            out.append((row, f"worker {worker} stopped beating while running it"))
    return out


def reap(*, now: datetime | None = None, limit: int = 200) -> ReapResult:
    """Re-queue (or, out of attempts, fail) the RUNNING tasks whose worker died or that
    are stuck. Safe to run from any number of workers at once."""

    now = now or timezone.now()
    result = ReapResult()
    if backend_kind() != "db":
        return result
    alive = _alive_workers(now)
    candidates = {str(row.pk): why for row, why in _lost_rows(now, alive)[:limit]}
    if not candidates:
        return result
    with transaction.atomic():
        rows = DBTaskResult.objects.filter(pk__in=list(candidates), status=TaskResultStatus.RUNNING)
        if _skip_locked():
            rows = rows.select_for_update(skip_locked=True)
        for row in rows:
            why = candidates[str(row.pk)]
            attempts = len(row.worker_ids or [])
            if _requeue(row, now=now, reason_class=LOST, reason=f"TaskLost: {why} (attempt {attempts})"):
                result.requeued.append(str(row.pk))
                log.warning("task %s (%s) lost: %s; re-queued (attempt %d)", row.pk, row.task_path, why, attempts)
            else:
                result.failed.append(str(row.pk))
                log.error("task %s (%s) lost: %s; failed after %d attempts", row.pk, row.task_path, why, attempts)
    return result


def keep_done() -> timedelta:
    return timedelta(days=float(getattr(settings, "HUIYIN_TASK_KEEP_DAYS", 7)))


def prune(*, now: datetime | None = None, chunk: int = 1000) -> int:
    """Delete successful tasks finished longer ago than ``HUIYIN_TASK_KEEP_DAYS`` (failed
    ones stay until someone looks at them), a chunk at a time; returns how many went."""

    if backend_kind() != "db":
        return 0
    now = now or timezone.now()
    old = DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - keep_done())
    ids = list(old.values_list("pk", flat=True)[:chunk])
    return DBTaskResult.objects.filter(pk__in=ids).delete()[0] if ids else 0


def _skip_locked() -> bool:

    return bool(connection.features.has_select_for_update_skip_locked)


def retry_now(task_id: str) -> bool:
    """An administrator's "once more": a FAILED task back to READY at once (one more
    attempt beyond the limit). False when there is no such failed task."""

    if backend_kind() == "rq":
        from .rq import retry_failed_job  # cycle: rq imports QueueStatus and backoff from this module

        return retry_failed_job(task_id)
    if backend_kind() != "db":
        return False
    try:
        uuid.UUID(task_id)
    except ValueError:
        return False  # not a task id of this queue
    updated = DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY, run_after=get_date_max(), finished_at=None
    )
    if updated:
        log.warning("task %s re-queued by hand", task_id)
    return bool(updated)


# --- what the status page and `huiyin tasks status` show ------------------------------


@dataclass
class TaskProblem:
    id: str
    name: str
    status: str  # failed | lost | retrying
    attempts: int
    enqueued_at: datetime | None
    last_attempt_at: datetime | None
    error: str  # the exception class, never its message (it may carry personal data)
    detail: str = ""


@dataclass
class QueueStatus:
    backend: str
    queued: int = 0
    running: int = 0
    retrying: int = 0  # waiting for another attempt after a failure or a lost run
    lost: int = 0  # running on a dead worker, not yet reaped
    failed: int = 0  # out of attempts
    done_24h: int = 0
    oldest_queued_at: datetime | None = None
    problems: list[TaskProblem] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not (self.failed or self.lost)


def _short_error(path: str) -> str:
    return path.rsplit(".", 1)[-1] if path else ""


def queue_status(*, now: datetime | None = None, limit: int = 50, detail: bool = True) -> QueueStatus:
    """Counts, and with ``detail`` the tasks done in a day and the problem list."""
    now = now or timezone.now()
    kind = backend_kind()
    if kind == "rq":
        from .rq import rq_status  # cycle: rq imports QueueStatus and backoff from this module

        return rq_status(limit=limit, detail=detail)
    status = QueueStatus(backend=kind)
    if kind != "db":
        return status

    rows = DBTaskResult.objects.filter(backend_name="default")
    ready = rows.filter(status=TaskResultStatus.READY)
    status.queued = ready.count()
    status.retrying = ready.exclude(worker_ids=[]).count()
    status.running = rows.filter(status=TaskResultStatus.RUNNING).count()
    status.failed = rows.filter(status=TaskResultStatus.FAILED).count()
    lost = _lost_rows(now, _alive_workers(now))
    status.lost = len(lost)
    if not detail:
        return status
    status.done_24h = rows.filter(status=TaskResultStatus.SUCCESSFUL, finished_at__gte=now - timedelta(days=1)).count()
    status.oldest_queued_at = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()

    def problem(row: Any, state: str, detail: str = "") -> TaskProblem:
        return TaskProblem(
            id=str(row.pk),
            name=row.task_path.rsplit(".", 1)[-1],
            status=state,
            attempts=len(row.worker_ids or []),
            enqueued_at=row.enqueued_at,
            last_attempt_at=row.started_at,
            error=_short_error(row.exception_class_path),
            detail=detail,
        )

    status.problems = [problem(row, "lost", why) for row, why in lost[:limit]]
    for row in rows.filter(status=TaskResultStatus.FAILED).order_by("-finished_at")[:limit]:
        status.problems.append(problem(row, "failed"))
    for row in ready.exclude(worker_ids=[]).order_by("run_after")[:limit]:
        status.problems.append(problem(row, "retrying"))
    return status
