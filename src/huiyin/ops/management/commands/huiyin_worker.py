"""The task worker (started by ``huiyin serve``; a systemd unit of its own in production).

    huiyin huiyin_worker [--queue-name default] [--interval 1.0] [--worker-id ID]

Runs the configured backend's worker — the database queue or RQ — with retries, and, on
the database queue, a heartbeat and the reaper of tasks lost with a dead worker
(``huiyin.ops.taskqueue``). SIGTERM / Ctrl+C finish the current task and exit.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huiyin.ops import taskqueue
from huiyin.ops.worker import new_worker_id, run_database_worker, run_rq_worker


class Command(BaseCommand):
    help = "Run the background task worker (database queue or RQ) with retries and lost-task reaping."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="default", help="queues, comma-separated (default: default)")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls of an empty queue")
        parser.add_argument("--worker-id", default="", help="unique name of this worker (default host:pid:random)")

    def handle(self, *args: Any, queue_name: str, interval: float, worker_id: str, **options: Any) -> None:
        tasks_logger = logging.getLogger("huiyin.tasks")
        if not tasks_logger.hasHandlers():
            tasks_logger.addHandler(logging.StreamHandler(self.stderr))
        worker_id = worker_id or new_worker_id()
        if len(worker_id) > 64:
            raise CommandError("--worker-id: at most 64 characters")
        queues = [q for q in queue_name.split(",") if q]
        kind = taskqueue.backend_kind()
        if kind == "db":
            run_database_worker(queue_names=queues, interval=interval, worker_id=worker_id)
        elif kind == "rq":
            run_rq_worker(queue_names=queues, worker_id=worker_id)
        else:
            raise CommandError("the task backend runs tasks in the request (HUIYIN_TASK_BACKEND=immediate): no worker")
