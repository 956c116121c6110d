"""``huiyin serve``'s process supervisor: the web server, the task worker and the deadline
sweeper side by side, each restarted when it dies, independently of the others.

A child that exits (crash, ``kill -9``, out of memory) is logged at ERROR with how it
ended and restarted after a backoff — 1 s, 2 s, 4 s… up to a minute while it keeps
failing; a child that ran for a minute before dying starts again at 1 s. The other
children are never touched: the web keeps serving while the worker or the sweeper is
down (their work waits in the database and is picked up on restart). Every start and
exit is recorded in ``ServiceProcess`` (the administrators' status page shows restarts
and the last failure). Only SIGTERM / SIGINT stop everything.

In production run the three as separate units instead (``deploy/systemd/``), where the
init system does the restarting; this supervisor is for one-machine installations.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from .models import ProcessState, ServiceProcess

log = logging.getLogger("huiyin.serve")

STABLE_AFTER = 60.0  # seconds up before an exit counts as a fresh failure again
BACKOFF_MAX = 60.0


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    starts: int = 0
    failures_in_row: int = 0
    next_start: float = 0.0
    last_exit: str = ""
    env: dict[str, str] | None = field(default=None, repr=False)

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)


def record(child: Child, state: str, *, exited: bool = False) -> None:
    """The child's row for the status page; a database hiccup never stops supervising."""
    now = timezone.now()
    values: dict = {
        "state": state,
        "pid": child.proc.pid if child.proc is not None and state == ProcessState.RUNNING else None,
        "restarts": child.restarts,
        "updated_at": now,
    }
    if state == ProcessState.RUNNING:
        values["started_at"] = now
    if exited:
        values["last_exit_at"] = now
        values["last_exit"] = child.last_exit[:200]
    try:
        close_old_connections()
        ServiceProcess.objects.update_or_create(host=socket.gethostname()[:120], name=child.name, defaults=values)
    except DatabaseError as exc:
        log.warning("could not record the state of %s: %s", child.name, exc)


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        *,
        backoff_base: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        recorder: Callable[..., None] = record,
    ) -> None:
        self.children = children
        self.backoff_base = backoff_base
        self.clock = clock
        self.recorder = recorder
        self.stopping = False

    def backoff(self, failures_in_row: int) -> float:
        return min(self.backoff_base * 2 ** max(0, failures_in_row - 1), BACKOFF_MAX)

    def start(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.argv, env=child.env)  # noqa: S603 - our own commands
        child.started_at = self.clock()
        child.starts += 1
        if child.starts > 1:
            log.warning("huiyin serve: %s restarted (pid %d, restart %d)", child.name, child.proc.pid, child.restarts)
        self.recorder(child, ProcessState.RUNNING)

    def tick(self) -> None:
        """One look at every child: note exits, start what is due."""
        now = self.clock()
        for child in self.children:
            if child.proc is not None:
                code = child.proc.poll()
                if code is None:
                    continue
                up = now - child.started_at
                child.failures_in_row = 1 if up >= STABLE_AFTER else child.failures_in_row + 1
                child.last_exit = describe_exit(code)
                delay = self.backoff(child.failures_in_row)
                child.next_start = now + delay
                child.proc = None
                log.error(
                    "huiyin serve: %s %s after %.0f s; the other processes keep running; restarting in %.0f s",
                    child.name,
                    child.last_exit,
                    up,
                    delay,
                )
                self.recorder(child, ProcessState.RESTARTING, exited=True)
            if child.proc is None and now >= child.next_start and not self.stopping:
                try:
                    self.start(child)
                except OSError as exc:  # cannot even exec it: try again later
                    child.failures_in_row += 1
                    child.next_start = now + self.backoff(child.failures_in_row)
                    child.last_exit = f"could not start: {exc}"
                    log.error("huiyin serve: %s %s", child.name, child.last_exit)
                    self.recorder(child, ProcessState.RESTARTING, exited=True)

    def request_stop(self, *_args: object) -> None:
        self.stopping = True

    def run(self, *, poll: float = 0.5) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        try:
            while not self.stopping:
                self.tick()
                time.sleep(poll)
        finally:
            self.stop()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping = True
        running = [c for c in self.children if c.proc is not None and c.proc.poll() is None]
        for child in running:
            assert child.proc is not None
            child.proc.terminate()
        deadline = time.monotonic() + timeout
        for child in running:
            assert child.proc is not None
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        for child in self.children:
            self.recorder(child, ProcessState.STOPPED)
