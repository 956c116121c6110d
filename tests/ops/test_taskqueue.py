"""Background tasks are acknowledged only when done, retried, and never lost silently
(database queue): a task that raises is retried with backoff and then failed for good; a
task whose worker died (SIGKILL) is re-queued by the reaper and run once; one out of
attempts is listed for the administrators."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from huiyin.cases.inputs import PartyInput
from huiyin.cases.services import case_register
from huiyin.notifications.models import Message, MessageStatus
from huiyin.notifications.tasks import message_send_task
from huiyin.ops import taskqueue
from huiyin.ops.models import WorkerHeartbeat
from huiyin.ops.worker import DatabaseWorker
from tests.conftest import intake
from tests.faults.harness import ROOT, database_url, wait_for
from tests.faults.slow_sms import SLOW_PHONE

from .tasks_for_tests import always_fails, succeeds

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def db_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    settings.HUIYIN_TASK_MAX_ATTEMPTS = 3
    settings.HUIYIN_TASK_WORKER_DEAD_AFTER = 2
    settings.HUIYIN_TASK_STUCK_AFTER = 600
    settings.HUIYIN_TASK_RETRY_BACKOFF = 1


def run_worker(worker_id: str = "test-worker") -> DatabaseWorker:
    """What `huiyin_worker` runs, until nothing is ready."""
    worker = DatabaseWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    worker.run()
    return worker


def sms_lines(tmp_path) -> list[dict]:
    outbox = tmp_path / "outbox" / "sms.jsonl"
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()] if outbox.exists() else []


def test_a_task_that_raises_is_retried_with_backoff_then_failed_for_good():
    result = always_fails.enqueue()
    start = timezone.now()
    waits = []
    with time_machine.travel(start, tick=False) as clock:
        for attempt in (1, 2):
            run_worker()
            row = DBTaskResult.objects.get(pk=result.id)
            assert row.status == "READY" and len(row.worker_ids) == attempt  # back in the queue
            assert row.exception_class_path == "builtins.RuntimeError"
            waits.append((row.run_after - timezone.now()).total_seconds())
            run_worker()  # not yet: it waits out its backoff
            assert DBTaskResult.objects.get(pk=result.id).status == "READY"
            clock.shift(timedelta(seconds=waits[-1] + 0.1))
        run_worker()
    assert waits == [1.0, 2.0]  # doubling
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "FAILED" and len(row.worker_ids) == 3
    status = taskqueue.queue_status()
    assert status.failed == 1 and not status.healthy
    [problem] = [p for p in status.problems if p.id == str(result.id)]
    assert (problem.status, problem.attempts, problem.error) == ("failed", 3, "RuntimeError")
    # An administrator's "once more"
    assert taskqueue.retry_now(str(result.id)) is True
    assert DBTaskResult.objects.get(pk=result.id).status == "READY"
    assert taskqueue.retry_now(str(result.id)) is False  # not failed any more


def _claimed_dispatch_task(clerk, worker_id: str) -> DBTaskResult:
    """A registration's notification task, claimed by a worker (as db_worker does)."""
    case, _code = case_register(actor=clerk, data=intake())
    message = Message.objects.get(case=case, medium="sms")  # the receipt, queued with the registration
    row = DBTaskResult.objects.get(args_kwargs__kwargs__message_id=message.pk)
    row.claim(worker_id)
    return row


def test_a_task_whose_worker_died_is_requeued_and_runs_once(clerk, tmp_path):
    row = _claimed_dispatch_task(clerk, "dead-worker")
    assert taskqueue.reap().total == 0  # just started: not yet lost
    later = timezone.now() + timedelta(seconds=3)
    assert taskqueue.queue_status(now=later).lost == 1  # visible before it is reaped
    result = taskqueue.reap(now=later)
    assert result.requeued == [str(row.pk)] and result.failed == []
    row.refresh_from_db()
    assert row.status == "READY" and row.exception_class_path == taskqueue.LOST
    assert "dead-worker stopped beating" in row.traceback
    with time_machine.travel(later + timedelta(seconds=2), tick=False):
        run_worker("second-worker")
    row.refresh_from_db()
    assert row.status == "SUCCESSFUL" and row.worker_ids == ["dead-worker", "second-worker"]
    assert row.exception_class_path == ""
    assert len(sms_lines(tmp_path)) == 1


