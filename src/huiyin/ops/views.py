"""The status page: the processes ``huiyin serve`` keeps alive (restarts, last failure),
the task workers and sweepers beating, and the background tasks that failed, were lost
with their worker or wait for another attempt."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.core.errors import ApplicationError
from huiyin.core.http import AuthedHttpRequest

from .permissions import may_see_system_status
from .selectors import system_status
from .services import task_retry

TASK_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


@login_required
def status_page(request: AuthedHttpRequest) -> HttpResponse:
    if not may_see_system_status(request.user):
        raise PermissionDenied
    return render(request, "ops/status.html", {"status": system_status()})


@login_required
@require_POST
def retry_task(request: AuthedHttpRequest, task_id: str) -> HttpResponse:
    if not may_see_system_status(request.user):
        raise PermissionDenied
    if not TASK_ID.match(task_id):
        raise Http404
    try:
        task_retry(actor=request.user, task_id=task_id)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("任务已重新排队。"))
    return redirect("ops:status")
