"""Callbacks (回访, F40/F41): planned by the preset's rules when a case is answered,
worked from a queue, and recorded attempt by attempt."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Attachment, Case
from huiyin.core.states import StatusTable

from .errors import AnswerGiven, CallbackDone, TaskDone

USER = settings.AUTH_USER_MODEL


class CallbackReason(models.TextChoices):
    ALL = "all", _("全部回访")
    SAMPLE = "sample", _("按比例抽取")
    GROUP_VISIT = "group_visit", _("群体来访必须回访")
    FORWARDED = "forwarded_for_investigation", _("上级交办查处必须回访")
    ONLINE = "online", _("反映人网上评价")  # not planned: the complainant rated the answer on the portal


class CallbackStatus(models.TextChoices):
    DUE = "due", _("待回访")
    DONE = "done", _("已回访")
    UNREACHABLE = "unreachable", _("联系不上")
    # Nobody can call back: the complainant left no phone number (anonymous, or no way to
    # reach them). Recorded when planned, with the reason; not on the queue, and counted
    # apart from the callbacks made or missed (reports: ``callbacks_no_contact``). The
    # complainant's own rating on the portal still lands on it.
    NO_CONTACT = "no_contact", _("无法回访")
    CANCELLED = "cancelled", _("已取消")


class NoContactReason(models.TextChoices):
    ANONYMOUS = "anonymous", _("匿名反映，未留联系电话")
    NO_DETAILS = "no_details", _("未留联系电话或地址")


CALLBACK_STATUSES = StatusTable(
    CallbackStatus,
    {
        CallbackStatus.DUE: {
            CallbackStatus.DONE,
            CallbackStatus.UNREACHABLE,
            CallbackStatus.NO_CONTACT,
            CallbackStatus.CANCELLED,
        },
        CallbackStatus.NO_CONTACT: {CallbackStatus.DONE, CallbackStatus.CANCELLED},
    },
    error=CallbackDone,
)


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


# The answers counted as satisfied in a satisfaction rate (满意 + 基本满意).
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY)


class CallbackMethod(models.TextChoices):
    PHONE = "phone", _("电话回访")
    ON_SITE = "on_site", _("上门回访")
    ONLINE = "online", _("网上评价")


class HeadDecision(models.TextChoices):
    """不满意 where the preset asks the lead department's head to decide (on_dissatisfied)."""

    PENDING = "pending", _("待部门负责人决定")
    REOPEN = "reopen", _("重办")
    CLOSE = "close", _("维持原处理，办结")


class Callback(models.Model):
    """One planned callback of one handling round, with who should make it and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="callbacks")
    round = models.PositiveIntegerField()
    reason = models.CharField(max_length=32, choices=CallbackReason.choices)
    role = models.CharField(max_length=20, blank=True)  # the preset's role that calls back ("" for ONLINE)
    draw = models.FloatField(null=True, blank=True)  # the reproducible sample draw in [0, 1)
    seed = models.CharField(max_length=40, blank=True)
    planned_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=CallbackStatus.choices, default=CallbackStatus.DUE)
    no_contact_reason = models.CharField(max_length=12, choices=NoContactReason.choices, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    satisfaction = models.CharField(max_length=20, choices=Satisfaction.choices, blank=True)
    findings = models.TextField(blank=True)
    attitude = models.CharField(max_length=20, blank=True)
    charges_checked = models.BooleanField(null=True)
    done_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=10, choices=CallbackMethod.choices, blank=True)
    signature = models.ForeignKey(Attachment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    head_decision = models.CharField(max_length=8, choices=HeadDecision.choices, blank=True)
    head_decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    head_decided_at = models.DateTimeField(null=True, blank=True)
    head_note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="callback_once_per_round")]
        indexes = [models.Index(fields=["status", "role", "due_at"], name="callback_queue")]


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", _("已接通")
    NOT_REACHED = "not_reached", _("未接通")
    WRONG_NUMBER = "wrong_number", _("号码错误")


class CallbackAttempt(models.Model):
    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="attempt_set")
    at = models.DateTimeField()
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class RatingLink(models.Model):
    """A link the complainant rates the answer with (F41 self-rating): one use, expires.
    Only the token's hash is stored."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="rating_links")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.CharField(max_length=20, choices=Satisfaction.choices, blank=True)
    comment = models.TextField(blank=True)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    DONE = "done", _("已整改")


TASK_STATUSES = StatusTable(TaskStatus, {TaskStatus.OPEN: {TaskStatus.DONE}}, error=TaskDone)


class RectificationTask(models.Model):
    """A problem found at a callback: written notice to fix it within the preset's limit
    (回访中发现的问题，24 小时内书面通知维修人员进行整改)."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="tasks")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="callback_tasks")
    problem = models.TextField(_("发现的问题"))
    department_id = models.IntegerField(null=True, blank=True)  # the lead department at the time
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "id"]


class AnswerStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")


ANSWER_STATUSES = StatusTable(AnswerStatus, {AnswerStatus.OPEN: {AnswerStatus.ANSWERED}}, error=AnswerGiven)


class PromisedAnswer(models.Model):
    """A question or opinion raised at a callback that could not be answered at once, and the
    time the person was told to expect the answer (回访中不能当即答复的，应告知预约时间答复).
    Timed by the deadline engine (subject ``callback_answer``) until the answer is recorded."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="promised_answers")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="promised_answers")
    question = models.TextField(_("未能当即答复的询问"))
    answer_by = models.DateTimeField(_("预约答复时间"))
    department_id = models.IntegerField(null=True, blank=True)  # the lead department at the time
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=AnswerStatus.choices, default=AnswerStatus.OPEN)
    answer = models.TextField(_("答复内容"), blank=True)
    answered_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["answer_by", "id"]
        indexes = [models.Index(fields=["case", "status"], name="promised_answer_case")]

    @property
    def late(self) -> bool:
        return self.answered_at is not None and self.answered_at > self.answer_by
