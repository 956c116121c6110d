"""Run Huiyin on one machine: migrate, collect static files, then the web server
(gunicorn), the task worker and the deadline sweeper (and, with a mailbox configured, the
mail poller) side by side, each restarted with
backoff when it dies (``huiyin.ops.supervisor``). Ctrl+C stops all of them.

For production, run the three as separate units: ``deploy/systemd/``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser

from huiyin.ops.supervisor import Child, Supervisor


class Command(BaseCommand):
    help = "Run the web server, the task worker and the deadline sweeper, restarting any that dies."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--workers", type=int, default=2, help="web worker processes")
        parser.add_argument("--no-worker", action="store_true", help="web server only")
        parser.add_argument("--sweeper-batch", type=int, default=500, help="clocks per sweeper transaction")
        parser.add_argument(
            "--access-log",
            action="store_true",
            help="a line per request on the console (off: a front proxy usually keeps the access log)",
        )
        # Fault injection for the fault test (tests/faults): the sweeper sleeps between clocks.
        parser.add_argument("--sweeper-pause-between-clocks", type=float, default=0.0, help=argparse.SUPPRESS)

    def handle(
        self,
        *args: Any,
        host: str,
        port: str,
        workers: int,
        no_worker: bool,
        sweeper_batch: int,
        sweeper_pause_between_clocks: float,
        access_log: bool = False,
        **options: Any,
    ) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        children = [Child("web", self.web_command(python, host, port, workers, access_log=access_log))]
        if not no_worker:
            background = self.background_commands(python, sweeper_batch)
            if sweeper_pause_between_clocks:
                background = [
                    (name, [*argv, "--pause-between-clocks", str(sweeper_pause_between_clocks)])
                    if name == "sweeper"
                    else (name, argv)
                    for name, argv in background
                ]
            children += [Child(name, argv) for name, argv in background]
        supervisor = Supervisor(children)
        self.stdout.write(self.style.SUCCESS(f"Huiyin 回音 is running on http://{host}:{port}/  (Ctrl+C to stop)"))
        self.stdout.write(f"data directory: {settings.DATA_DIR}")
        self.stdout.flush()
        supervisor.run()

    @staticmethod
    def web_command(python: str, host: str, port: str, workers: int, *, access_log: bool = False) -> list[str]:
        return [
            python,
            "-m",
            "gunicorn",
            "huiyin.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            *(["--access-logfile", "-"] if access_log else []),
            "--graceful-timeout",
            "5",
            # Its runtime control socket is one path per user: two installations (or a test
            # beside a running one) would take each other's; nothing here uses it.
            "--no-control-socket",
        ]

    @staticmethod
    def background_commands(python: str, sweeper_batch: int = 500) -> list[tuple[str, list[str]]]:
        manage = [python, "-m", "huiyin.cli"]
        result = [("worker", [*manage, "huiyin_worker"])]
        if "huiyin_sweeper" in get_commands():
            result.append(("sweeper", [*manage, "huiyin_sweeper", "--batch", str(sweeper_batch)]))
        if settings.HUIYIN_IMAP_HOST and "huiyin_mail" in get_commands():
            # The e-mail channel: the complaint mailbox polled (huiyin.notifications).
            result.append(("mail", [*manage, "huiyin_mail", "poll", "--every", str(settings.HUIYIN_MAIL_POLL_SECONDS)]))
        return result
