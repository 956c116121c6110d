"""Run Huiyin on one machine: migrate, collect static files, then the web server
(gunicorn on 127.0.0.1), the task worker and the deadline sweeper side by side.
Ctrl+C stops all of them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, the task worker and the deadline sweeper."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--workers", type=int, default=2, help="web worker processes")
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args, host: str, port: str, workers: int, no_worker: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        commands = [
            [
                python,
                "-m",
                "gunicorn",
                "huiyin.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ]
        ]
        if not no_worker:
            commands += self.background_commands(python)
        processes = [subprocess.Popen(cmd) for cmd in commands]
        self.stdout.write(self.style.SUCCESS(f"Huiyin 回音 is running on http://{host}:{port}/  (Ctrl+C to stop)"))
        self.stdout.write(f"data directory: {settings.DATA_DIR}")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping:
                for proc, cmd in zip(processes, commands, strict=True):
                    if proc.poll() is not None:
                        self.stderr.write(f"process {cmd[2:4]} exited with {proc.returncode}; stopping")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in processes:
                if proc.poll() is None:
                    proc.terminate()
            for proc in processes:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()

    @staticmethod
    def background_commands(python: str) -> list[list[str]]:
        manage = [python, "-m", "huiyin.cli"]
        backend = settings.TASKS["default"]["BACKEND"]
        # django-tasks-rq needs its own job class in the RQ worker.
        rq_worker = ["rqworker", "default", "--job-class", "django_tasks_rq.Job"]
        worker = manage + (rq_worker if "RQ" in backend else ["db_worker"])
        result = [worker]

        if "huiyin_sweeper" in get_commands():
            result.append(manage + ["huiyin_sweeper"])
        return result
