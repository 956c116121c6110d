"""RQ on a real Redis: every job is enqueued with retries (django-tasks-rq enqueues none),
so a job that raised — or whose work horse was killed, or which RQ's maintenance finds
abandoned by a dead worker — runs again; one out of attempts stays in the failed registry
and is listed for the administrators like the database queue's failures."""

from __future__ import annotations

import os
import uuid

import pytest

from huiyin.ops import taskqueue
from huiyin.ops.rq import retry_policy

from .tasks_for_tests import always_fails

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def rq_queue(settings):
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        if os.environ.get("HUIYIN_REQUIRE_REDIS") == "1":
            pytest.fail("HUIYIN_REQUIRE_REDIS=1 but REDIS_URL is not set")
        pytest.skip("REDIS_URL is not set: no Redis server to run RQ against (CI sets it)")
    import django_rq

    name = f"test-{uuid.uuid4().hex[:12]}"  # parallel test processes share the server
    settings.RQ_QUEUES = {"default": {"URL": redis_url}, name: {"URL": redis_url}}
    settings.TASKS = {"default": {"BACKEND": "huiyin.ops.rq.RetryingRQBackend", "QUEUES": [name]}}
    settings.HUIYIN_TASK_MAX_ATTEMPTS = 3
    settings.HUIYIN_TASK_RETRY_BACKOFF = 0  # retry at once: no scheduler needed in the test
    queue = django_rq.get_queue(name)
    yield name
    queue.empty()
    queue.delete(delete_jobs=True)


def test_the_retry_policy_follows_the_settings(settings):
    settings.HUIYIN_TASK_MAX_ATTEMPTS = 5
    settings.HUIYIN_TASK_RETRY_BACKOFF = 5
    policy = retry_policy()
    assert policy is not None and policy.max == 4 and policy.intervals == [5, 10, 20, 40]
    settings.HUIYIN_TASK_MAX_ATTEMPTS = 1
    assert retry_policy() is None


def test_a_failing_job_is_retried_then_listed_as_failed(rq_queue):
    import django_rq
    from rq import SimpleWorker

    result = always_fails.using(queue_name=rq_queue).enqueue()
    worker = django_rq.get_worker(rq_queue, worker_class=SimpleWorker, job_class="django_tasks_rq.Job")
    worker.work(burst=True)
    queue = django_rq.get_queue(rq_queue)
    job = queue.fetch_job(result.id)
    assert job is not None and job.retries_left == 0  # retried twice: three attempts
    status = taskqueue.queue_status()
    assert (status.backend, status.failed, status.queued) == ("rq", 1, 0)
    [problem] = status.problems
    assert (problem.id, problem.status, problem.attempts, problem.error) == (result.id, "failed", 3, "RuntimeError")
    assert taskqueue.retry_now(result.id) is True
    assert queue.count == 1 and len(queue.failed_job_registry) == 0
