"""RQ with retries: every job enqueued with ``HUIYIN_TASK_MAX_ATTEMPTS`` attempts and the
backoff of ``taskqueue.backoff``, so a job that raised, whose work horse was killed, or
whose whole worker died (found abandoned by RQ's registry maintenance) runs again, and
one out of attempts stays in the queue's ``FailedJobRegistry`` for the status page.

``django_tasks_rq.RQBackend.enqueue`` has no way to pass RQ's ``Retry``; this backend is
the same enqueue with it (django-tasks-rq 0.12)."""

from __future__ import annotations

from typing import Any, TypeVar

import django_rq
from django.conf import settings
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, RQBackend, failed_callback, success_callback
from rq import Retry
from rq.job import Callback, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from .taskqueue import QueueStatus, TaskProblem, backoff, max_attempts

T = TypeVar("T")


def retry_policy() -> Retry | None:
    retries = max_attempts() - 1
    if retries < 1:
        return None
    return Retry(max=retries, interval=[int(backoff(n).total_seconds()) for n in range(1, retries + 1)])


class RetryingRQBackend(RQBackend):
    def enqueue(self, task: Task[Any, T], args: Any, kwargs: Any) -> TaskResult[T]:
        self.validate_task(task)
        task_result: TaskResult[T] = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        job = queue.create_job(
            task.module_path,
            args=args,
            kwargs=kwargs,
            job_id=task_result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(failed_callback),
            on_success=Callback(success_callback),
            meta={"backend_name": self.alias},
            retry=retry_policy(),
        )
        if task.run_after is None:
            job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(task_result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=task_result)
        return task_result


def _queues() -> list[Any]:

    names = settings.TASKS["default"].get("QUEUES") or ["default"]
    return [django_rq.get_queue(name, job_class=Job) for name in names]


def rq_status(*, limit: int = 50, detail: bool = True) -> QueueStatus:
    status = QueueStatus(backend="rq")
    for queue in _queues():
        status.queued += queue.count
        status.running += StartedJobRegistry(queue=queue).count
        status.retrying += queue.scheduled_job_registry.count
        failed = FailedJobRegistry(queue=queue)
        status.failed += failed.count
        status.done_24h += queue.finished_job_registry.count  # as long as RQ keeps results
        if not detail:
            continue
        for job_id in failed.get_job_ids(0, limit - 1):
            job = queue.fetch_job(job_id)
            if job is None:
                continue
            exceptions = job.meta.get("_django_tasks_rq_exceptions") or []
            status.problems.append(
                TaskProblem(
                    id=job.id,
                    name=str(job.func_name).rsplit(".", 1)[-1],
                    status="failed",
                    attempts=max_attempts() - int(job.retries_left or 0),
                    enqueued_at=job.enqueued_at,
                    last_attempt_at=job.started_at,
                    error=(exceptions[-1].rsplit(".", 1)[-1] if exceptions else "AbandonedJobError"),
                )
            )
    return status


def retry_failed_job(job_id: str) -> bool:
    for queue in _queues():
        registry = FailedJobRegistry(queue=queue)
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            return True
    return False
