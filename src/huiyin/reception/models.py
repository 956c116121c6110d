"""Receiving visitors in person (来访接待, F61): reception rooms and their published hours,
leader reception days (领导接待日), joint reception sessions (联合接访), and the visits booked
into them.

What may be booked is computed, not stored (``schedule.py``): the published recurring hours
of each room on the days the business calendar opens (no hours on a holiday, a 调休 working
weekend day takes the room's hours for such days), each leader day and joint session. A
``Slot`` row is written the first time someone books a period, and counts the places taken
in it; the booking takes its places with one conditional update of that row, so two people
booking the last place at the same moment cannot both get it (a check constraint holds the
count within the capacity as well).

An ``Appointment`` is one visit: the visitor (name and phone encrypted), what it is about, the
representatives of a group visit (their number capped by the preset's intake rule) and the
headcount. At arrival the visitor's identity is checked (the ID number validated, kept only
masked here) and the visit opens a case or becomes a contact on the visitor's open case, so it
is handled through the normal lifecycle.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from huiyin.core.fields import EncryptedTextField
from huiyin.core.personal import PersonalFields
from huiyin.core.states import StatusTable
from huiyin.orgs.models import Department, Organization

USER = settings.AUTH_USER_MODEL


class Room(models.Model):
    """A reception room (接待室): where visitors are received, at its published hours."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("接待室"), max_length=60)
    location = models.CharField(_("地点"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("接待室")
        verbose_name_plural = _("接待室")
        ordering = ["sort_order", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="reception_room_name_once")]

    def __str__(self) -> str:
        return self.name

    @property
    def place(self) -> str:
        """The room as a visitor is told it: its name and where it is."""
        return f"{self.name}（{self.location}）" if self.location else self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("星期一")
    TUESDAY = 1, _("星期二")
    WEDNESDAY = 2, _("星期三")
    THURSDAY = 3, _("星期四")
    FRIDAY = 4, _("星期五")
    SATURDAY = 5, _("星期六")
    SUNDAY = 6, _("星期日")
    # A weekend day the calendar makes a working day (调休上班): the room's hours for such days.
    SWAPPED_WORKDAY = 7, _("调休上班日")


class OpeningHours(models.Model):
    """Published recurring reception hours (接待时间): a room, a day of the week, a time range
    cut into slots of ``slot_minutes``, each with ``capacity`` places, from ``valid_from``
    until ``valid_until`` (open-ended when blank). Changing the hours ends a row and adds a new
    one, so what was published on a day stays what it was."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices)
    starts = models.TimeField(_("开始时间"))
    ends = models.TimeField(_("结束时间"))
    slot_minutes = models.PositiveSmallIntegerField(_("每段分钟数"))
    capacity = models.PositiveSmallIntegerField(_("每段名额"))
    valid_from = models.DateField(_("起始日期"))
    valid_until = models.DateField(_("截止日期"), null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)  # optimistic lock of the edit form (core.versions)

    class Meta:
        verbose_name = _("接待时间")
        verbose_name_plural = _("接待时间")
        ordering = ["room", "weekday", "starts", "id"]
        indexes = [models.Index(fields=["organization", "weekday"], name="reception_hours_org_day")]
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=F("ends")), name="reception_hours_start_before_end"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="reception_hours_slot_at_least_5"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="reception_hours_capacity_at_least_1"),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class SessionStatus(models.TextChoices):
    PUBLISHED = "published", _("已公布")
    HELD = "held", _("已举行")
    CANCELLED = "cancelled", _("已取消")


SESSION_STATUSES = StatusTable(SessionStatus, {SessionStatus.PUBLISHED: {SessionStatus.HELD, SessionStatus.CANCELLED}})


class Session(models.Model):
    """What a leader reception day and a joint reception session share: a room, a day, a time
    range cut into slots of ``slot_minutes`` with ``capacity`` places each, a topic, the
    departments that attend, a status and the record of how it went."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("日期"))
    starts = models.TimeField(_("开始时间"))
    ends = models.TimeField(_("结束时间"))
    slot_minutes = models.PositiveSmallIntegerField(_("每段分钟数"))
    capacity = models.PositiveSmallIntegerField(_("每段名额"))
    topic = models.CharField(_("主题"), max_length=120)
    status = models.CharField(_("状态"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.PUBLISHED)
    summary = models.TextField(_("接待情况"), blank=True)  # recorded when held, or why cancelled
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    closed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True
        ordering = ["date", "starts", "id"]


class LeaderDay(Session):
    """领导接待日: a leader receives visitors on a published day, on a topic, with the
    departments concerned attending; published at least the preset's
    ``leader_day_notice_days`` before it is held."""

    leader = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("接待领导"))
    departments = models.ManyToManyField(Department, blank=True, related_name="+", verbose_name=_("参加部门"))

    class Meta(Session.Meta):
        verbose_name = _("领导接待日")
        verbose_name_plural = _("领导接待日")
        indexes = [models.Index(fields=["organization", "date"], name="reception_leaderday_org_date")]
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=F("ends")), name="reception_leaderday_start_before_end"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.topic}"


