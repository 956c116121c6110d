"""The company front office's intake rules, each quoting the seed line it enforces
(seeds/000_e82992a73faf22c8.txt: 公司接待日常管理制度 lines 84–112, 公司办公室接待管理制度
lines 138–156, 接待管理工作制度 lines 157–178)."""

from __future__ import annotations

import pytest

from huiyin.cases.services import PartyInput, case_register
from huiyin.core.errors import ApplicationError, ValidationFailed
from huiyin.deadlines.models import Clock
from huiyin.handling.models import Proposal
from huiyin.orgs.roles import Role
from tests.conftest import intake, make_staff
from tests.policy.conftest import activate, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def front_office(org):
    return activate(org, "company_front_office")


def test_a_visitor_is_registered_with_who_from_where_and_why(front_office, clerk):
    """seeds/000_e82992a73faf22c8.txt lines 94–95: 「1. 接待申请:各部门需提前向行政部门提出接待申请,并明确接待
    对象、时间、目的及预」「期成果。」; line 143: 「1. 预约确认:所有访客应提前与公司相关部门或人员预约,并由接待
    人员确认访问时间、目的等信息。」; line 144: 「2. 迎接引导:访客到达时,接待人员应主动迎接,并进行必要的安全检查和
    登记手续。」 — the visitor's name, organisation and purpose (the time is the registration's)."""
    with pytest.raises(ValidationFailed) as refused:
        case_register(actor=clerk, data=intake(channel="visit", party=PartyInput(name="", phone="13800000000")))
    errors = refused.value.field_errors()
    assert errors["party_name"] == ["来访登记须填写来访人姓名（不能匿名）。"]
    assert errors["party_affiliation"] == ["来访登记须填写单位（工作单位）。"]
    assert "party_gender" not in errors and "party_age" not in errors  # not asked of a company's visitor
    case, _code = case_register(
        actor=clerk,
        data=intake(channel="visit", party=PartyInput(name="陈总", affiliation="示范供应链有限公司")),
    )
    assert case.party.affiliation == "示范供应链有限公司"


def test_the_receipt_promises_an_answer_within_the_default_limit(front_office, drive):
    """seeds/000_e82992a73faf22c8.txt lines 88–89: 「接待工」「作应遵循公正、高效、节约的原则」 — the seeds set no
    figure; the preset's default (5 working days, its source saying so) makes the receipt
    promise a time."""
    case = drive.register(at(2026, 3, 2, 10), channel="visit", party=PartyInput(name="陈总", affiliation="示范公司"))
    clock = Clock.objects.get(case=case, stage="reply")
    assert clock.due_at.date().isoformat() == "2026-03-09" and "Huiyin 默认值" in clock.rule["source"]
    case.refresh_from_db()
    assert case.promised_due_at == clock.due_at


def test_the_department_head_reviews_then_a_leader_approves(front_office, drive, departments, handler, head, org):
    """seeds/000_e82992a73faf22c8.txt line 96: 「2. 审批流程:行政部门收到申请后,应及时审核并报相关领导批准。」 —
    who decides, in order: the department head first, then a leader; no answer before both."""
    leader = make_staff(org, "boss", [Role.LEADER])
    case = drive.register(at(2026, 3, 2, 10), channel="phone")
    drive.do(at(2026, 3, 2, 10, 5), "dispatch", case, department_id=departments["city"].pk, handler_id=handler.pk)
    drive.do(
        at(2026, 3, 2, 11),
        "submit_for_approval",
        case,
        actor=handler,
        proposal="安排会议室与陪同人员。",
        outcome="resolved",
    )
    with pytest.raises(ApplicationError):
        drive.do(at(2026, 3, 2, 11, 5), "approve", case, actor=leader)  # the leader is not next
    with pytest.raises(ApplicationError):
        drive.do(at(2026, 3, 2, 11, 5), "reply", case, actor=handler, reply="已安排。")
    drive.do(at(2026, 3, 2, 11, 10), "approve", case, actor=head)
    assert case.state == "pending_approval"
    drive.do(at(2026, 3, 2, 11, 20), "approve", case, actor=leader)
    assert case.state == "approved"
    assert Proposal.objects.get(case=case).chain == ["dept_head", "leader"]


def test_a_visit_ends_with_the_visitors_feedback(front_office, drive, departments, handler, head, org):
    """seeds/000_e82992a73faf22c8.txt line 147: 「5. 访问结束:访问结束时,接待人员应及时提供反馈表或调查问卷,
    收集访客意见和建议,以便不断改进接待工作。」 — closing needs the feedback (callback) result."""
    leader = make_staff(org, "boss", [Role.LEADER])
    case = drive.register(at(2026, 3, 2, 10), channel="phone")
    drive.do(at(2026, 3, 2, 10, 5), "dispatch", case, department_id=departments["city"].pk, handler_id=handler.pk)
    drive.do(at(2026, 3, 2, 11), "submit_for_approval", case, actor=handler, proposal="安排接待。", outcome="resolved")
    drive.do(at(2026, 3, 2, 11, 10), "approve", case, actor=head)
    drive.do(at(2026, 3, 2, 11, 20), "approve", case, actor=leader)
    drive.do(at(2026, 3, 2, 12), "reply", case, actor=handler, reply="接待已完成。")
    with pytest.raises(ValidationFailed) as refused:
        drive.do(at(2026, 3, 2, 13), "close", case, actor=leader)
    assert "satisfaction" in refused.value.field_errors()
    drive.do(at(2026, 3, 2, 13), "close", case, actor=leader, satisfaction="satisfied")
    assert case.state == "closed"