def test_a_slow_task_of_a_beating_worker_is_left_alone_until_it_is_stuck(clerk, settings):
    row = _claimed_dispatch_task(clerk, "busy-worker")
    later = timezone.now() + timedelta(seconds=30)
    WorkerHeartbeat.objects.create(worker_id="busy-worker", started_at=later, last_beat_at=later)
    assert taskqueue.reap(now=later).total == 0
    stuck = timezone.now() + timedelta(seconds=settings.HUIYIN_TASK_STUCK_AFTER + 1)
    WorkerHeartbeat.objects.filter(worker_id="busy-worker").update(last_beat_at=stuck)
    assert taskqueue.reap(now=stuck).requeued == [str(row.pk)]
    row.refresh_from_db()
    assert "ran longer than" in row.traceback


def test_a_task_lost_on_its_last_attempt_fails_and_is_listed(clerk):
    row = _claimed_dispatch_task(clerk, "w1")
    DBTaskResult.objects.filter(pk=row.pk).update(worker_ids=["w1", "w2", "w3"])
    later = timezone.now() + timedelta(seconds=3)
    assert taskqueue.reap(now=later).failed == [str(row.pk)]
    row.refresh_from_db()
    assert row.status == "FAILED" and row.exception_class_path == taskqueue.LOST
    [problem] = taskqueue.queue_status(now=later).problems
    assert (problem.status, problem.attempts, problem.error) == ("failed", 3, "TaskLost")


WORKER = [sys.executable, "-m", "huiyin.cli", "huiyin_worker", "--interval", "0.2"]


def test_a_worker_killed_in_the_middle_of_a_notification_loses_nothing_and_sends_once(clerk, tmp_path):
    """The issue's lost task: killed with SIGKILL while sending, the notification used to
    stay RUNNING for ever. Now the next worker reaps it and delivers it, once."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        HUIYIN_DATA_DIR=str(tmp_path),
        # The same keys as this process: personal fields and event hashes are keyed from it.
        SECRET_KEY=settings.SECRET_KEY,
        HUIYIN_TASK_BACKEND="db",
        HUIYIN_SMS_BACKEND="tests.faults.slow_sms.SlowFileSmsBackend",
        HUIYIN_TASK_WORKER_DEAD_AFTER="2",
        HUIYIN_TASK_RETRY_BACKOFF="0.5",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    env.pop("REDIS_URL", None)
    case, _code = case_register(actor=clerk, data=intake(party=PartyInput(name="张伟", phone=SLOW_PHONE)))
    message = Message.objects.get(case=case, medium="sms")
    task = DBTaskResult.objects.get(args_kwargs__kwargs__message_id=message.pk)
    first = subprocess.Popen(WORKER, cwd=ROOT, env=env)
    second = None
    try:
        handovers = tmp_path / "outbox" / "handovers.log"
        # in the middle of sending: handed to the (slow) gateway, not yet written or committed
        wait_for(lambda: handovers.exists() and handovers.read_text(), 60, "the worker to start sending")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        task.refresh_from_db()
        assert task.status == "RUNNING"  # what a dead worker used to leave behind for ever
        message.refresh_from_db()
        assert sms_lines(tmp_path) == [] and message.status == MessageStatus.QUEUED and message.attempts == 0
        second = subprocess.Popen(WORKER, cwd=ROOT, env=env)
        wait_for(lambda: DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL", 60, "the task to be redone")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
    task.refresh_from_db()
    assert len(task.worker_ids) == 2
    assert [line["key"] for line in sms_lines(tmp_path)] == [message.key]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert handovers.read_text().split() == [message.key] * 2  # handed over twice, delivered once


def test_retrying_the_same_message_task_delivers_once(clerk, tmp_path):
    case, _code = case_register(actor=clerk, data=intake())
    message = Message.objects.get(case=case, medium="sms")
    message_send_task.enqueue(message_id=message.pk)  # a second copy of the same work
    run_worker()
    # Both copies of the message's task ran (the registration's own event task besides them).
    sends = DBTaskResult.objects.filter(status="SUCCESSFUL", task_path__endswith="message_send_task")
    assert sends.count() == 2
    assert len(sms_lines(tmp_path)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)


def test_old_successful_tasks_are_pruned_failed_ones_kept(settings):
    settings.HUIYIN_TASK_KEEP_DAYS = 7
    done = succeeds.enqueue()
    failed = always_fails.enqueue()
    run_worker()
    DBTaskResult.objects.filter(pk=failed.id).update(status="FAILED", worker_ids=["a", "b", "c"])
    long_ago = timezone.now() - timedelta(days=8)
    DBTaskResult.objects.update(finished_at=long_ago)
    assert taskqueue.prune(now=timezone.now() - timedelta(days=2)) == 0  # not old enough then
    assert taskqueue.prune() == 1
    assert [str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)] == [str(failed.id)]
    assert str(done.id) != str(failed.id)
