"""The task worker ``huiyin huiyin_worker`` runs: the backend's own worker, plus what
makes a task survive its worker (see ``taskqueue``).

* Database queue: ``django_tasks_db``'s worker loop, with a task that raised re-queued
  with backoff, and a thread that beats this worker's ``WorkerHeartbeat`` row and reaps
  the tasks of dead workers (any number of workers may run; each reaps).
* RQ: RQ's worker with its scheduler (retries wait out their backoff in the scheduled
  registry) and registry maintenance every ``HUIYIN_TASK_WORKER_DEAD_AFTER`` seconds
  (abandoned jobs are found and retried), the job class ``django_tasks_rq`` needs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

import django_rq
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker

from . import taskqueue
from .models import WorkerHeartbeat

log = logging.getLogger("huiyin.tasks")
PRUNE_EVERY = 3600.0  # seconds between deletions of old successful tasks


def new_worker_id() -> str:
    """host:pid:random, at most 64 characters (django_tasks_db's limit)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(6)}"


class DatabaseWorker(Worker):
    """``django_tasks_db``'s worker; a task that raised goes back to the queue while it
    has attempts left."""

    tasks_done = 0
    tasks_failed = 0

    def run_task(self, db_task_result: Any) -> None:
        super().run_task(db_task_result)
        if db_task_result.status == TaskResultStatus.FAILED:
            self.tasks_failed += 1
            taskqueue.retry_failed(db_task_result.pk)
        else:
            self.tasks_done += 1


class Heartbeat(threading.Thread):
    """Beats the worker's row and reaps lost tasks, on its own database connection, so a
    long task does not silence the worker."""

    def __init__(self, worker: DatabaseWorker, every: float) -> None:
        super().__init__(name="huiyin-worker-heartbeat", daemon=True)
        self.worker = worker
        self.every = every
        self.stopping = threading.Event()

    def beat(self) -> None:
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker.worker_id,
            defaults={
                "last_beat_at": now,
                "tasks_done": self.worker.tasks_done,
                "tasks_failed": self.worker.tasks_failed,
            },
            create_defaults={"started_at": now, "last_beat_at": now},
        )

    def run(self) -> None:
        pruned_at = 0.0
        while not self.stopping.wait(self.every):
            try:
                close_old_connections()
                self.beat()
                taskqueue.reap()
                if time.monotonic() - pruned_at > PRUNE_EVERY:
                    pruned_at = time.monotonic()
                    taskqueue.prune()
            except DatabaseError as exc:  # the database restarting: try again next beat
                log.warning("worker %s: heartbeat or reaping failed: %s", self.worker.worker_id, exc)
                connection.close()
        connection.close()


def run_database_worker(*, queue_names: list[str], interval: float, worker_id: str) -> None:
    worker = DatabaseWorker(
        queue_names=queue_names,
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=True,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    heartbeat = Heartbeat(worker, every=max(0.2, min(5.0, taskqueue.dead_after().total_seconds() / 4)))
    heartbeat.beat()  # before the first claim: a running task always has a beating worker
    taskqueue.reap()
    connection.close()  # the thread opens its own; the worker loop opens the main thread's
    heartbeat.start()
    log.info(
        "task worker %s: database queue %s, %d attempts, dead after %ss",
        worker_id,
        ",".join(queue_names),
        taskqueue.max_attempts(),
        int(taskqueue.dead_after().total_seconds()),
    )
    # A failure is one line from taskqueue (retried, or given up), not django_tasks' as well.
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("django_tasks").setLevel(logging.CRITICAL)
    worker.configure_signals()
    try:
        worker.run()
    finally:
        heartbeat.stopping.set()


def run_rq_worker(*, queue_names: list[str], worker_id: str) -> None:

    worker = django_rq.get_worker(
        *queue_names,
        job_class="django_tasks_rq.Job",
        name=worker_id.replace(":", "-"),
        maintenance_interval=max(10, int(taskqueue.dead_after().total_seconds())),
    )
    log.info("task worker %s: RQ queues %s, %d attempts", worker_id, ",".join(queue_names), taskqueue.max_attempts())
    worker.work(with_scheduler=True)
