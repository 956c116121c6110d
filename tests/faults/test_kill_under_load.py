"""The fault test: registrations through HTTP into a real ``huiyin serve`` on PostgreSQL
while a web worker, the task worker and the deadline sweeper are each killed with
SIGKILL — the first mid-request, the task worker in the middle of a notification task,
the sweeper in the middle of a batch.

Afterwards: no acknowledged registration is lost (every one answered with a redirect to
its case is stored), case numbers run 1..n per day without a gap or a duplicate, every
deadline step was taken exactly once, every notification was delivered exactly once
(one delivery record, one message, one line in the gateway's outbox per key), no task is
left running, failed or waiting, the killed processes were restarted and the web answered
every request while the worker and the sweeper were down.

It needs PostgreSQL and runs in its own CI step (``.ci/run``: ``HUIYIN_FAULT_TEST=1``);
elsewhere it skips, and with ``HUIYIN_FAULT_TEST=1`` on another database it fails. The
figures are printed and, with ``HUIYIN_FAULT_REPORT=path``, written as JSON.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection
from django.utils import timezone

from huiyin.cases import services as cases
from huiyin.cases.events import EventKind
from huiyin.cases.inputs import PartyInput
from huiyin.cases.models import Case, CaseSequence, Event
from huiyin.core.models import Notification
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.models import Clock, ClockAction
from huiyin.notifications.models import Message, MessageStatus
from huiyin.ops.models import ServiceProcess
from huiyin.orgs.models import Department
from huiyin.orgs.roles import Role
from huiyin.policy.presets import load_preset
from huiyin.policy.services import policy_activate, presets_dir
from tests.conftest import intake, make_staff

from .harness import (
    PASSWORD,
    Browser,
    CaseLock,
    Registration,
    child_pid,
    children,
    free_port,
    register,
    serve_env,
    start_serve,
    stop_serve,
    wait_for,
    wait_while_progressing,
    web_worker_pids,
)
from .slow_sms import SLOW_PHONE

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LOAD_SECONDS = 20.0
CLIENTS = 4
OVERDUE_CASES = 60  # each owes 3 deadline steps: overdue, escalation to the head, to the leader
STEPS = (("overdue", 0), ("escalate", 2), ("escalate", 3))
DEADLINE_KINDS = [DeadlineEvent.DEADLINE_WARNING, DeadlineEvent.DEADLINE_OVERDUE, DeadlineEvent.ESCALATED]


def _wanted() -> bool:
    return os.environ.get("HUIYIN_FAULT_TEST", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(autouse=True)
def _only_in_the_fault_step():
    if not _wanted():
        pytest.skip("the fault test runs in its own CI step (HUIYIN_FAULT_TEST=1 on PostgreSQL, see .ci/run)")
    assert connection.vendor == "postgresql", (
        f"HUIYIN_FAULT_TEST=1 needs PostgreSQL, the tests run on {connection.vendor}: set DATABASE_URL"
    )


# --- the test ------------------------------------------------------------------------------


def test_nothing_acknowledged_is_lost_and_nothing_happens_twice_when_processes_are_killed(org, tmp_path, settings):
    # Tasks enqueued by this process (the backdated cases) go to the same database queue.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    policy_activate(organization=org, preset=load_preset(presets_dir() / "city_hotline.yaml"), actor=None)
    desk = Department.objects.create(organization=org, code="intake", name="受理科", handles_cases=False)
    make_staff(org, "duty_head", [Role.DEPT_HEAD], desk)
    make_staff(org, "leader", [Role.LEADER])
    clerk = make_staff(org, "desk_clerk", [Role.INTAKE_CLERK], desk)
    # The server's own hasher (the tests hash with MD5): no upgrade on login, which would
    # change the hash and sign the other clients' sessions out.
    hasher = Argon2PasswordHasher()
    clerk.password = hasher.encode(PASSWORD, hasher.salt())
    clerk.save(update_fields=["password"])

    port = free_port()
    data_dir = tmp_path / "data"
    env = serve_env(
        data_dir,
        HUIYIN_TASK_BACKEND="db",
        HUIYIN_SMS_BACKEND="tests.faults.slow_sms.SlowFileSmsBackend",
        HUIYIN_TASK_WORKER_DEAD_AFTER="3",
        HUIYIN_TASK_RETRY_BACKOFF="1",
        # Long enough that on a loaded two-core machine the worker is surely still inside the
        # slow hand-over when it is killed (seen: 1.5 s was not, beside CI's other steps).
        HUIYIN_FAULT_SLOW_SMS_SECONDS="8",
    )
    t0 = time.monotonic()
    timeline: dict[str, float] = {}

    # Cases accepted three hours ago: their dispatch clocks owe all three steps. Their rows
    # stay locked (a long transaction elsewhere) until the load runs, so the sweeper, which
    # skips busy cases, takes these steps under load.
    with time_machine.travel(timezone.now() - timedelta(hours=3), tick=False):
        for i in range(OVERDUE_CASES):
            data = intake(
                channel="phone", text=f"第{i}号投诉：路灯不亮。", party=PartyInput(name="李明", phone=f"1360000{i:04d}")
            )
            case, _code = cases.case_register(actor=clerk, data=data)
            cases.case_accept(actor=clerk, case_id=case.pk)
    overdue_clocks = list(Clock.objects.filter(stage="dispatch").order_by("pk"))
    assert len(overdue_clocks) == OVERDUE_CASES
    total_steps = OVERDUE_CASES * len(STEPS)
    case_lock = CaseLock([c.case_id for c in overdue_clocks])
    case_lock.start()
    assert case_lock.locked.wait(30)

    def mark(what: str) -> None:
        timeline[what] = round(time.monotonic() - t0, 1)

    log_path = tmp_path / "serve.log"
    serve = start_serve(
        port, env, log_path, "--workers", "3", "--sweeper-batch", "10", "--sweeper-pause-between-clocks", "0.05"
    )
    figures: dict = {}
    registrations: list[Registration] = []
    kills: dict[str, float] = {}
    try:
        probe = Browser(port)

        def web_up():
            assert serve.poll() is None, log_path.read_text(errors="replace")[-3000:]
            try:
                return probe.request("GET", "/login/", timeout=2)[0] == 200
            except OSError:
                return False

        wait_for(web_up, 60, "the web server", every=0.3)
        wait_for(lambda: len(children(serve.pid)) == 3, 30, "the worker and the sweeper")
        mark("serving")

        # --- registration load ---------------------------------------------------------
        stop = threading.Event()
        numbers = itertools.count(1)
        lock = threading.Lock()
        errors: list[BaseException] = []

        def client(i: int) -> None:
            try:
                browser = Browser(port)
                browser.login("desk_clerk")
                while not stop.is_set():
                    n = next(numbers)
                    reg = Registration(token=uuid.uuid4().hex, phone=f"139{n:08d}")
                    register(browser, reg, f"第{n}号来电：小区门口垃圾无人清运，已三天。")
                    with lock:
                        registrations.append(reg)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        wait_for(lambda: errors or len(registrations) >= 20, 30, "the first registrations")
        if errors:
            raise errors[0]

        # 1. a web worker, mid-request under load
        victim = web_worker_pids(serve.pid)[0]
        kills["web"] = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        mark("web worker killed")
        wait_for(
            lambda: victim not in web_worker_pids(serve.pid) and len(web_worker_pids(serve.pid)) == 3,
            30,
            "gunicorn to replace the web worker",
        )

        # 2. the sweeper, in the middle of a batch: the overdue cases are released to it now
        case_lock.release.set()
        case_lock.join(timeout=30)
        wait_for(lambda: ClockAction.objects.count() >= 2 * 10 * len(STEPS), 30, "the sweeper's first two batches")
        sweeper = child_pid(serve.pid, "huiyin_sweeper")
        kills["sweeper"] = time.monotonic()
        os.kill(sweeper, signal.SIGKILL)
        mark("sweeper killed")
        steps_at_kill = ClockAction.objects.count()
        figures["timer_steps_done_when_the_sweeper_was_killed"] = steps_at_kill
        assert steps_at_kill < total_steps, "the sweeper finished before it could be killed: slow it down"

        # 3. the task worker, in the middle of a notification task (the gateway is slow for SLOW_PHONE)
        from django_tasks_db.models import DBTaskResult

        slow_browser = Browser(port)
        slow_browser.login("desk_clerk")
        slow = Registration(token=uuid.uuid4().hex, phone=SLOW_PHONE)
        register(slow_browser, slow, "慢网关测试来电：噪音扰民。")
        assert slow.case_id is not None
        registrations.append(slow)
        slow_receipt = Message.objects.get(case_id=slow.case_id, medium="sms")  # queued with the registration
        # The task is queued behind the load's receipts and event dispatches: wait while the
        # worker works through them (a dead worker makes no progress and fails this).
        slow_task = DBTaskResult.objects.filter(args_kwargs__kwargs__message_id=slow_receipt.pk)
        ahead = DBTaskResult.objects.filter(status="READY", enqueued_at__lt=slow_task.values("enqueued_at")[:1])
        running = wait_while_progressing(
            lambda: slow_task.filter(status="RUNNING").first(),
            lambda: (
                DBTaskResult.objects.filter(status__in=["SUCCESSFUL", "FAILED"]).count(),
                ahead.count(),
            ),
            stall=30,
            limit=240,
            what="the slow notification task to start (progress: tasks finished, tasks queued ahead of it)",
        )
        handovers_log = data_dir / "outbox" / "handovers.log"
        slow_key = slow_receipt.key
        # in the middle of sending: handed to the (slow) gateway, nothing written or committed yet
        handed_over = lambda: handovers_log.exists() and slow_key in handovers_log.read_text().split()  # noqa: E731
        wait_for(handed_over, 30, "the slow hand-over")
        worker = child_pid(serve.pid, "huiyin_worker")
        kills["worker"] = time.monotonic()
        os.kill(worker, signal.SIGKILL)
        mark("task worker killed")
        time.sleep(0.2)
        running.refresh_from_db()
        assert running.status == "RUNNING", "the worker was killed in the middle of the task"
        lost_task = running.pk

        # --- the load goes on, then everything drains ---------------------------------------
        remaining = LOAD_SECONDS - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        mark("load stopped")
        assert not errors, errors
        load_seconds = time.monotonic() - started

        def backlog() -> tuple[int, int]:
            pending = DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).count()
            due = Clock.objects.filter(pk__in=[c.pk for c in overdue_clocks], next_action_at__isnull=False).count()
            return pending, due

        wait_while_progressing(
            lambda: backlog() == (0, 0),
            backlog,
            stall=60,
            limit=900,  # a loaded 2-core machine works the backlog off slowly; a stalled one fails at 60 s
            what="the queue and the sweeper to drain (progress: tasks pending, timer steps due)",
            every=0.5,
        )
        mark("drained")
        assert serve.poll() is None, "huiyin serve itself kept running"
        processes = {p.name: p for p in ServiceProcess.objects.all()}
    finally:
        case_lock.release.set()
        stop_serve(serve)
    mark("stopped")
    assert serve.returncode == 0, log_path.read_text(errors="replace")[-3000:]

    # --- 0 acknowledged registrations lost --------------------------------------------------
    acknowledged = [r for r in registrations if r.case_id is not None]
    unacknowledged = [r for r in registrations if r.case_id is None]
    stored = dict(Case.objects.filter(intake_token__isnull=False).values_list("intake_token", "pk"))
    lost = [r.token for r in acknowledged if stored.get(r.token) != r.case_id]
    assert lost == [], f"acknowledged but not stored: {lost}"
    tries = [outcome for r in registrations for _sent, _done, outcome in r.tries]

    # --- the web kept serving while the worker and the sweeper were down ---------------------
    # A request fails only if it was in the web worker's hands when it died, or was sent in
    # the seconds the master took to replace it.
    failures = [(sent, done, o) for r in registrations for sent, done, o in r.tries if o != "ack"]
    web_down = (kills["web"], kills["web"] + 5)
    outside_web_kill = [(round(sent - web_down[0], 2), o) for sent, done, o in failures if not sent <= web_down[1]]
    outside_web_kill += [(round(sent - web_down[0], 2), o) for sent, done, o in failures if done < web_down[0]]
    assert outside_web_kill == [], f"requests failed outside the web worker's death: {outside_web_kill}"

    # --- 0 numbering gaps --------------------------------------------------------------------
    by_day: dict[str, list[int]] = {}
    for number in Case.objects.filter(organization=org).values_list("number", flat=True):
        day, seq = number.split("-")
        by_day.setdefault(day, []).append(int(seq))
    gaps = duplicates = 0
    for day, seqs in by_day.items():
        duplicates += len(seqs) - len(set(seqs))
        gaps += max(seqs) - len(set(seqs))
        assert CaseSequence.objects.get(organization=org, day=f"{day[:4]}-{day[4:6]}-{day[6:]}").last == max(seqs)
    assert (gaps, duplicates) == (0, 0), by_day

    # --- every timer step exactly once ---------------------------------------------------------
    steps = Counter(ClockAction.objects.filter(clock__in=overdue_clocks).values_list("clock_id", "action", "level"))
    assert all(n == 1 for n in steps.values()), [k for k, n in steps.items() if n > 1]
    assert set(steps) == {(c.pk, a, lvl) for c in overdue_clocks for a, lvl in STEPS}
    step_events = Event.objects.filter(case__in=[c.case_id for c in overdue_clocks], kind__in=DEADLINE_KINDS)
    assert step_events.count() == total_steps
    # One person per step in this organisation. Only these clocks' notes: on a slow machine
    # the drain outlasts the load's own cases' three-minute dispatch limit, whose warnings
    # are desk notes too.
    overdue_prefixes = tuple(f"clock:{c.pk}:" for c in overdue_clocks)
    clock_notes = Notification.objects.filter(key__startswith="clock:").values_list("key", flat=True)
    desk_notes = [k for k in clock_notes if k.startswith(overdue_prefixes)]
    assert len(desk_notes) == total_steps

    # --- every notification delivered once -------------------------------------------------------
    registered = list(
        # every registration has a mobile number: the HTTP ones and the overdue cases made here
        Event.objects.filter(kind=EventKind.REGISTERED).values_list("pk", flat=True)
    )
    receipts = Message.objects.filter(event_id__in=registered, medium="sms")
    keys = set(receipts.values_list("key", flat=True))
    assert len(keys) == len(registered)  # one receipt SMS per registration, queued with it
    outbox = [json.loads(line) for line in (data_dir / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
    per_key = Counter(m["key"] for m in outbox)
    assert set(per_key) == keys, (len(per_key), len(keys))
    assert all(n == 1 for n in per_key.values())
    assert set(receipts.values_list("status", flat=True)) == {MessageStatus.SENT}
    handovers = Counter(handovers_log.read_text().split())

    # --- the lost task was retried; nothing failed; the killed processes came back ---------------
    assert DBTaskResult.objects.filter(status="FAILED").count() == 0
    lost_row = DBTaskResult.objects.get(pk=lost_task)
    assert lost_row.status == "SUCCESSFUL" and len(lost_row.worker_ids) >= 2
    assert handovers[slow_key] == 2 and per_key[slow_key] == 1  # handed over twice, delivered once
    retried = sum(1 for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) if len(ids) > 1)
    for name in ("worker", "sweeper"):
        assert processes[name].restarts >= 1 and processes[name].last_exit == "killed by SIGKILL", processes[name]
    log_text = log_path.read_text(errors="replace")
    assert "huiyin serve: worker killed by SIGKILL" in log_text
    assert "huiyin serve: sweeper killed by SIGKILL" in log_text
    assert "lost: worker" in log_text  # the reaper said what it did

    figures.update(
        {
            "load_seconds": round(load_seconds, 1),
            "http_requests_tried": len(tries),
            "http_requests_failed": len(failures),
            "registrations_submitted": len(registrations),
            "registrations_acknowledged": len(acknowledged),
            "acknowledged_after_a_resubmission": sum(1 for r in acknowledged if len(r.tries) > 1),
            "acknowledged_and_stored": len(acknowledged) - len(lost),
            "acknowledged_lost": len(lost),
            "unacknowledged": len(unacknowledged),
            "stored_without_acknowledgement": sum(1 for r in unacknowledged if r.token in stored),
            "case_numbers": sum(len(s) for s in by_day.values()),
            "numbering_gaps": gaps,
            "numbering_duplicates": duplicates,
            "timer_steps_expected": total_steps,
            "timer_steps_taken": sum(steps.values()),
            "timer_steps_twice": sum(1 for n in steps.values() if n > 1),
            "sms_expected": len(keys),
            "sms_delivered": len(per_key),
            "sms_delivered_twice": sum(1 for n in per_key.values() if n > 1),
            "sms_handovers": sum(handovers.values()),
            "desk_notifications": len(desk_notes),
            "tasks": DBTaskResult.objects.count(),
            "tasks_retried": retried,
            "tasks_failed": 0,
            "restarts": {name: p.restarts for name, p in processes.items()},
            "timeline_s": timeline,
        }
    )
    print("\nfault test figures:", json.dumps(figures, ensure_ascii=False, indent=1))
    if os.environ.get("HUIYIN_FAULT_REPORT"):
        Path(os.environ["HUIYIN_FAULT_REPORT"]).write_text(json.dumps(figures, ensure_ascii=False, indent=1))
