"""Background tasks, from the command line (``huiyin tasks ...``).

    huiyin tasks status        processes, workers, queue counts, failed / lost / retrying tasks
    huiyin tasks reap          re-queue now the tasks lost with a dead worker (workers do it too)
    huiyin tasks retry ID      one more attempt for a task that failed for good

``status`` exits with 1 when something needs attention (a failed or lost task, a process
waiting to be restarted, nobody running the worker or the sweeper): usable by monitoring.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from huiyin.ops import taskqueue
from huiyin.ops.selectors import system_status


def _when(dt: Any) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S") if dt else "-"


class Command(BaseCommand):
    help = "Background tasks: status, reap lost ones, retry a failed one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="what runs, what failed")
        sub.add_parser("reap", help="re-queue tasks lost with a dead worker")
        retry = sub.add_parser("retry", help="one more attempt for a failed task")
        retry.add_argument("task_id")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "reap":
            result = taskqueue.reap()
            self.stdout.write(f"re-queued {len(result.requeued)}, failed for good {len(result.failed)}")
            return
        if action == "retry":
            if not taskqueue.retry_now(options["task_id"]):
                raise CommandError(f"no failed task {options['task_id']}")
            self.stdout.write(f"task {options['task_id']} re-queued")
            return
        status = system_status()
        out = self.stdout.write
        out("processes (huiyin serve):")
        for p in status.processes:
            out(
                f"  {p.name:8} {p.host:20} {p.state:10} pid {p.pid or '-':>7}  restarts {p.restarts}"
                f"  last exit {_when(p.last_exit_at)} {p.last_exit}"
            )
        if not status.processes:
            out("  (none recorded)")
        out(f"task workers alive: {status.workers_alive}; sweepers alive: {len(status.sweepers_alive)}")
        t = status.tasks
        out(
            f"tasks ({t.backend}): queued {t.queued}, running {t.running}, retrying {t.retrying}, "
            f"lost {t.lost}, failed {t.failed}, done in 24 h {t.done_24h}"
        )
        for problem in t.problems:
            out(
                f"  {problem.status:8} {problem.id}  {problem.name}  attempts {problem.attempts}"
                f"  last {_when(problem.last_attempt_at)}  {problem.error} {problem.detail}"
            )
        for warning in status.warnings:
            self.stderr.write(f"warning: {warning}")
        if not status.healthy:
            raise SystemExit(1)
