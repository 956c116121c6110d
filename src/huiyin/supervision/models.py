"""Supervision (督办, F33) and the daily review (每日三天复查, F34).

A supervision notice (督办单) is a numbered demand from a supervisor or leader to one
department about one case, with its own due time. That due time is a clock of the
deadline engine (subject kind ``supervision_notice``, see ``supervision.subject``): the
one deadline sweeper takes its steps, each once (``deadlines.ClockAction``), and marks
the notice (``warned_at``, ``overdue_at``, ``escalation_level``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huiyin.core.states import StatusTable
from huiyin.orgs.models import Department, Organization

from .errors import NoticeStateError


class NoticeKind(models.TextChoices):
    ROUTINE = "routine", _("工作督办")
    SPECIAL = "special", _("专项督办")


class NoticeState(models.TextChoices):
    OPEN = "open", _("督办中")  # issued, the department has not answered yet
    ANSWERED = "answered", _("已反馈")  # the department reported back; the supervisor checks
    OVERDUE = "overdue", _("已逾期")  # due time passed without an answer
    CLOSED = "closed", _("已销号")  # the supervisor closed it


ACTIVE_NOTICE_STATES = (NoticeState.OPEN, NoticeState.ANSWERED, NoticeState.OVERDUE)
NOTICE_STATES = StatusTable(
    NoticeState,
    {
        NoticeState.OPEN: {NoticeState.ANSWERED, NoticeState.OVERDUE, NoticeState.CLOSED},
        NoticeState.OVERDUE: {NoticeState.ANSWERED, NoticeState.CLOSED},
        NoticeState.ANSWERED: {NoticeState.CLOSED},
    },
    field="state",
    error=NoticeStateError,
)
WAITING_NOTICE_STATES = (NoticeState.OPEN, NoticeState.OVERDUE)  # waiting on the department


class SupervisionSequence(models.Model):
    """Last notice number per organisation and year; bumped by one upsert."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="supervision_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.year}: {self.last}"


class SupervisionNotice(models.Model):
    """督办单: 督〔2026〕12号, issued about one case to one department."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()
    number = models.CharField(_("编号"), max_length=30)
    kind = models.CharField(_("督办类型"), max_length=10, choices=NoticeKind.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="supervision_notices")
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="supervision_notices",
        verbose_name=_("督办部门"),
    )
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requirement = models.TextField(_("督办要求"))
    due_at = models.DateTimeField(_("反馈期限"))
    warn_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=NoticeState.choices, default=NoticeState.OPEN)
    answer = models.TextField(_("反馈内容"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_note = models.TextField(blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)  # 1 = escalated to the leader
    # Unused since the notice's clock times it (supervision 0002); kept, always null.
    next_action_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "serial"], name="supervision_serial_unique"),
            models.UniqueConstraint(fields=["organization", "number"], name="supervision_number_unique"),
        ]
        indexes = [
            models.Index(
                fields=["next_action_at"],
                condition=Q(next_action_at__isnull=False),
                name="supervision_next_action",
            ),
            models.Index(fields=["case", "state"], name="supervision_case_state"),
            models.Index(fields=["department", "state"], name="supervision_dept_state"),
            models.Index(fields=["organization", "state", "due_at"], name="supervision_org_state_due"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_active(self) -> bool:
        return self.state != NoticeState.CLOSED

    @property
    def answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at > self.due_at


class SupervisionActionKind(models.TextChoices):
    WARN = "warn", _("预警")
    OVERDUE = "overdue", _("逾期")
    ESCALATE = "escalate", _("升级")


class SupervisionAction(models.Model):
    """What the former supervision sweeper did on a notice, once (unique on notice,
    action, level). No longer written: the steps are the notice clock's ClockActions
    (supervision 0002 copied these); kept as a record."""

    notice = models.ForeignKey(SupervisionNotice, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=8, choices=SupervisionActionKind.choices)
    level = models.PositiveSmallIntegerField(default=0)
    scheduled_for = models.DateTimeField()
    at = models.DateTimeField()
    worker_id = models.CharField(max_length=120)
    recipients = models.JSONField(default=list, blank=True)  # staff ids
    event = models.ForeignKey("cases.Event", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "action", "level"], name="supervision_action_once"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.action}#{self.level}"


class DailyReview(models.Model):
    """One completed daily review (复查完成) by one clerk. ``covered_until`` is the moment
    the queue was shown: the next review marks what changed after it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("时间"))
    covered_until = models.DateTimeField()
    lookback_days = models.PositiveSmallIntegerField(default=3)
    counts = models.JSONField(default=dict, blank=True)  # the queue's counts when completed
    note = models.TextField(_("复查说明"), blank=True)

    class Meta:
        verbose_name = _("每日复查")
        verbose_name_plural = _("每日复查")
        ordering = ["-reviewed_at", "-id"]
        indexes = [models.Index(fields=["reviewer", "-reviewed_at"], name="daily_review_reviewer")]

    def __str__(self) -> str:
        return f"{self.reviewer_id} {self.reviewed_at:%Y-%m-%d %H:%M}"
