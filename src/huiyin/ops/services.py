"""Writes an administrator may make to the service's own state."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from huiyin.core.errors import ApplicationError, PermissionDeniedError
from huiyin.orgs.models import Staff

from . import taskqueue
from .errors import OpsError
from .permissions import may_retry_tasks


def task_retry(*, actor: Staff, task_id: str) -> None:
    """Give a task that failed for good one more attempt, now."""
    if not may_retry_tasks(actor):
        raise PermissionDeniedError()
    if not taskqueue.retry_now(task_id):
        raise ApplicationError(_("没有这个失败的任务（可能已重新执行）。"), field="task", code=OpsError.TASK_NOT_FAILED)
