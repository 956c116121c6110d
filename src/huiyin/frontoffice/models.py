"""The front office (前台) and company guest reception (公司接待).

* **Visitor log (F70)**: a ``Visitor`` is one person expected on a day (announced by the
  staff member they visit, the host) or walking in; the front desk checks their identity
  document, gives a badge, names an escort and notes what security needs to know, checks
  them out, and enters the feedback form they fill in at the end (``VisitorFeedback``).
  Name, phone and document number are encrypted at rest like a complainant's
  (``core.fields.EncryptedTextField``; keyed hashes for exact look-ups, ``huiyin
  reencrypt`` rewrites them) and masked on every page; a full view is logged.
* **Guest reception (F71)**: a ``GuestReception`` request (purpose, guests and their
  organisations, dates, hosting department, expected outcome, requested budget by item)
  goes through the approval chain of the preset (``Approval`` per step, in order); then
  the arrangements checklist, expenses with their receipts against the approved budget,
  increases approved before the money is spent (``Overrun``), the closing summary and
  feedback, and reimbursement by the finance department.
* ``FrontOfficeSetup``: which department is the administrative office (行政部门, it
  reviews requests where the chain says ``office_head``) and which is finance (财务部门,
  it reimburses), chosen by the organisation's administrator.
* ``Record``: the append-only trail of every step with who and when (approvals,
  reimbursements, check-ins, full views of personal data).

Records that two people may change at once carry a ``version``: a form posts the version
it was made for, and a service refuses a stale one (``services``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiyin.core import crypto
from huiyin.core.fields import EncryptedTextField
from huiyin.core.files import storage_name
from huiyin.core.personal import PersonalFields
from huiyin.core.states import StatusTable
from huiyin.core.validators import normalize_id_number
from huiyin.orgs.models import Department, Organization, Staff


class Rating(models.TextChoices):
    """A feedback form's answer (the callback's scale: 满意 / 基本满意 / 不满意)."""

    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


# The answers counted as satisfied in a satisfaction rate (满意 + 基本满意).
SATISFIED = (Rating.SATISFIED, Rating.BASICALLY)


class FrontOfficeSetup(models.Model):
    """The organisation's administrative office and finance department (one row each)."""

    organization = models.OneToOneField(Organization, primary_key=True, on_delete=models.CASCADE, related_name="+")
    office_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("行政部门")
    )
    finance_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("财务部门")
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("接待设置")
        verbose_name_plural = _("接待设置")


# --- the visitor log --------------------------------------------------------------------------------


class VisitStatus(models.TextChoices):
    EXPECTED = "expected", _("待到访")
    IN = "checked_in", _("在访")
    OUT = "checked_out", _("已离开")
    CANCELLED = "cancelled", _("已取消")


VISIT_STATES = StatusTable(
    VisitStatus,
    {
        VisitStatus.EXPECTED: {VisitStatus.IN, VisitStatus.CANCELLED},
        VisitStatus.IN: {VisitStatus.OUT},
    },
)


class VisitOrigin(models.TextChoices):
    ANNOUNCED = "announced", _("预约来访")  # a host told the front desk in advance
    WALK_IN = "walk_in", _("临时来访")  # registered at the desk on arrival
    APPOINTMENT = "appointment", _("预约系统")  # booked through another app (reception appointments)


class IdType(models.TextChoices):
    RESIDENT = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    OTHER = "other", _("其他证件")


class VisitorQuerySet(models.QuerySet):
    def with_id_number(self, id_number: str) -> VisitorQuerySet:
        value = normalize_id_number(id_number)
        return self.filter(id_number_hash__in=crypto.lookup_hashes(value)) if value else self.none()


