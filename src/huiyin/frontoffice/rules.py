"""What the front office and guest reception run by: the running preset's ``front_office``
and ``guest_reception`` sections (``policy.presets``) and the organisation's setup (which
department is the administrative office, which is finance)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from huiyin.core.versions import fingerprint
from huiyin.policy.presets import FrontOffice, GuestReception
from huiyin.policy.services import current_policy

from .models import FrontOfficeSetup
from .permissions import Setup

# The feedback form's questions where the preset lists none (访问结束时提供反馈表或调查问卷):
# the seeds' reception standards (热情、礼貌、高效、专业; 陪同; 茶水、资料; 环境).
DEFAULT_QUESTIONS = (
    _("接待人员是否热情、礼貌"),
    _("登记手续是否高效"),
    _("陪同访问的安排是否周到"),
    _("接待区域是否整洁、舒适"),
)
QUESTIONS_MAX = 20  # a form longer than this is no feedback form


def front_office_rules(organization_id: int) -> FrontOffice:
    """The running preset's visitor-log rules; Huiyin's defaults (identity checked, the
    fixed questions) without a preset or a ``front_office`` section."""
    policy = current_policy(organization_id)
    rules = policy.preset().front_office if policy is not None else None
    return rules if rules is not None else FrontOffice()


def feedback_questions(organization_id: int) -> list[str]:
    rules = front_office_rules(organization_id)
    questions = list(rules.feedback_questions) or [str(q) for q in DEFAULT_QUESTIONS]
    return questions[:QUESTIONS_MAX]


# Where the running preset has no ``guest_reception`` section (an organisation whose seeds
# say nothing of receiving guests): the hosting department's head reviews, a leader approves
# (seeds/000 行 96 in general terms), a leader approves more budget, receipts are required.
DEFAULT_GUEST_RECEPTION = GuestReception(
    chain=("dept_head", "leader"),
    overrun_approver="leader",
    receipt_required=True,
    source="Huiyin 默认值：本单位政策未规定公司接待的审批流程",
)


def guest_rules(organization_id: int) -> GuestReception:
    """The running preset's guest-reception rules, or Huiyin's default without a section."""
    policy = current_policy(organization_id)
    rules = policy.preset().guest_reception if policy is not None else None
    return rules if rules is not None else DEFAULT_GUEST_RECEPTION


def guest_rules_from_preset(organization_id: int) -> bool:
    policy = current_policy(organization_id)
    return policy is not None and policy.preset().guest_reception is not None


def setup_of(organization_id: int) -> Setup:
    row = FrontOfficeSetup.objects.filter(organization_id=organization_id).first()
    if row is None:
        return Setup()
    return Setup(office_department_id=row.office_department_id, finance_department_id=row.finance_department_id)


def setup_fingerprint(setup: Setup) -> str:
    """The version of the setup a page shows (``core.versions.fingerprint``): the row is made
    on the first save, so there is no version column to carry."""
    return fingerprint(setup.office_department_id, setup.finance_department_id)
