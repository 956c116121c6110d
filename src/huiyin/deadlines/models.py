"""The deadline engine's data: clocks (one per timed subject: a case stage, a
supervision notice, a rectification task...), suspensions, extensions, and a record of
everything the sweeper did.

Clocks are plain rows with stored times (``due_at``, ``warn_at``) and one column the
sweeper scans, ``next_action_at`` (null when nothing is pending), so a million open
clocks are one index range scan. Writes go through ``deadlines.services``; the sweeper
(``deadlines.sweeper``) is the only code that fires warnings and escalations.

The tables kept the names they had when these models lived in ``policy``.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huiyin.core.states import StatusTable
from huiyin.orgs.models import Organization
from huiyin.policy.labels import STAGE_LABELS, preset_label
from huiyin.policy.models import PolicyVersion

__all__ = ["STAGE_LABELS"]  # re-exported: the engine names stages by them


class ClockState(models.TextChoices):
    RUNNING = "running", _("计时中")
    PAUSED = "paused", _("已暂停")  # the case is suspended (awaiting the complainant's materials)
    STOPPED = "stopped", _("已停止")


CLOCK_STATES = StatusTable(
    ClockState,
    {
        ClockState.RUNNING: {ClockState.PAUSED, ClockState.STOPPED},
        ClockState.PAUSED: {ClockState.RUNNING, ClockState.STOPPED},
    },
    field="state",
)


class StopReason(models.TextChoices):
    DONE = "done", _("环节完成")  # the stage this clock timed was completed
    CANCELLED = "cancelled", _("案件终止")  # not accepted, returned, transferred, closed...
    SENT_BACK = "sent_back", _("退单")  # the department sent the case back; restarts on re-dispatch
    SUPERSEDED = "superseded", _("规则变更")  # replaced by a clock under another rule


class Clock(models.Model):
    """The deadline of one subject: a stage of one handling round of a case, a supervision
    notice, a rectification task... (``subject_kind``, ``subject_id``; see deadlines.subjects).

    ``rule`` is a self-contained snapshot (the DeadlineRule in preset key format plus the
    escalation chain and the matching context), so the clock keeps the policy its case
    was registered under and the sweeper needs no preset to act on it.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # What is timed (deadlines.subjects): "case" (a stage of a case), "supervision_notice",
    # "rectification_task"...; ``subject_id`` is that row's id (the case's, for "case").
    subject_kind = models.CharField(max_length=32, default="case")
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    # For scoping and display: the case the subject belongs to, if any.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="clocks")
    round = models.PositiveIntegerField(default=1)
    stage = models.CharField(_("环节"), max_length=24)
    policy_version = models.ForeignKey(PolicyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rule = models.JSONField()
    unit = models.CharField(max_length=16)  # = rule unit; calendar changes recompute by it
    started_at = models.DateTimeField(_("起算时间"))
    due_at = models.DateTimeField(_("到期时间"))
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.BigIntegerField(default=0)  # wall-clock time paused, for display
    paused_units = models.BigIntegerField(default=0)  # paused time in the rule's unit semantics
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=12, choices=StopReason.choices, blank=True)
    state = models.CharField(max_length=8, choices=ClockState.choices, default=ClockState.RUNNING)
    warned_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)  # last escalation step taken (1-based)
    generation = models.PositiveSmallIntegerField(default=0)  # approved extensions so far
    next_action_at = models.DateTimeField(null=True, blank=True)  # the sweeper's one column
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "policy_clock"
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id", "round", "stage"],
                condition=~Q(state="stopped"),
                name="clock_one_active_per_subject_stage",
            ),
        ]
        indexes = [
            # Partial: stopped and quiet clocks are not in the sweeper's index at all.
            models.Index(
                fields=["next_action_at"],
                condition=Q(next_action_at__isnull=False),
                name="clock_next_action",
            ),
            models.Index(fields=["case", "round"], name="clock_case_round"),
            models.Index(fields=["subject_kind", "subject_id"], name="clock_subject"),
            models.Index(fields=["organization", "state", "due_at"], name="clock_org_state_due"),
        ]

    def __str__(self) -> str:
        subject = self.case_id if self.subject_kind == "case" else f"{self.subject_kind}:{self.subject_id}"
        return f"{subject}/{self.round}/{self.stage} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def label(self) -> str:
        """The preset's label for this deadline (or the stage's name), in the active language."""
        rule_label = self.rule.get("label")
        return preset_label(str(rule_label)) if rule_label else str(STAGE_LABELS.get(self.stage, self.stage))

    @property
    def written_label(self) -> str:
        """The preset's label as written, untranslated (or the stage's name): what an event
        keeps for the messages sent from it."""
        return str(self.rule.get("label") or STAGE_LABELS.get(self.stage, self.stage))

    @property
    def is_active(self) -> bool:
        return self.state != ClockState.STOPPED

    def is_overdue(self, now: datetime) -> bool:
        """Overdue now (running past due), or stopped after its due time."""
        if self.state == ClockState.STOPPED:
            return self.stopped_at is not None and self.stopped_at > self.due_at
        return self.overdue_at is not None or self.due_at < now

    @property
    def met(self) -> bool | None:
        """For reports: stopped in time (True), late (False), still open or cancelled (None)."""
        if self.state != ClockState.STOPPED or self.stop_reason != StopReason.DONE or not self.stopped_at:
            return None
        return self.stopped_at <= self.due_at


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


