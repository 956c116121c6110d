"""Reads for the status page, the administrators' desk panel and ``huiyin tasks status``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.core.durations import humanize
from huiyin.deadlines.models import SweeperHeartbeat
from huiyin.deadlines.selectors import sweeper_health

from .models import ProcessState, ServiceProcess, WorkerHeartbeat
from .taskqueue import QueueStatus, dead_after, queue_status


@dataclass
class SystemStatus:
    now: datetime
    processes: list[ServiceProcess]
    workers: list[WorkerHeartbeat]
    workers_alive: int
    sweepers_alive: list[str]
    sweeper_lag: timedelta
    tasks: QueueStatus
    warnings: list[str] = field(default_factory=list)

    @property
    def sweeper_lag_text(self) -> str:
        """The sweeper's backlog in words ("4天13小时"), not a ``timedelta``'s repr."""
        return humanize(self.sweeper_lag)

    @property
    def restarts(self) -> int:
        return sum(p.restarts for p in self.processes)

    @property
    def last_failure(self) -> ServiceProcess | None:
        exited = [p for p in self.processes if p.last_exit_at]
        return max(exited, key=lambda p: p.last_exit_at or self.now) if exited else None

    @property
    def healthy(self) -> bool:
        return not self.warnings


def system_status(*, now: datetime | None = None, detail: bool = True) -> SystemStatus:

    now = now or timezone.now()
    processes = list(ServiceProcess.objects.order_by("host", "name"))
    workers = list(WorkerHeartbeat.objects.filter(last_beat_at__gte=now - timedelta(hours=1)).order_by("-last_beat_at"))
    alive = sum(1 for w in workers if w.last_beat_at >= now - dead_after())
    sweeper = sweeper_health(now=now)
    tasks = queue_status(now=now, detail=detail)
    status = SystemStatus(
        now=now,
        processes=processes,
        workers=workers,
        workers_alive=alive,
        sweepers_alive=list(sweeper["alive"]),
        sweeper_lag=sweeper["backlog_lag"],
        tasks=tasks,
    )
    expected = {p.name for p in processes if p.state != ProcessState.STOPPED}
    for p in processes:
        if p.state == ProcessState.RESTARTING:
            status.warnings.append(
                _("进程 %(name)s 已退出（%(how)s），正在重启。") % {"name": p.name, "how": p.last_exit}
            )
    # "Nobody is running it" only where one was running lately (not on a bare test set-up).
    if tasks.backend == "db" and not alive and (workers or "worker" in expected):
        status.warnings.append(_("没有正在运行的任务进程：通知等后台任务在排队等待。"))
    recent_sweeper = SweeperHeartbeat.objects.filter(last_beat_at__gte=now - timedelta(hours=1)).exists()
    if not status.sweepers_alive and (recent_sweeper or "sweeper" in expected):
        status.warnings.append(_("没有正在运行的时限巡检进程：预警、超期和升级不会发出。"))
    if tasks.failed:
        status.warnings.append(_("%(n)d 个后台任务多次重试后仍失败。") % {"n": tasks.failed})
    if tasks.lost:
        status.warnings.append(_("%(n)d 个后台任务的进程已中断，等待重新排队。") % {"n": tasks.lost})
    return status
