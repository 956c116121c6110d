"""Satisfaction surveys (业主意见调查, F42) and planned engagement activities (住户座谈会、
楼长会、登门回访, F43).

A campaign asks its areas (the preset's, e.g. the eight property areas) on the
three-point scale used for callbacks; answers come online through one-use invitation
links or are typed in from paper questionnaires by their number. Problems found
become rectification items with an owning department and a due date. An activity is
planned per the preset's `engagement` kinds and recorded with attendance and minutes;
opinions raised there become cases.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.core.states import StatusTable
from huiyin.followup.models import Satisfaction
from huiyin.orgs.models import Department, Organization

USER = settings.AUTH_USER_MODEL


# A questionnaire answers on the callbacks' three-point scale (满意 / 基本满意 / 不满意).
Answer = Satisfaction


class CampaignStatus(models.TextChoices):
    OPEN = "open", _("收集中")
    CLOSED = "closed", _("已结束")


CAMPAIGN_STATUSES = StatusTable(CampaignStatus, {CampaignStatus.OPEN: {CampaignStatus.CLOSED}})


class Campaign(models.Model):
    """A survey round. One the preset's schedule opened (``schedule.rounds_due``: the
    organisation ran none in the period the preset's ``survey.every`` names) carries its
    ``period`` and no creator; its audience and 发放份数 are filled in by the centre
    before any questionnaire goes out."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("调查名称"), max_length=120)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("截止日期"))
    audience = models.CharField(_("调查对象"), max_length=200, blank=True)
    # questionnaires handed out / households asked; None: not yet given (a scheduled round)
    audience_size = models.PositiveIntegerField(_("发放份数"), null=True, blank=True)
    areas = models.JSONField()  # [{"code": ..., "label": ...}] as asked, a snapshot of the preset's areas
    report_to = models.CharField(_("报告对象"), max_length=60, blank=True)
    status = models.CharField(max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.OPEN)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    period = models.CharField(max_length=10, blank=True, default="")  # "2026", "2026-H1", "2026-Q3", "2026-05"

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period"], condition=~models.Q(period=""), name="survey_round_once"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def area_labels(self) -> dict[str, str]:
        return {a["code"]: a["label"] for a in self.areas}


class ResponseChannel(models.TextChoices):
    ONLINE = "online", _("网上填写")
    PAPER = "paper", _("纸质问卷录入")


class Invitation(models.Model):
    """A one-use link to answer online; only the token's hash is kept."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class SurveyResponse(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responses")
    channel = models.CharField(max_length=8, choices=ResponseChannel.choices)
    paper_number = models.CharField(_("问卷编号"), max_length=30, blank=True)
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.PROTECT, related_name="response"
    )
    answers = models.JSONField()  # {area code: Answer value}; an area left blank is absent
    opinion = models.TextField(_("意见和建议"), blank=True)
    entered_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "paper_number"], condition=~models.Q(paper_number=""), name="survey_paper_once"
            ),
        ]


class ItemStatus(models.TextChoices):
    OPEN = "open", _("整改中")
    DONE = "done", _("已整改")


ITEM_STATUSES = StatusTable(ItemStatus, {ItemStatus.OPEN: {ItemStatus.DONE}})


class RectificationItem(models.Model):
    """整改意见: a problem the survey showed, owned by a department, due by a date."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    area = models.CharField(max_length=40, blank=True)
    problem = models.TextField(_("存在问题"))
    measure = models.TextField(_("整改措施"), blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("整改期限"))
    status = models.CharField(max_length=8, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    done_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_on", "id"]


class Activity(models.Model):
    """A planned engagement activity (F43) and, once held, its record."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)  # the preset's engagement code
    label = models.CharField(max_length=60)  # the kind's label when planned
    planned_on = models.DateField(_("计划日期"))
    place = models.CharField(_("地点"), max_length=120, blank=True)
    led_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("举行日期"), null=True, blank=True)
    attendance = models.PositiveIntegerField(_("参加人数"), null=True, blank=True)
    attendees = models.TextField(_("参加人员"), blank=True)
    minutes = models.TextField(_("记录"), blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["planned_on", "id"]


class ActivityOpinion(models.Model):
    """An opinion raised at an activity, registered as a case (意见转为案件)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="opinions")
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="+")
