"""The administrators' desk panel: shown when the service needs attention (a process
restarted in the last day, a task failed or was lost, nobody is running the worker or
the sweeper), with a link to the status page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from huiyin.core.http import AuthedHttpRequest

from .permissions import may_see_system_status
from .selectors import system_status


def desk_panel(request: AuthedHttpRequest) -> dict[str, Any] | None:
    if not may_see_system_status(request.user):
        return None
    status = system_status(detail=False)
    recent = [p for p in status.processes if p.last_exit_at and p.last_exit_at >= status.now - timedelta(days=1)]
    if status.healthy and not recent:
        return None
    return {"system": status, "recent_exits": recent}
