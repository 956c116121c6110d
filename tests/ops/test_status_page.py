"""What an administrator sees of the service's health: the status page (processes,
restarts, failed and lost tasks, a retry button), the desk panel when something needs
attention, and `huiyin tasks status` for monitoring."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from huiyin.ops.models import ProcessState, ServiceProcess
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

from .tasks_for_tests import always_fails

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def db_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


def failed_task() -> DBTaskResult:
    result = always_fails.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        status="FAILED",
        worker_ids=["w1", "w2", "w3", "w4", "w5"],
        started_at=timezone.now(),
        finished_at=timezone.now(),
        exception_class_path="builtins.RuntimeError",
        traceback="RuntimeError: gateway down for 13812345678",
    )
    return DBTaskResult.objects.get(pk=result.id)


def crashed_sweeper() -> ServiceProcess:
    now = timezone.now()
    return ServiceProcess.objects.create(
        host="app1",
        name="sweeper",
        state=ProcessState.RUNNING,
        pid=4242,
        started_at=now,
        restarts=2,
        last_exit_at=now,
        last_exit="killed by SIGKILL",
        updated_at=now,
    )


def test_the_status_page_shows_restarts_and_failed_tasks_to_administrators_only(client, admin, clerk):
    task = failed_task()
    crashed_sweeper()
    url = reverse("ops:status")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert 'href="/system/"' not in client.get(reverse("cases:desk")).content.decode()
    client.force_login(admin)
    html = client.get(url).content.decode()
    assert 'data-name="sweeper" data-restarts="2"' in html and "killed by SIGKILL" in html
    assert f'data-status="failed" data-id="{task.pk}"' in html and "RuntimeError" in html
    assert "13812345678" not in html and "gateway down" not in html  # the class, never the message
    assert "个后台任务多次重试后仍失败" in html
    assert 'href="/system/"' in client.get(reverse("cases:desk")).content.decode()  # in the navigation


def test_an_administrator_gives_a_failed_task_one_more_attempt(client, admin, clerk):
    task = failed_task()
    retry = reverse("ops:retry_task", args=[task.pk])
    client.force_login(clerk)
    assert client.post(retry).status_code == 403
    client.force_login(admin)
    assert client.get(retry).status_code == 405
    response = client.post(retry, follow=True)
    assert "任务已重新排队" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "READY"
    response = client.post(retry, follow=True)  # no longer failed: a message, not an error page
    assert response.status_code == 200 and "没有这个失败的任务" in response.content.decode()
    assert client.post(reverse("ops:retry_task", args=["x" * 80])).status_code == 404
    assert client.post(reverse("ops:retry_task", args=["not-a-uuid"])).status_code == 302


def test_the_administrators_desk_says_when_the_service_needs_attention(client, admin, clerk):
    client.force_login(admin)
    assert 'id="desk-system"' not in client.get(reverse("cases:desk")).content.decode()  # all well: nothing
    crashed_sweeper()
    failed_task()
    html = client.get(reverse("cases:desk")).content.decode()
    assert 'id="desk-system"' in html and "进程重启 2 次" in html and "失败任务 1" in html
    assert "进程 sweeper 退出（killed by SIGKILL）" in html
    client.force_login(clerk)
    assert 'id="desk-system"' not in client.get(reverse("cases:desk")).content.decode()


def test_tasks_status_command_exits_non_zero_when_something_failed():
    out = StringIO()
    call_command("huiyin_tasks", "status", stdout=out, stderr=StringIO())
    assert "failed 0" in out.getvalue()
    task = failed_task()
    crashed_sweeper()
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("huiyin_tasks", "status", stdout=out, stderr=StringIO())
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert f"failed   {task.pk}  always_fails  attempts 5" in text
    assert "sweeper  app1" in text and "restarts 2" in text and "killed by SIGKILL" in text
    call_command("huiyin_tasks", "retry", str(task.pk), stdout=StringIO())
    task.refresh_from_db()
    assert task.status == "READY"


def test_the_sweepers_backlog_reads_in_words_not_as_a_timedelta():
    from datetime import timedelta

    from django.utils import translation

    from huiyin.ops.selectors import SystemStatus

    status = SystemStatus(
        now=timezone.now(),
        processes=[],
        workers=[],
        workers_alive=0,
        sweepers_alive=[],
        sweeper_lag=timedelta(days=4, hours=13, minutes=23, seconds=19, microseconds=624700),
        tasks=None,  # type: ignore[arg-type]  # not read here
    )
    with translation.override("zh-hans"):
        assert status.sweeper_lag_text == "4天13小时"
    with translation.override("en"):
        assert "days" not in status.sweeper_lag_text and ":" not in status.sweeper_lag_text