EXTENSION_STATUSES = StatusTable(
    ExtensionStatus, {ExtensionStatus.PENDING: {ExtensionStatus.APPROVED, ExtensionStatus.REJECTED}}
)


class Extension(models.Model):
    """A request to postpone one clock's due time (延期), decided by the preset's approver."""

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="extensions")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    amount = models.PositiveIntegerField(_("延长"))
    unit = models.CharField(max_length=16)
    reason = models.TextField(_("延期理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    previous_due_at = models.DateTimeField(null=True, blank=True)
    new_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "policy_extension"
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock"],
                condition=Q(status="pending"),
                name="extension_one_pending_per_clock",
            ),
        ]
        indexes = [models.Index(fields=["case", "status"], name="extension_case_status")]

    def __str__(self) -> str:
        return f"{self.clock_id} +{self.amount} {self.unit} ({self.status})"


class Suspension(models.Model):
    """挂起: the case waits on the complainant (materials); its clocks are paused."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="suspensions")
    round = models.PositiveIntegerField(default=1)
    reason = models.TextField(_("挂起原因"))
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_note = models.TextField(blank=True)

    class Meta:
        db_table = "policy_suspension"
        verbose_name = _("挂起")
        verbose_name_plural = _("挂起")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(ended_at__isnull=True),
                name="suspension_one_open_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.started_at:%Y-%m-%d %H:%M}–{self.ended_at or ''}"


class ClockActionKind(models.TextChoices):
    WARN = "warn", _("预警")
    OVERDUE = "overdue", _("逾期")
    ESCALATE = "escalate", _("升级")


class ClockAction(models.Model):
    """What the sweeper did, once: the unique (clock, action, level) makes a second
    attempt (another worker, a restarted one) fail instead of notifying twice.

    ``level``: the escalation step (1-based position in the preset's chain) for
    ``escalate``; the due-date generation (approved extensions) for ``warn``; 0 for
    ``overdue``. ``at - scheduled_for`` is the sweeper's lateness (benchmarks).
    """

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=8, choices=ClockActionKind.choices)
    level = models.PositiveSmallIntegerField(default=0)
    role = models.CharField(max_length=20, blank=True)
    scheduled_for = models.DateTimeField()
    at = models.DateTimeField()
    worker_id = models.CharField(max_length=120)
    event = models.ForeignKey("cases.Event", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipients = models.JSONField(default=list, blank=True)  # staff ids

    class Meta:
        db_table = "policy_clockaction"
        verbose_name = _("时限处理记录")
        verbose_name_plural = _("时限处理记录")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clock", "action", "level"], name="clock_action_once"),
        ]
        indexes = [models.Index(fields=["at"], name="clock_action_at")]

    def __str__(self) -> str:
        return f"{self.clock_id} {self.action}#{self.level} at {self.at:%Y-%m-%d %H:%M:%S}"


class SweeperHeartbeat(models.Model):
    """One row per sweeper process, updated every few seconds: is anyone sweeping?"""

    worker_id = models.CharField(max_length=120, unique=True)
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField()
    batches = models.BigIntegerField(default=0)
    actions = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "policy_sweeperheartbeat"
        verbose_name = _("时限巡检进程")
        verbose_name_plural = _("时限巡检进程")

    def __str__(self) -> str:
        return self.worker_id
