"""The service's health in a real browser: after a background process was killed and a
notification task failed for good, the administrator's desk says so; the link opens the
status page (restarts, the last exit, the failed task), where one click queues the task
again. A clerk sees none of it."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from huiyin.ops.models import ProcessState, ServiceProcess
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.ops.tasks_for_tests import always_fails

pytestmark = pytest.mark.e2e


def test_an_administrator_sees_a_restart_and_a_failed_task_and_queues_it_again(org, clerk, logged_in_page, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    make_staff(org, "admin", [Role.ADMIN])
    now = timezone.now()
    ServiceProcess.objects.create(
        host="app1", name="worker", state=ProcessState.RUNNING, pid=4242, started_at=now,
        restarts=1, last_exit_at=now, last_exit="killed by SIGKILL", updated_at=now,
    )  # fmt: skip
    task = always_fails.enqueue()
    DBTaskResult.objects.filter(pk=task.id).update(
        status="FAILED", worker_ids=["w1", "w2", "w3", "w4", "w5"], finished_at=now,
        exception_class_path="builtins.RuntimeError", traceback="RuntimeError: gateway down",
    )  # fmt: skip

    page = logged_in_page("clerk")
    expect(page.locator("#desk-system")).to_have_count(0)
    expect(page.get_by_role("link", name="系统状态")).to_have_count(0)

    page = logged_in_page("admin")
    panel = page.locator("#desk-system")
    expect(panel).to_contain_text("进程重启 1 次")
    expect(panel).to_contain_text("失败任务 1")
    expect(panel).to_contain_text("进程 worker 退出（killed by SIGKILL），已自动重启。")
    panel.get_by_role("link", name="查看详情").click()
    expect(page).to_have_url(re.compile(r"/system/$"))
    expect(page.locator('tr.service-process[data-name="worker"]')).to_contain_text("killed by SIGKILL")
    row = page.locator(f'tr.task-problem[data-id="{task.id}"]')
    expect(row).to_contain_text("always_fails")
    expect(row).to_contain_text("RuntimeError")
    expect(page.locator("#tasks-failed")).to_have_text("1")
    row.get_by_role("button", name="重新执行").click()
    expect(page.get_by_role("alert").filter(has_text="任务已重新排队")).to_be_visible()
    expect(page.locator("#tasks-failed")).to_have_text("0")
    expect(page.locator("#tasks-queued")).to_have_text("1")
    assert DBTaskResult.objects.get(pk=task.id).status == "READY"
