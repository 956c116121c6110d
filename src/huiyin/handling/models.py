"""The work between registration and answer (F10, F11, F14, F20–F26).

The case's state lives on ``cases.Case`` and moves only through the state machine;
these records carry what each step produced: who a case was dispatched to and what
they answered, the investigation records, proposals and their signatures, the
rectification notice and plan, the documents issued, reviews, joint handling and
the higher authority's request for a result report. All rows belong to one case and
one handling round, so a reopened case keeps every earlier round visible.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Attachment, Case, Party
from huiyin.core.fields import EncryptedTextField
from huiyin.core.states import StatusTable
from huiyin.orgs.models import Department, Organization

from .document_texts import DocumentKind

USER = settings.AUTH_USER_MODEL


class DispatchStatus(models.TextChoices):
    PENDING = "pending", _("待签收")
    SIGNED = "signed", _("已签收")
    SENT_BACK = "sent_back", _("已退单")
    WITHDRAWN = "withdrawn", _("已改派")


# A dispatch is answered once: signed for, sent back, or withdrawn when redispatched.
DISPATCH_STATUSES = StatusTable(
    DispatchStatus,
    {DispatchStatus.PENDING: {DispatchStatus.SIGNED, DispatchStatus.SENT_BACK, DispatchStatus.WITHDRAWN}},
)


class Dispatch(models.Model):
    """One department's part in one dispatch (交办单): the lead department or an
    assisting one. Re-dispatching withdraws the open rows and adds new ones."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="dispatches")
    round = models.PositiveIntegerField()
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    is_lead = models.BooleanField(default=True)
    instructions = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    dispatched_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    dispatched_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=DispatchStatus.choices, default=DispatchStatus.PENDING)
    answered_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)  # the send-back reason

    class Meta:
        ordering = ["dispatched_at", "id"]
        indexes = [models.Index(fields=["case", "round"], name="dispatch_case_round")]


class InvestigationKind(models.TextChoices):
    INTERVIEW = "interview", _("询问笔录")
    SITE_VISIT = "site_visit", _("现场核查")
    PHONE = "phone", _("电话核实")
    DOCUMENTS = "documents", _("调阅材料")
    # The written account of the staff member complained about (hospital: 行 287
    # 「被投诉人的书面情况备案」).
    STATEMENT = "statement", _("被投诉人书面情况")


class ConfirmationKind(models.TextChoices):
    NONE = "", _("未确认")
    SCAN = "scan", _("上传签字扫描件")
    DRAWN = "drawn", _("当场手写签名")


class Investigation(models.Model):
    """An interview or site visit (调查笔录), confirmed by the interviewee's signature."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="investigations")
    round = models.PositiveIntegerField()
    kind = models.CharField(_("调查方式"), max_length=12, choices=InvestigationKind.choices)
    occurred_at = models.DateTimeField(_("调查时间"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    interviewee = EncryptedTextField(_("被调查人"), max_length=120, blank=True)  # a person's name: encrypted
    text = models.TextField(_("调查内容"))
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    confirmation = models.CharField(max_length=8, choices=ConfirmationKind.choices, blank=True, default="")
    signature = models.ForeignKey(Attachment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    attachments = models.ManyToManyField(Attachment, blank=True, related_name="investigations")

    class Meta:
        ordering = ["occurred_at", "id"]


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("诉求合理，已解决")
    PARTLY = "partly", _("部分解决")
    EXPLAINED = "explained", _("解释说明")
    NOT_SUPPORTED = "not_supported", _("诉求不予支持")
    NOT_SUBSTANTIATED = "not_substantiated", _("反映问题不属实")


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已批准")
    RETURNED = "returned", _("已退回")


PROPOSAL_STATUSES = StatusTable(
    ProposalStatus, {ProposalStatus.PENDING: {ProposalStatus.APPROVED, ProposalStatus.RETURNED}}
)


class Proposal(models.Model):
    """The handler's proposed outcome (拟办意见 / 处理原则) and its chain of signatures."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="proposals")
    round = models.PositiveIntegerField()
    outcome = models.CharField(_("处理结果"), max_length=20, choices=Outcome.choices)
    text = models.TextField(_("拟办意见"))
    responsible_unit = models.CharField(_("责任单位"), max_length=120, blank=True)
    chain = models.JSONField(default=list)  # approver roles in order, from the preset
    submitted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)

    # Not stored: set by handling.selectors.handling_panel for the case page.
    step_list: list[ApprovalStep]
    due_role: str
    chain_labels: list[str]

    class Meta:
        ordering = ["submitted_at", "id"]

    @property
    def next_level(self) -> int:
        return self.steps.filter(decision=ApprovalDecision.APPROVED).count()


class ApprovalDecision(models.TextChoices):
    APPROVED = "approved", _("同意")
    RETURNED = "returned", _("退回")


