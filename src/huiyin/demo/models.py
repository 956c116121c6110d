"""What the demo command has loaded, so that an interrupted load is known as one."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoLoad(models.Model):
    """One run of ``huiyin demo`` that generates cases: written (and committed) before the first
    case, finished when the last step is done. The weeks of history are played step by step,
    each in its own transaction, so a load stopped half-way (Ctrl+C, a killed process) leaves a
    demo without its finished mark; the next ``--if-empty`` run then builds it again."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    cases = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("示范数据生成")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.started_at:%Y-%m-%d %H:%M} {'done' if self.finished_at else 'unfinished'}"
