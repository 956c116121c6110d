"""Every timer fires exactly once in effect: repeated passes, concurrent sweepers, a
sweeper killed (SIGKILL) in the middle of a batch, a step taken twice, a failing clock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from huiyin.cases import services as cases
from huiyin.cases.models import Event
from huiyin.core.models import Notification
from huiyin.deadlines import sweeper
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.models import Clock, ClockAction, SweeperHeartbeat
from huiyin.deadlines.sweeper import sweep, sweep_until_idle
from tests.conftest import intake

from .conftest import activate

DEADLINE_KINDS = [DeadlineEvent.DEADLINE_WARNING, DeadlineEvent.DEADLINE_OVERDUE, DeadlineEvent.ESCALATED]


def overdue_hotline_cases(org, clerk, n: int, *, hours_ago: float = 3.0) -> list[Clock]:
    """n phone cases accepted ``hours_ago``: each dispatch clock owes overdue + 2 escalations."""
    activate(org, "city_hotline")
    start = timezone.now() - timedelta(hours=hours_ago)
    with time_machine.travel(start, tick=False):
        for i in range(n):
            case, _code = cases.case_register(
                actor=clerk, data=intake(channel="phone", text=f"第{i}号投诉：路灯不亮。")
            )
            cases.case_accept(actor=clerk, case_id=case.pk)
    return list(Clock.objects.filter(stage="dispatch").order_by("pk"))


def assert_each_step_once(clocks: list[Clock], expected=(("overdue", 0), ("escalate", 2), ("escalate", 3))) -> None:
    for clock in clocks:
        taken = Counter(ClockAction.objects.filter(clock=clock).values_list("action", "level"))
        assert taken == Counter(dict.fromkeys(expected, 1)), (clock.pk, taken)
        events = Counter(
            (kind, data.get("level"))
            for kind, data in Event.objects.filter(case_id=clock.case_id, kind__in=DEADLINE_KINDS).values_list(
                "kind", "data"
            )
        )
        assert all(n == 1 for n in events.values()), (clock.pk, events)
        assert sum(events.values()) == len(expected)
        clock.refresh_from_db()
        assert clock.next_action_at is None and clock.escalation_level == 3


@pytest.mark.django_db
def test_a_second_pass_does_nothing(org, desk_clerk, duty_head, leader):
    clocks = overdue_hotline_cases(org, desk_clerk, 3)
    first = sweep_until_idle()
    assert first.actions == {"overdue": 3, "escalate": 6}
    assert sweep_until_idle().total_actions == 0
    assert_each_step_once(clocks)


@pytest.mark.django_db
def test_a_step_recorded_but_not_marked_is_not_repeated(org, desk_clerk, duty_head, leader):
    """Should the clock row ever lag behind its ClockAction rows, the unique constraint
    stops a second notice: the step is marked done and nothing is sent again."""
    [clock] = overdue_hotline_cases(org, desk_clerk, 1)
    sweep_until_idle()
    Clock.objects.filter(pk=clock.pk).update(overdue_at=None, escalation_level=0, next_action_at=clock.due_at)
    notes, events = Notification.objects.count(), Event.objects.count()
    result = sweep_until_idle()
    assert result.total_actions == 0 and result.duplicates == 3
    assert (Notification.objects.count(), Event.objects.count()) == (notes, events)
    assert_each_step_once([clock])


@pytest.mark.django_db
def test_a_failing_clock_is_postponed_and_the_rest_go_on(org, desk_clerk, duty_head, leader, monkeypatch):
    clocks = overdue_hotline_cases(org, desk_clerk, 3)
    real = sweeper.perform_step

    def flaky(**kwargs):
        if kwargs["clock"].pk == clocks[1].pk:
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(sweeper, "perform_step", flaky)
    now = timezone.now()
    result = sweep(now=now)
    assert (result.processed, result.failed) == (2, 1)
    bad = Clock.objects.get(pk=clocks[1].pk)
    assert bad.next_action_at == now + sweeper.RETRY_AFTER and bad.overdue_at is None
    assert not ClockAction.objects.filter(clock=bad).exists()
    monkeypatch.setattr(sweeper, "perform_step", real)
    sweep_until_idle(now=now + sweeper.RETRY_AFTER)
    assert_each_step_once(clocks)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweepers_take_each_step_once(org, desk_clerk, duty_head, leader):
    clocks = overdue_hotline_cases(org, desk_clerk, 12)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            barrier.wait()
            for _ in range(10):
                sweep(batch=3, worker_id=name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    sweep_until_idle()
    assert_each_step_once(clocks)
    workers = set(ClockAction.objects.values_list("worker_id", flat=True))
    assert workers <= {"w0", "w1", "w2"}


SUBPROCESS = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[1]
import django
django.setup()
from django.core.management import call_command
call_command("huiyin_sweeper", "--once", "--batch", "2", "--worker-id", "doomed",
             "--pause-between-clocks", sys.argv[2])
"""


@pytest.mark.django_db(transaction=True)
def test_sweeper_killed_mid_batch_loses_nothing_and_repeats_nothing(org, desk_clerk, duty_head, leader):
    clocks = overdue_hotline_cases(org, desk_clerk, 8)
    db_name = str(connection.settings_dict["NAME"])
    proc = subprocess.Popen(
        [sys.executable, "-c", SUBPROCESS, db_name, "0.5"],
        # This checkout's code, not whatever an editable install of the package points at.
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2] / "src")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        # wait until the first batch (2 clocks × 3 steps) has committed, then into the second
        while ClockAction.objects.count() < 6:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweeper made no progress"
            time.sleep(0.05)
        time.sleep(0.3)  # inside batch 2: its first clock done, sleeping before the second
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = ClockAction.objects.count()
    assert 6 <= done_before < 8 * 3  # the kill really came in the middle
    # what the killed batch did was rolled back with it: no event without its ClockAction
    assert Event.objects.filter(kind__in=DEADLINE_KINDS).count() == done_before
    result = sweep_until_idle(worker_id="survivor")
    assert result.total_actions == 8 * 3 - done_before
    assert_each_step_once(clocks)
    assert Notification.objects.filter(key__startswith="clock:").count() == 8 * 3


@pytest.mark.django_db
def test_sweeper_command_once(org, desk_clerk, duty_head, leader):
    clocks = overdue_hotline_cases(org, desk_clerk, 2)
    from io import StringIO

    out = StringIO()
    call_command("huiyin_sweeper", "--once", "--batch", "1", "--worker-id", "cli", stdout=out)
    assert "6 action(s)" in out.getvalue()
    assert_each_step_once(clocks)
    beat = SweeperHeartbeat.objects.get(worker_id="cli")
    assert beat.actions == 6
