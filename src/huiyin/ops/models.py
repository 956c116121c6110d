"""What the running service records about itself: the processes ``huiyin serve`` keeps
alive, and the task workers' heartbeats (which the reaper reads to tell a lost task from
a slow one)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcessState(models.TextChoices):
    RUNNING = "running", _("运行中")
    RESTARTING = "restarting", _("等待重启")
    STOPPED = "stopped", _("已停止")


class ServiceProcess(models.Model):
    """One background or web process of one ``huiyin serve`` on one machine, kept up to
    date by that supervisor: how often it had to be restarted and why it last stopped."""

    host = models.CharField(max_length=120)
    name = models.CharField(max_length=20)  # web | worker | sweeper
    state = models.CharField(max_length=12, choices=ProcessState.choices)
    pid = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    restarts = models.IntegerField(default=0)
    last_exit_at = models.DateTimeField(null=True, blank=True)
    last_exit = models.CharField(max_length=200, blank=True)  # "killed by SIGKILL", "exit status 1"
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "name"], name="service_process_once")]
        verbose_name = _("服务进程")
        verbose_name_plural = _("服务进程")

    def __str__(self) -> str:
        return f"{self.name}@{self.host}"


class WorkerHeartbeat(models.Model):
    """One row per task worker process (``huiyin huiyin_worker``), beaten every few
    seconds by a thread of its own, so a long task does not look like a dead worker."""

    worker_id = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField()
    tasks_done = models.BigIntegerField(default=0)
    tasks_failed = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("任务进程")
        verbose_name_plural = _("任务进程")

    def __str__(self) -> str:
        return self.worker_id