class Visitor(PersonalFields, models.Model):
    """One visitor on one day: expected, checked in, checked out (or cancelled)."""

    # The encrypted fields with a keyed hash for exact look-ups; save() refreshes the hashes.
    HASHED = {"phone": "phone_hash", "id_number": "id_number_hash"}

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    expected_on = models.DateField(_("来访日期"))
    expected_time = models.TimeField(_("预计到达"), null=True, blank=True)
    name = EncryptedTextField(_("姓名"), max_length=60)
    phone = EncryptedTextField(_("联系电话"), max_length=30, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    affiliation = models.CharField(_("单位"), max_length=120, blank=True)
    purpose = models.CharField(_("来访事由"), max_length=200)
    origin = models.CharField(_("来源"), max_length=20, choices=VisitOrigin.choices, default=VisitOrigin.ANNOUNCED)
    host = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("被访人"))
    host_department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    announced_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    announced_at = models.DateTimeField()
    status = models.CharField(_("状态"), max_length=20, choices=VisitStatus.choices, default=VisitStatus.EXPECTED)
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices, blank=True)
    id_number = EncryptedTextField(_("证件号码"), max_length=40, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    checked_in_at = models.DateTimeField(_("到达时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    badge = models.CharField(_("访客证号"), max_length=20, blank=True)
    escort = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("陪同人员")
    )
    security_notes = models.TextField(_("安全检查记录"), blank=True)
    checked_out_at = models.DateTimeField(_("离开时间"), null=True, blank=True)
    checked_out_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Set when the retention rule erased the personal fields (huiyin retention apply).
    erased_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = VisitorQuerySet.as_manager()

    class Meta:
        verbose_name = _("访客登记")
        verbose_name_plural = _("访客登记")
        ordering = ["expected_on", "expected_time", "pk"]
        indexes = [
            models.Index(fields=["organization", "expected_on"], name="fo_visitor_org_day"),
            models.Index(fields=["organization", "id_number_hash"], name="fo_visitor_org_id_hash"),
        ]
        constraints = [
            # A badge is handed to one visitor at a time: unique among those checked in.
            models.UniqueConstraint(
                fields=["organization", "badge"],
                condition=Q(status="checked_in") & ~Q(badge=""),
                name="fo_badge_unique_while_in",
            ),
        ]

    def __str__(self) -> str:
        return self.masked_name


class VisitorFeedback(models.Model):
    """The feedback form a visitor filled in at the end (访问结束时提供反馈表): an overall
    answer (what the satisfaction figures count), one answer per question of the form as
    it was then, and a comment."""

    visitor = models.OneToOneField(Visitor, on_delete=models.CASCADE, related_name="feedback")
    overall = models.CharField(_("总体评价"), max_length=20, choices=Rating.choices)
    answers = models.JSONField(default=list, blank=True)  # [{"question": text, "rating": code}]
    comment = models.TextField(_("意见和建议"), blank=True)
    entered_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()

    class Meta:
        verbose_name = _("访客反馈表")
        verbose_name_plural = _("访客反馈表")
        indexes = [models.Index(fields=["entered_at"], name="fo_feedback_at")]


# --- guest reception -------------------------------------------------------------------------------


class ReceptionStatus(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("未批准")
    CANCELLED = "cancelled", _("已取消")
    CLOSED = "closed", _("已总结")


RECEPTION_STATES = StatusTable(
    ReceptionStatus,
    {
        ReceptionStatus.PENDING: {ReceptionStatus.APPROVED, ReceptionStatus.REFUSED, ReceptionStatus.CANCELLED},
        ReceptionStatus.APPROVED: {ReceptionStatus.CLOSED, ReceptionStatus.CANCELLED},
    },
)


class Reimbursement(models.TextChoices):
    NOT_SUBMITTED = "not_submitted", _("未提交报销")
    SUBMITTED = "submitted", _("报销审核中")
    RETURNED = "returned", _("退回补正")
    REIMBURSED = "reimbursed", _("已报销")


REIMBURSEMENT_STATES = StatusTable(
    Reimbursement,
    {
        Reimbursement.NOT_SUBMITTED: {Reimbursement.SUBMITTED},
        Reimbursement.SUBMITTED: {Reimbursement.REIMBURSED, Reimbursement.RETURNED},
        Reimbursement.RETURNED: {Reimbursement.SUBMITTED},
    },
    field="reimbursement",
)


class BudgetItem(models.TextChoices):
    """What reception money is spent on (接待费用包括交通费、住宿费、餐饮费、礼品费等; the room)."""

    ROOM = "room", _("场地")
    TRANSPORT = "transport", _("交通")
    MEALS = "meals", _("餐饮")
    ACCOMMODATION = "accommodation", _("住宿")
    GIFTS = "gifts", _("礼品")


class Approver(models.TextChoices):
    """A step of the approval chain (the preset's ``guest_reception.chain``)."""

    DEPT_HEAD = "dept_head", _("接待部门负责人")
    OFFICE_HEAD = "office_head", _("行政部门负责人")
    LEADER = "leader", _("公司领导")


def approver_label(code: str) -> str:
    return str(Approver(code).label) if code in Approver.values else code


class GuestReception(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(_("接待事由"), max_length=200)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    hosting_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("接待部门")
    )
    expected_outcome = models.TextField(_("预期成果"))
    requested_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ReceptionStatus.choices, default=ReceptionStatus.PENDING
    )
    # The rules it was requested under (the preset's guest_reception section then).
    chain = models.JSONField(default=list)  # approver codes, in order
    signed_steps = models.PositiveSmallIntegerField(default=0)  # the chain's steps signed so far
    overrun_approver = models.CharField(max_length=20, choices=Approver.choices, default=Approver.LEADER)
    receipt_required = models.BooleanField(default=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(_("接待总结"), blank=True)
    feedback = models.CharField(_("来宾反馈"), max_length=20, choices=Rating.choices, blank=True)
    feedback_comment = models.TextField(_("反馈意见"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reimbursement = models.CharField(
        _("报销状态"), max_length=20, choices=Reimbursement.choices, default=Reimbursement.NOT_SUBMITTED
    )
    reimbursement_note = models.TextField(_("报销说明"), blank=True)
    reimbursed_at = models.DateTimeField(null=True, blank=True)
    reimbursed_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("公司接待")
        verbose_name_plural = _("公司接待")
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["organization", "starts_on"], name="fo_reception_org_start")]

    def __str__(self) -> str:
        return self.purpose

    @property
    def due_approver(self) -> str:
        """The approver code whose signature is due ("" when none is: decided, or every step signed)."""
        if self.status != ReceptionStatus.PENDING or self.signed_steps >= len(self.chain):
            return ""
        return str(self.chain[self.signed_steps])


class Guest(models.Model):
    """One guest of a reception: name (personal data: encrypted), organisation, title."""

    reception = models.ForeignKey(GuestReception, on_delete=models.CASCADE, related_name="guests")
    name = EncryptedTextField(_("来宾姓名"), max_length=60)
    organization_name = models.CharField(_("来宾单位"), max_length=120)
    title = models.CharField(_("职务"), max_length=60, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    erased_at = models.DateTimeField(null=True, blank=True)  # the retention rule erased the name

    class Meta:
        verbose_name = _("来宾")
        verbose_name_plural = _("来宾")
        ordering = ["position", "pk"]


class BudgetLine(models.Model):
    """A budget item: what was asked for and what the approval granted."""

    reception = models.ForeignKey(GuestReception, on_delete=models.CASCADE, related_name="budget")
    item = models.CharField(_("费用项目"), max_length=20, choices=BudgetItem.choices)
    requested = models.DecimalField(_("申请预算"), max_digits=12, decimal_places=2)
    approved = models.DecimalField(_("批准预算"), null=True, blank=True, max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("接待预算")
        verbose_name_plural = _("接待预算")
        constraints = [models.UniqueConstraint(fields=["reception", "item"], name="fo_budget_item_unique")]


class Decision(models.TextChoices):
    APPROVED = "approved", _("同意")
    REFUSED = "refused", _("不同意")


class Approval(models.Model):
    """One signature of the chain (or the refusal that ended it)."""

    reception = models.ForeignKey(GuestReception, on_delete=models.CASCADE, related_name="approvals")
    step = models.PositiveSmallIntegerField()
    approver = models.CharField(max_length=20, choices=Approver.choices)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    actor = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    opinion = models.TextField(blank=True)

    class Meta:
        verbose_name = _("接待审批")
        verbose_name_plural = _("接待审批")
        ordering = ["step"]
        constraints = [models.UniqueConstraint(fields=["reception", "step"], name="fo_approval_step_unique")]


class OverrunStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("未批准")


OVERRUN_STATES = StatusTable(OverrunStatus, {OverrunStatus.PENDING: {OverrunStatus.APPROVED, OverrunStatus.REFUSED}})


class Overrun(models.Model):
    """超预算报批: more money for one item, asked for and decided before it is spent."""

    reception = models.ForeignKey(GuestReception, on_delete=models.CASCADE, related_name="overruns")
    item = models.CharField(_("费用项目"), max_length=20, choices=BudgetItem.choices)
    amount = models.DecimalField(_("追加金额"), max_digits=12, decimal_places=2)
    reason = models.TextField(_("理由"))
    requested_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=OverrunStatus.choices, default=OverrunStatus.PENDING)
    decided_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    opinion = models.TextField(blank=True)

    class Meta:
        verbose_name = _("超预算报批")
        verbose_name_plural = _("超预算报批")
        ordering = ["requested_at", "pk"]


class Arrangement(models.Model):
    """One line of the arrangements checklist (接待安排: 场所、交通工具、餐饮服务…)."""

    reception = models.ForeignKey(GuestReception, on_delete=models.CASCADE, related_name="arrangements")
    label = models.CharField(_("安排事项"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    done = models.BooleanField(default=False)
    done_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("接待安排")
        verbose_name_plural = _("接待安排")
        ordering = ["position", "pk"]


def receipt_path(instance: Expense, filename: str) -> str:
    reception = instance.reception
    return f"receipts/{reception.organization_id}/{reception.pk}/{storage_name(filename)}"


class Expense(models.Model):
    """An amount spent on one budget item, with its receipt (票据)."""

    reception = models.ForeignKey(GuestReception, on_delete=models.CASCADE, related_name="expenses")
    item = models.CharField(_("费用项目"), max_length=20, choices=BudgetItem.choices)
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    spent_on = models.DateField(_("支出日期"))
    description = models.CharField(_("费用说明"), max_length=200)
    receipt = models.FileField(upload_to=receipt_path, max_length=255, blank=True)
    receipt_name = models.CharField(max_length=255, blank=True)
    receipt_size = models.PositiveBigIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    # Set when the retention rule deleted the receipt's file (the row keeps amount, item, size).
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接待费用")
        verbose_name_plural = _("接待费用")
        ordering = ["spent_on", "pk"]


# --- the trail ---------------------------------------------------------------------------------------


class RecordAction(models.TextChoices):
    SETUP_CHANGED = "setup_changed", _("修改接待设置")
    VISITOR_EXPECTED = "visitor_expected", _("登记预约访客")
    VISITOR_CHECKED_IN = "visitor_checked_in", _("访客到达登记")
    VISITOR_CHECKED_OUT = "visitor_checked_out", _("访客离开")
    VISITOR_CANCELLED = "visitor_cancelled", _("取消来访")
    VISITOR_FEEDBACK = "visitor_feedback", _("录入访客反馈表")
    VISITOR_VIEWED = "visitor_viewed", _("查看访客完整个人信息")
    REQUESTED = "requested", _("提交接待申请")
    APPROVED = "approved", _("审批同意")
    REFUSED = "refused", _("审批不同意")
    CANCELLED = "cancelled", _("取消接待")
    ARRANGEMENT_ADDED = "arrangement_added", _("增加接待安排")
    ARRANGEMENT_DONE = "arrangement_done", _("完成接待安排")
    EXPENSE_RECORDED = "expense_recorded", _("登记费用")
    OVERRUN_REQUESTED = "overrun_requested", _("提交超预算报批")
    OVERRUN_APPROVED = "overrun_approved", _("批准超预算")
    OVERRUN_REFUSED = "overrun_refused", _("不批准超预算")
    CLOSED = "closed", _("接待总结")
    REIMBURSEMENT_SUBMITTED = "reimbursement_submitted", _("提交报销")
    REIMBURSED = "reimbursed", _("报销完成")
    REIMBURSEMENT_RETURNED = "reimbursement_returned", _("报销退回")


class Record(models.Model):
    """One step by one person, append-only (``save`` refuses an update, ``delete`` refuses):
    who, when, what, on which visitor or reception, and the details (amounts, steps; never
    a name, number or document of a visitor)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=40, choices=RecordAction.choices)
    visitor = models.ForeignKey(Visitor, null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    reception = models.ForeignKey(
        GuestReception, null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("前台与接待记录")
        verbose_name_plural = _("前台与接待记录")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["organization", "at"], name="fo_record_org_at")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("front-office records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("front-office records are append-only")