class ApprovalStep(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveIntegerField()
    role = models.CharField(max_length=20)
    decision = models.CharField(max_length=10, choices=ApprovalDecision.choices)
    comments = models.TextField(blank=True)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    # Not stored: set by handling.selectors.handling_panel for the case page.
    role_label: str

    class Meta:
        ordering = ["level", "id"]
        constraints = [models.UniqueConstraint(fields=["proposal", "level"], name="approval_step_once")]


class NoticeMethod(models.TextChoices):
    LETTER = "letter", _("书面")
    PHONE = "phone", _("电话")


class PlanVerdict(models.TextChoices):
    PENDING = "", _("待审核")
    ACCEPTED = "accepted", _("方案可行")
    REVISE = "revise", _("退回修改")


class Rectification(models.Model):
    """整改通知书 to the responsible unit and the written plan it owes (within the preset's
    limit, timed and escalated by the deadline engine)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="rectifications")
    round = models.PositiveIntegerField()
    unit = models.CharField(_("责任单位"), max_length=120)
    method = models.CharField(_("通知方式"), max_length=8, choices=NoticeMethod.choices)
    requirements = models.TextField(_("整改要求"), blank=True)
    notified_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    notified_at = models.DateTimeField()
    plan_due_at = models.DateTimeField(null=True, blank=True)
    plan_text = models.TextField(blank=True)
    plan_received_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=10, choices=PlanVerdict.choices, blank=True, default="")
    verdict_note = models.TextField(blank=True)
    checked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(null=True, blank=True)
    complainant_informed_at = models.DateTimeField(null=True, blank=True)
    complainant_informed_how = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["notified_at", "id"]


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("待审批")
    ISSUED = "issued", _("已出具")
    SENT = "sent", _("已报送")


DOCUMENT_STATUSES = StatusTable(
    DocumentStatus, {DocumentStatus.DRAFT: {DocumentStatus.ISSUED}, DocumentStatus.ISSUED: {DocumentStatus.SENT}}
)


class Document(models.Model):
    """A printed form or letter (文书), numbered with the ledger number. The body is
    rendered from the organisation's template when issued and kept as issued; the
    addressee's name is put in only when printed, for a user allowed to see it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    round = models.PositiveIntegerField()
    kind = models.CharField(max_length=24, choices=DocumentKind.choices)
    number = models.CharField(max_length=40)
    title = models.CharField(max_length=60)
    addressee = models.CharField(max_length=120, blank=True)  # a department or body; blank: the party
    to_party = models.ForeignKey(Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    status = models.CharField(max_length=8, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    approved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="document_number_unique")]


class DocumentTemplate(models.Model):
    """An organisation's own wording of a document kind; without one the default text."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="document_templates")
    kind = models.CharField(max_length=24, choices=DocumentKind.choices)
    title = models.CharField(_("标题"), max_length=60)
    body = models.TextField(_("正文模板"))
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="template_kind_unique")]


class ReviewLevel(models.IntegerChoices):
    REVIEW = 1, _("复查")
    REREVIEW = 2, _("复核")


class ReviewDecision(models.TextChoices):
    UPHELD = "upheld", _("维持")
    CHANGED = "changed", _("变更")
    REVOKED = "revoked", _("撤销，责令重新办理")


class Review(models.Model):
    """A request for review (复查) or re-review (复核) and the higher body's opinion."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reviews")
    level = models.PositiveSmallIntegerField(choices=ReviewLevel.choices)
    body = models.CharField(_("复查（复核）机关"), max_length=120)
    reason = models.TextField(_("请求事项和理由"))
    requested_at = models.DateTimeField()
    # None when the complainant asked through the portal (the request's event names the public).
    requested_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    on_behalf = models.BooleanField(default=True)  # staff registered the request for the complainant
    request_due_at = models.DateTimeField(null=True, blank=True)  # the limit it was checked against
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices, blank=True)
    opinion = models.TextField(blank=True)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["level"]
        constraints = [models.UniqueConstraint(fields=["case", "level"], name="review_level_once")]


class JointHandling(models.Model):
    """联合接访 / 协调: a coordinator convenes departments on one case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="joint_handlings")
    round = models.PositiveIntegerField()
    topic = models.CharField(_("协调事项"), max_length=200)
    coordinator = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    convened_at = models.DateTimeField()
    meeting_at = models.DateTimeField(_("会商时间"), null=True, blank=True)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    outcome = models.TextField(_("协调结果"), blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["convened_at", "id"]


class JointPart(models.Model):
    joint = models.ForeignKey(JointHandling, on_delete=models.CASCADE, related_name="parts")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("本部门意见和职责"), blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["joint", "department"], name="joint_part_once")]


class AuthorityRequest(models.Model):
    """A higher authority forwarded the case 'for investigation' (查处) and wants a result
    report by its own deadline."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="authority_request")
    authority = models.CharField(_("交办机关"), max_length=120)
    reference = models.CharField(_("交办文号"), max_length=60, blank=True)
    due_at = models.DateTimeField(_("报送时限"))
    set_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()
    report = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