class JointSession(Session):
    """联合接访: convened for a set of cases, with the departments they touch sitting together
    ("涉及到哪几个部门就临时集中哪几个部门"), so the visitor is not sent from one to another."""

    cases = models.ManyToManyField("cases.Case", related_name="+", verbose_name=_("相关案件"))
    departments = models.ManyToManyField(Department, related_name="+", verbose_name=_("参加部门"))

    class Meta(Session.Meta):
        verbose_name = _("联合接访")
        verbose_name_plural = _("联合接访")
        indexes = [models.Index(fields=["organization", "date"], name="reception_joint_org_date")]
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=F("ends")), name="reception_joint_start_before_end"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.topic}"


class SlotKind(models.TextChoices):
    HOURS = "hours", _("接待时间")
    LEADER_DAY = "leader_day", _("领导接待日")
    JOINT = "joint", _("联合接访")


class Slot(models.Model):
    """A bookable period someone has booked into: its places and how many are taken. ``key``
    names it whatever its source (``schedule.OfferedSlot.key``): a room's published hours at
    a start time, or one period of a leader day or a joint session."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=40)
    kind = models.CharField(max_length=12, choices=SlotKind.choices)
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField()
    booked = models.PositiveSmallIntegerField(default=0)  # places taken by booked and arrived visits
    leader_day = models.ForeignKey(LeaderDay, null=True, blank=True, on_delete=models.PROTECT, related_name="slots")
    joint_session = models.ForeignKey(
        JointSession, null=True, blank=True, on_delete=models.PROTECT, related_name="slots"
    )

    class Meta:
        verbose_name = _("预约时段")
        verbose_name_plural = _("预约时段")
        ordering = ["starts_at", "room", "id"]
        indexes = [models.Index(fields=["organization", "starts_at"], name="reception_slot_org_start")]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="reception_slot_key_once"),
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="reception_slot_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.booked}/{self.capacity}"

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.booked)


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("已预约")
    CHECKED_IN = "checked_in", _("已到访")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("未到访")


APPOINTMENT_STATUSES = StatusTable(
    AppointmentStatus,
    {
        AppointmentStatus.BOOKED: {
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.NO_SHOW,
        },
        # Came after all (late, the same day): checked in like anyone else.
        AppointmentStatus.NO_SHOW: {AppointmentStatus.CHECKED_IN},
    },
)
# The places a visit holds in its slot.
HOLDING = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class BookedVia(models.TextChoices):
    PHONE = "phone", _("电话预约")
    EMAIL = "email", _("邮件预约")
    ON_SITE = "on_site", _("现场预约")
    PORTAL = "portal", _("网上预约")


class Appointment(PersonalFields, models.Model):
    """One booked visit. ``places`` = the visitor and the other representatives of a group
    visit (what the slot's capacity counts); ``headcount`` = everyone who comes (来访人数)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    code = models.CharField(_("预约号"), max_length=12)
    status = models.CharField(
        _("状态"), max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    booked_via = models.CharField(_("预约方式"), max_length=10, choices=BookedVia.choices)
    booked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField(_("预约时间"))
    name = EncryptedTextField(_("来访人"), max_length=60)
    phone = EncryptedTextField(_("联系电话"), max_length=30, blank=True)
    email = EncryptedTextField(_("电子邮箱"), max_length=254, blank=True)
    purpose = models.TextField(_("来访事由"))
    representatives = EncryptedTextField(_("其他代表"), blank=True)  # one name a line
    places = models.PositiveSmallIntegerField(default=1)
    headcount = models.PositiveSmallIntegerField(_("来访人数"), default=1)
    # The case the visit is about: given when booked for a joint session's case, set at check-in.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey("cases.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_in_at = models.DateTimeField(_("到访时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    id_number_masked = models.CharField(_("身份证号码"), max_length=18, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    no_show_at = models.DateTimeField(null=True, blank=True)
    # The portal form's one-time token: a replayed submission books nothing twice.
    token = models.CharField(max_length=80, null=True, blank=True, unique=True)
    # The front office's expected visitor this visit announced (where the organisation runs
    # a front office: the preset's ``front_office`` section).
    visitor = models.ForeignKey(
        "frontoffice.Visitor", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The keyed hash of the code sent at booking, with which the visitor cancels or moves the
    # visit on the portal (``public.manage``); blank for visits booked before there was one.
    manage_code_hash = models.CharField(max_length=64, blank=True, default="")
    # Set when the retention rule erased the visitor's personal fields (huiyin retention apply).
    erased_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("来访预约")
        verbose_name_plural = _("来访预约")
        ordering = ["slot__starts_at", "id"]
        indexes = [models.Index(fields=["organization", "status"], name="reception_appt_org_status")]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="reception_appt_code_once")]

    # The code to change the booking online, in clear only while it is being booked (the
    # confirmation carries it); the row keeps ``manage_code_hash``.
    manage_code: str = ""

    def __str__(self) -> str:
        return self.code

    @property
    def representative_names(self) -> list[str]:
        return [line.strip() for line in (self.representatives or "").splitlines() if line.strip()]


class LogKind(models.TextChoices):
    BOOKED = "booked", _("预约")
    MOVED = "moved", _("改期")
    CANCELLED = "cancelled", _("取消")
    REMINDED = "reminded", _("发送提醒")
    NO_SHOW = "no_show", _("未到访")
    CHECKED_IN = "checked_in", _("到访登记")


class AppointmentLog(models.Model):
    """What happened to a visit, in order: who (staff, or the public / the sweeper: none), when, what."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="log")
    kind = models.CharField(max_length=12, choices=LogKind.choices)
    at = models.DateTimeField()
    staff = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
