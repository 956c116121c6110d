"""The reports' own tables: case-level facts, the day-grain roll-ups fed from the case
event bus, the consumer's cursor, and the periodic reports with their commentary.

Roll-ups are derived data: ``huiyin reports rebuild`` recomputes them from the cases, and
the consumer (``rollups.catch_up``) keeps them current from the events since its cursor.
Their dimensions are plain values, not foreign keys (0 / "" for none), so one upsert
keyed by them adds a change to a row: no NULL ever makes two rows of one key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.core.states import StatusTable
from huiyin.orgs.models import Organization

# Every counter a roll-up row holds, in column order (huiyin.policy.presets.MEASURES names
# them; ``<stage>_done`` / ``_on_time`` / ``_overdue`` count the deadline clocks of a stage).
TIMED_STAGES = ("acceptance", "dispatch", "sign_for", "handover", "reply", "overall", "rectification_plan", "callback")
PLAIN_COUNTERS = (
    "received",
    "received_accepted",
    "received_closed",
    "repeat",
    "complaints",
    "valid_complaints",
    "decided",
    "accepted",
    "dispatched",
    "sent_back",
    "answered",
    "answered_reachable",
    "called_back",
    "reopened",
    "callbacks_planned",
    "callbacks_completed",
    "callbacks_no_contact",
    "mandatory_callbacks",
    "mandatory_callbacks_completed",
    "callbacks_rated",
    "callbacks_satisfied",
    "closed",
    "handling_seconds",
    "escalations",
    "callback_tasks",
    "callback_tasks_done",
)
# Handling times of the cases closed on a day, in buckets (upper bounds in hours, the last
# open): what a quantile is estimated from when the period holds too many cases to rank.
HANDLING_BOUNDS_H = (1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 240, 360, 720, 1440, 2160)
HISTOGRAM = tuple(f"hist_{i:02d}" for i in range(len(HANDLING_BOUNDS_H) + 1))
COUNTERS = PLAIN_COUNTERS + tuple(f"{s}_{k}" for s in TIMED_STAGES for k in ("done", "on_time", "overdue")) + HISTOGRAM


class Counters(models.Model):
    """The counters of one roll-up row (see ``COUNTERS``)."""

    received = models.IntegerField(default=0)
    received_accepted = models.IntegerField(default=0)
    received_closed = models.IntegerField(default=0)
    repeat = models.IntegerField(default=0)
    complaints = models.IntegerField(default=0)
    valid_complaints = models.IntegerField(default=0)
    decided = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    sent_back = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    answered_reachable = models.IntegerField(default=0)
    called_back = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    callbacks_planned = models.IntegerField(default=0)
    callbacks_completed = models.IntegerField(default=0)
    callbacks_no_contact = models.IntegerField(default=0)
    mandatory_callbacks = models.IntegerField(default=0)
    mandatory_callbacks_completed = models.IntegerField(default=0)
    callbacks_rated = models.IntegerField(default=0)
    callbacks_satisfied = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    escalations = models.IntegerField(default=0)
    callback_tasks = models.IntegerField(default=0)
    callback_tasks_done = models.IntegerField(default=0)
    acceptance_done = models.IntegerField(default=0)
    acceptance_on_time = models.IntegerField(default=0)
    acceptance_overdue = models.IntegerField(default=0)
    dispatch_done = models.IntegerField(default=0)
    dispatch_on_time = models.IntegerField(default=0)
    dispatch_overdue = models.IntegerField(default=0)
    sign_for_done = models.IntegerField(default=0)
    sign_for_on_time = models.IntegerField(default=0)
    sign_for_overdue = models.IntegerField(default=0)
    handover_done = models.IntegerField(default=0)
    handover_on_time = models.IntegerField(default=0)
    handover_overdue = models.IntegerField(default=0)
    reply_done = models.IntegerField(default=0)
    reply_on_time = models.IntegerField(default=0)
    reply_overdue = models.IntegerField(default=0)
    overall_done = models.IntegerField(default=0)
    overall_on_time = models.IntegerField(default=0)
    overall_overdue = models.IntegerField(default=0)
    rectification_plan_done = models.IntegerField(default=0)
    rectification_plan_on_time = models.IntegerField(default=0)
    rectification_plan_overdue = models.IntegerField(default=0)
    callback_done = models.IntegerField(default=0)
    callback_on_time = models.IntegerField(default=0)
    callback_overdue = models.IntegerField(default=0)
    hist_00 = models.IntegerField(default=0)
    hist_01 = models.IntegerField(default=0)
    hist_02 = models.IntegerField(default=0)
    hist_03 = models.IntegerField(default=0)
    hist_04 = models.IntegerField(default=0)
    hist_05 = models.IntegerField(default=0)
    hist_06 = models.IntegerField(default=0)
    hist_07 = models.IntegerField(default=0)
    hist_08 = models.IntegerField(default=0)
    hist_09 = models.IntegerField(default=0)
    hist_10 = models.IntegerField(default=0)
    hist_11 = models.IntegerField(default=0)
    hist_12 = models.IntegerField(default=0)
    hist_13 = models.IntegerField(default=0)
    hist_14 = models.IntegerField(default=0)
    hist_15 = models.IntegerField(default=0)

    class Meta:
        abstract = True


class DayRollup(Counters):
    """One day of one organisation by every dimension (department, category, channel,
    nature, place): the grain the reports slice and the statistics return reads."""

    organization_id = models.BigIntegerField()
    day = models.DateField()
    department_id = models.BigIntegerField(default=0)
    category_id = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=12)
    nature = models.CharField(max_length=12)
    place = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "day", "department_id", "category_id", "channel", "nature", "place"],
                name="day_rollup_key",
            )
        ]
        indexes = [models.Index(fields=["organization_id", "day"], name="day_rollup_org_day")]


class DayAxis(Counters):
    """The same counters one dimension at a time (``axis``: all, channel, nature,
    category or place; ``key`` its value), by department: what the dashboard reads. A day
    holds a few rows per department and value, not one per combination, so a year of
    totals is a few thousand rows however many cases there are."""

    organization_id = models.BigIntegerField()
    day = models.DateField()
    department_id = models.BigIntegerField(default=0)
    axis = models.CharField(max_length=10)
    key = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "axis", "day", "department_id", "key"], name="day_axis_key"
            )
        ]
        indexes = [
            models.Index(fields=["organization_id", "department_id", "axis", "day"], name="day_axis_org_dept"),
            # The received counts of one axis over a period (volume by place, channel...: the
            # dashboard's charts) from the index alone. The rows are wide (30 counters): at a
            # million cases the place axis of a year is 430,000 rows read from 25,000 heap pages
            # (606 ms) where the index holds what the chart needs (275 ms). PostgreSQL only.
            models.Index(
                fields=["organization_id", "axis", "day"], include=["key", "received"], name="day_axis_received"
            ),
        ]


class CaseFact(models.Model):
    """What one case contributes to the roll-ups (``contributions``: day → counter → n),
    with its dimensions as they were counted, and the case-level figures a quantile needs
    (``handling_seconds`` of a closed case, indexed by closing day)."""

    case_id = models.BigIntegerField(primary_key=True)
    organization_id = models.BigIntegerField()
    department_id = models.BigIntegerField(default=0)
    category_id = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=12)
    nature = models.CharField(max_length=12)
    place = models.CharField(max_length=40, blank=True, default="")
    received_day = models.DateField()
    closed_day = models.DateField(null=True, blank=True)
    handling_seconds = models.BigIntegerField(null=True, blank=True)
    contributions = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization_id", "closed_day", "handling_seconds"],
                condition=models.Q(closed_day__isnull=False),
                name="case_fact_closed",
            ),
            models.Index(
                fields=["organization_id", "department_id", "closed_day", "handling_seconds"],
                condition=models.Q(closed_day__isnull=False),
                name="case_fact_dept_closed",
            ),
            models.Index(fields=["organization_id", "category_id", "received_day"], name="case_fact_category"),
            models.Index(fields=["organization_id", "department_id", "received_day"], name="case_fact_department"),
            models.Index(fields=["organization_id", "place", "received_day"], name="case_fact_place"),
        ]


class RollupCursor(models.Model):
    """Where the roll-up consumer stands in the event log: the last event id it applied, and
    the ids below it it has not seen yet (``gaps``: id → first seen, ISO time) — an event
    whose transaction was still open when a later one committed. A gap is looked for again
    on every run until it appears or ``HUIYIN_REPORTS_GAP_SECONDS`` pass (a rolled-back
    transaction leaves an id that never comes)."""

    name = models.CharField(max_length=40, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"


class ReportKind(models.TextChoices):
    MONTH = "month", _("月度分析")
    QUARTER = "quarter", _("季度分析")
    HALF_YEAR = "half_year", _("半年分析")
    YEAR = "year", _("年度分析")
    RETURN = "return", _("上报统计表")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已生成")
    FAILED = "failed", _("生成失败")


REPORT_STATUSES = StatusTable(
    ReportStatus,
    {
        ReportStatus.QUEUED: {ReportStatus.RUNNING, ReportStatus.FAILED},
        ReportStatus.RUNNING: {ReportStatus.DONE, ReportStatus.FAILED},
        ReportStatus.FAILED: {ReportStatus.QUEUED},
        ReportStatus.DONE: {ReportStatus.QUEUED},
    },
)


class Report(models.Model):
    """A periodic analysis (月度 / 季度 / 半年 / 年度) or a statistics return for a superior
    body: generated by a task (``progress``), its figures kept as generated (``data``), and
    the analyst's commentary kept with it. One per organisation, kind and period: asking
    for it again generates the same report again with the latest figures (``generation``
    counts the times), its commentary kept."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类型"), max_length=10, choices=ReportKind.choices)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))  # the last day, included
    status = models.CharField(max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    step = models.CharField(max_length=80, blank=True)
    data = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    commentary = models.TextField(_("分析意见"), blank=True)
    commentary_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    commentary_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=1)  # how many times it was generated
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("统计分析报告")
        verbose_name_plural = _("统计分析报告")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["organization", "-requested_at"], name="report_org_time")]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "start", "end"], name="report_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start}–{self.end}"
