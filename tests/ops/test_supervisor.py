"""`huiyin serve` keeps the web serving when a background process dies: the dead process
is restarted with backoff, the others are left alone, the operator sees it in the log and
on the status page (ServiceProcess)."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from huiyin.ops.models import ProcessState, ServiceProcess
from huiyin.ops.supervisor import STABLE_AFTER, Child, Supervisor, describe_exit
from tests.faults.harness import Browser, child_pid, children, free_port, serve_env, start_serve, stop_serve, wait_for

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
FAILER = [sys.executable, "-c", "raise SystemExit(3)"]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bool, str, int]] = []

    def __call__(self, child: Child, state: str, *, exited: bool = False) -> None:
        self.calls.append((child.name, state, exited, child.last_exit, child.restarts))


def test_a_killed_child_is_restarted_and_the_others_are_left_alone():
    recorder = Recorder()
    web, worker = Child("web", SLEEPER), Child("worker", SLEEPER)
    supervisor = Supervisor([web, worker], backoff_base=0.2, recorder=recorder)
    try:
        supervisor.tick()
        assert web.proc is not None and worker.proc is not None
        web_pid, worker_pid = web.proc.pid, worker.proc.pid
        os.kill(worker_pid, signal.SIGKILL)
        worker.proc.wait()
        supervisor.tick()
        assert worker.proc is None and worker.last_exit == "killed by SIGKILL"
        assert ("worker", ProcessState.RESTARTING, True, "killed by SIGKILL", 0) in recorder.calls
        wait_for(lambda: supervisor.tick() or worker.proc is not None, 5, "the restart")
        assert worker.proc.pid != worker_pid and worker.restarts == 1
        assert web.proc.pid == web_pid and web.proc.poll() is None  # the web was never touched
    finally:
        supervisor.stop(timeout=5)
    assert recorder.calls[-2:] == [
        ("web", ProcessState.STOPPED, False, "", 0),
        ("worker", ProcessState.STOPPED, False, "killed by SIGKILL", 1),
    ]


def test_a_child_that_keeps_dying_waits_longer_each_time_and_starts_afresh_after_a_good_run():
    now = [1000.0]
    child = Child("sweeper", FAILER)
    supervisor = Supervisor([child], clock=lambda: now[0], recorder=Recorder())
    delays = []
    for _ in range(5):
        supervisor.tick()  # start
        assert child.proc is not None
        child.proc.wait()
        supervisor.tick()  # notice the exit
        delays.append(child.next_start - now[0])
        now[0] = child.next_start
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert child.last_exit == "exit status 3"
    supervisor.tick()
    assert child.proc is not None
    child.proc.wait()
    now[0] += STABLE_AFTER  # it had been up for a minute before it died this time
    supervisor.tick()
    assert child.next_start - now[0] == 1.0
    supervisor.stop(timeout=5)


def test_exit_descriptions():
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(1) == "exit status 1"


@pytest.mark.heavy
@pytest.mark.django_db(transaction=True)
def test_serve_keeps_the_web_up_while_the_worker_and_the_sweeper_are_killed(tmp_path):
    """The issue: killing the task worker stopped gunicorn within a second, killing the
    sweeper took the site down in 3 s."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    serve = start_serve(port, serve_env(tmp_path / "data"), log_path, "--workers", "1")
    browser = Browser(port)

    def answers() -> bool:
        try:
            return browser.request("GET", "/login/", timeout=5)[0] == 200
        except OSError:
            return False

    try:
        wait_for(answers, 60, "the web server", every=0.3)
        wait_for(lambda: len(children(serve.pid)) == 3, 30, "the worker and the sweeper")
        web = child_pid(serve.pid, "gunicorn")
        for marker in ("huiyin_worker", "huiyin_sweeper"):
            victim = child_pid(serve.pid, marker)
            os.kill(victim, signal.SIGKILL)
            until = time.monotonic() + 4
            while time.monotonic() < until:  # the site stays up, request after request
                assert answers(), f"the web stopped answering after {marker} was killed"
                time.sleep(0.2)
            wait_for(lambda m=marker, v=victim: child_pid(serve.pid, m) != v, 30, f"{marker} to be restarted")
        assert child_pid(serve.pid, "gunicorn") == web and serve.poll() is None
        rows = {p.name: p for p in ServiceProcess.objects.all()}
        for name in ("worker", "sweeper"):
            assert rows[name].restarts == 1 and rows[name].last_exit == "killed by SIGKILL"
            assert rows[name].state == ProcessState.RUNNING
        assert rows["web"].restarts == 0
    finally:
        code = stop_serve(serve)
    assert code == 0
    assert children(serve.pid) == []
    log = log_path.read_text(errors="replace")
    assert "huiyin serve: worker killed by SIGKILL" in log and "huiyin serve: sweeper killed by SIGKILL" in log
    assert set(ServiceProcess.objects.values_list("state", flat=True)) == {ProcessState.STOPPED}
