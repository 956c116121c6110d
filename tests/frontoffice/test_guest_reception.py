"""Company guest reception (F71): the request, the approval chain of the preset in order, the
arrangements, expenses with receipts against the approved budget, more budget approved
before it is spent, the summary, and reimbursement by finance — each step recorded with
who and when; bad money, dates and files refused naming the field, nothing half-saved."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine

from huiyin.core.errors import ApplicationError, InvalidStatus, PermissionDeniedError, StaleObject, ValidationFailed
from huiyin.frontoffice import selectors, services
from huiyin.frontoffice.models import (
    Approval,
    Arrangement,
    BudgetLine,
    Expense,
    Guest,
    GuestReception,
    Overrun,
    Record,
    RecordAction,
    Reimbursement,
)
from huiyin.frontoffice.money import MONEY_MAX, money_error
from huiyin.policy.presets import PresetError, load_preset_text
from huiyin.policy.services import presets_dir
from tests.frontoffice.conftest import receipt_pdf, receipt_png
from tests.policy.conftest import SH, activate

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 6, 8, 9, 0, tzinfo=SH)
GUESTS = "张明，示范市住房和城乡建设局，副局长\n李华，示范市住房和城乡建设局，科长"
BUDGET = {"room": "500", "transport": "800", "meals": "1200.50", "accommodation": "0", "gifts": "300"}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=SH)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def request(people, **more) -> GuestReception:
    data = {
        "purpose": "市住建局调研物业服务",
        "guests": GUESTS,
        "starts_on": date(2026, 6, 10),
        "ends_on": date(2026, 6, 11),
        "expected_outcome": "介绍服务标准化经验，争取试点",
        "budget": BUDGET,
    }
    data.update(more)
    return services.reception_request(actor=people["requester"], **data)


def approved(people) -> GuestReception:
    reception = request(people)
    services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")
    return services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")


def test_the_request_keeps_the_presets_chain_and_the_budget_by_item(people, depts):
    reception = request(people)
    assert reception.hosting_department == depts["sales"] and reception.status == "pending"
    assert reception.chain == ["office_head", "leader"] and reception.overrun_approver == "leader"
    assert reception.receipt_required is True
    assert [(g.name, g.organization_name, g.title) for g in Guest.objects.filter(reception=reception)] == [
        ("张明", "示范市住房和城乡建设局", "副局长"),
        ("李华", "示范市住房和城乡建设局", "科长"),
    ]
    budget = dict(BudgetLine.objects.filter(reception=reception).values_list("item", "requested"))
    assert budget == {
        "room": Decimal("500.00"),
        "transport": Decimal("800.00"),
        "meals": Decimal("1200.50"),
        "accommodation": Decimal("0.00"),
        "gifts": Decimal("300.00"),
    }
    record = Record.objects.get(reception=reception)
    assert record.action == RecordAction.REQUESTED and record.actor == people["requester"] and record.at == at(8, 9)


def test_the_approval_chain_runs_in_order_and_refuses_the_wrong_approver(people):
    reception = request(people)
    # The leader signs second: not before the administrative office's head.
    with pytest.raises(PermissionDeniedError, match="现在应由行政部门负责人审批（第 1 步，共 2 步）"):
        services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")
    # Another department's head, the hosting department's head, the office's clerk: not the office's head.
    for wrong in ("tech_head", "sales_head", "office_clerk", "finance", "desk"):
        with pytest.raises(PermissionDeniedError):
            services.reception_decide(actor=people[wrong], reception_id=reception.pk, decision="approved")
    assert not Approval.objects.exists()

    reception = services.reception_decide(
        actor=people["office_head"],
        reception_id=reception.pk,
        decision="approved",
        opinion="同意，注意节约",
        expected_version=reception.version,
    )
    assert reception.status == "pending" and reception.signed_steps == 1 and reception.due_approver == "leader"
    with pytest.raises(PermissionDeniedError):  # the office's head has signed; the leader's step is due
        services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")
    with pytest.raises(StaleObject):  # a leader with a form made before the first signature
        services.reception_decide(
            actor=people["leader"], reception_id=reception.pk, decision="approved", expected_version=1
        )
    reception = services.reception_decide(
        actor=people["leader"], reception_id=reception.pk, decision="approved", expected_version=reception.version
    )
    assert reception.status == "approved" and reception.approved_at == at(8, 9)
    assert [(a.step, a.approver, a.actor.username) for a in Approval.objects.filter(reception=reception)] == [
        (1, "office_head", "office_head"),
        (2, "leader", "boss"),
    ]
    # The budget approved as requested; the checklist from the items asked for.
    assert BudgetLine.objects.get(reception=reception, item="meals").approved == Decimal("1200.50")
    labels = list(Arrangement.objects.filter(reception=reception).values_list("label", flat=True))
    assert "预订住宿" not in labels and labels[0] == "落实接待场所（会议室、接待室）" and len(labels) == 5
    with pytest.raises(InvalidStatus):  # decided: no further step
        services.reception_decide(actor=people["leader2"], reception_id=reception.pk, decision="approved")
    steps = list(Record.objects.filter(reception=reception, action=RecordAction.APPROVED).values_list("data", "actor"))
    assert [(d["step"], actor) for d, actor in steps] == [(1, people["office_head"].pk), (2, people["leader"].pk)]


def test_the_requester_never_approves_and_a_refusal_needs_its_reason(people, depts):
    head_request = services.reception_request(
        actor=people["office_head"],
        purpose="供应商来访",
        guests="王五，示范电器公司，经理",
        starts_on=date(2026, 6, 9),
        ends_on=date(2026, 6, 9),
        expected_outcome="签订年度协议",
        budget={"meals": "300"},
    )
    with pytest.raises(PermissionDeniedError, match="申请人不能审批自己的接待申请"):
        services.reception_decide(actor=people["office_head"], reception_id=head_request.pk, decision="approved")
    reception = request(people)
    with pytest.raises(ValidationFailed) as refused:
        services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="refused")
    assert "opinion" in refused.value.errors
    reception = services.reception_decide(
        actor=people["office_head"], reception_id=reception.pk, decision="refused", opinion="与上周调研重复"
    )
    assert reception.status == "refused"
    with pytest.raises(InvalidStatus):
        services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")


def test_a_chain_of_the_hosting_departments_head_then_a_leader(people, company):
    text = (presets_dir() / "company_front_office.yaml").read_text(encoding="utf-8")
    text = text.replace("chain: [office_head, leader]", "chain: [dept_head, leader]")
    from huiyin.policy.services import policy_activate  # an edited preset, as an administrator loads one

    policy_activate(organization=company, preset=load_preset_text(text, "edited.yaml"), actor=None)
    reception = request(people)
    with pytest.raises(PermissionDeniedError):
        services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")
    services.reception_decide(actor=people["sales_head"], reception_id=reception.pk, decision="approved")
    reception = services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")
    assert reception.status == "approved"


def test_without_the_presets_rules_the_default_chain_and_no_request_without_the_office(people, company):
    activate(company, "hospital")  # no guest_reception section: the hosting department's head, then a leader
    reception = request(people)
    assert reception.chain == ["dept_head", "leader"] and reception.overrun_approver == "leader"
    services.reception_decide(actor=people["sales_head"], reception_id=reception.pk, decision="approved")
    activate(company, "company_front_office")
    services.setup_save(actor=people["admin"], office_department_id=None, finance_department_id=None)
    with pytest.raises(ApplicationError, match="尚未指定行政部门"):
        request(people, purpose="另一次")
    assert list(GuestReception.objects.values_list("purpose", flat=True)) == ["市住建局调研物业服务"]
    # The request made under the default keeps its chain: the leader signs the second step.
    services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")
    assert GuestReception.objects.get(pk=reception.pk).status == "approved"


def test_an_empty_chain_is_refused_when_the_preset_is_loaded():
    text = (presets_dir() / "company_front_office.yaml").read_text(encoding="utf-8")
    with pytest.raises(PresetError, match="guest_reception.chain: the approval chain is empty"):
        load_preset_text(text.replace("chain: [office_head, leader]", "chain: []"), "x.yaml")
    with pytest.raises(PresetError, match='unknown approver "finance"'):
        load_preset_text(text.replace("chain: [office_head, leader]", "chain: [finance]"), "x.yaml")


@pytest.mark.parametrize(
    ("more", "field", "message"),
    [
        ({"budget": {**BUDGET, "meals": "-5"}}, "budget_meals", "不能为负数"),
        ({"budget": {**BUDGET, "meals": "12.345"}}, "budget_meals", "最多保留两位小数"),
        ({"budget": {**BUDGET, "gifts": "99999999"}}, "budget_gifts", "过大"),
        ({"budget": {**BUDGET, "gifts": "1000000.01"}}, "budget_gifts", "过大"),
        ({"budget": {**BUDGET, "room": "NaN"}}, "budget_room", "应为金额"),
        ({"budget": {**BUDGET, "room": "1e5"}}, "budget_room", "应为金额"),
        ({"budget": {**BUDGET, "room": "１２"}}, "budget_room", "应为金额"),
        ({"ends_on": date(2026, 6, 9)}, "ends_on", "结束日期不能早于开始日期"),
        ({"starts_on": date(1900, 1, 1)}, "starts_on", "不能早于 2000-01-01"),
        ({"ends_on": date(2040, 1, 1)}, "ends_on", "不能晚于"),
        ({"ends_on": date(2026, 8, 10)}, "ends_on", "最长 30 天"),
        ({"guests": "张明"}, "guests", "缺少来宾姓名或单位"),
        ({"guests": ""}, "guests", "请填写来宾"),
        ({"purpose": ""}, "purpose", "请填写接待事由"),
    ],
)
def test_bad_requests_are_refused_naming_the_field_and_nothing_is_saved(people, more, field, message):
    with pytest.raises(ValidationFailed) as refused:
        request(people, **more)
    assert message in " ".join(refused.value.errors[field])
    assert not GuestReception.objects.exists() and not Guest.objects.exists() and not BudgetLine.objects.exists()


def test_money_rules():
    assert money_error("1280", "金额") is None and money_error("0.5", "金额") is None
    assert money_error(str(MONEY_MAX), "金额") is None
    assert money_error(Decimal("12.345"), "金额") == "金额最多保留两位小数。"
    assert "不能为负数" in money_error(Decimal("-1"), "金额")
    assert "过大" in money_error(MONEY_MAX + Decimal("0.01"), "金额")
    assert "应为金额" in money_error(Decimal("NaN"), "金额")
    assert "应为金额" in money_error("1,000", "金额")


def test_an_expense_needs_its_receipt_and_stays_within_the_approved_item(people):
    reception = approved(people)
    spend = people["requester"]
    with pytest.raises(ApplicationError) as refused:
        services.expense_record(
            actor=spend,
            reception_id=reception.pk,
            item="meals",
            amount="300",
            spent_on=date(2026, 6, 8),
            description="午餐",
        )
    assert refused.value.field == "receipt" and "票据" in str(refused.value)
    with pytest.raises(ValidationFailed) as refused:  # a receipt that is no image or PDF by its content
        services.expense_record(
            actor=spend,
            reception_id=reception.pk,
            item="meals",
            amount="300",
            spent_on=date(2026, 6, 8),
            description="午餐",
            receipt=receipt_png("fake.pdf"),
        )
    assert "内容与扩展名不符" in refused.value.errors["receipt"][0]
    first = services.expense_record(
        actor=spend,
        reception_id=reception.pk,
        item="meals",
        amount="1000",
        spent_on=date(2026, 6, 8),
        description="工作午餐",
        receipt=receipt_pdf(),
    )
    assert first.receipt.name.startswith(f"receipts/{reception.organization_id}/{reception.pk}/")
    with pytest.raises(ApplicationError) as refused:  # 1000 + 300 > 1200.50
        services.expense_record(
            actor=spend,
            reception_id=reception.pk,
            item="meals",
            amount="300",
            spent_on=date(2026, 6, 8),
            description="晚餐",
            receipt=receipt_png(),
        )
    assert refused.value.field == "amount" and refused.value.code == "over_budget"
    assert "将超出 ¥99.50" in str(refused.value) and "超预算报批" in str(refused.value)
    with pytest.raises(ApplicationError):  # accommodation: nothing approved
        services.expense_record(
            actor=spend,
            reception_id=reception.pk,
            item="accommodation",
            amount="1",
            spent_on=date(2026, 6, 8),
            description="住宿",
            receipt=receipt_png(),
        )
    assert Expense.objects.count() == 1  # the refused ones left nothing


def test_more_budget_is_approved_before_the_money_is_spent(people, _clock):
    reception = approved(people)
    spend = people["requester"]
    services.expense_record(
        actor=spend,
        reception_id=reception.pk,
        item="meals",
        amount="1200.50",
        spent_on=date(2026, 6, 8),
        description="工作午餐",
        receipt=receipt_png(),
    )
    overrun = services.overrun_request(
        actor=spend, reception_id=reception.pk, item="meals", amount="400", reason="来宾增加两人"
    )
    with pytest.raises(PermissionDeniedError):  # the preset's overrun approver is a leader
        services.overrun_decide(actor=people["office_head"], overrun_id=overrun.pk, decision="approved")
    with pytest.raises(ApplicationError):  # still pending: the dinner is over budget
        services.expense_record(
            actor=spend,
            reception_id=reception.pk,
            item="meals",
            amount="380",
            spent_on=date(2026, 6, 9),
            description="晚餐",
            receipt=receipt_png(),
        )
    _clock.move_to(at(9, 9))
    services.overrun_decide(actor=people["leader"], overrun_id=overrun.pk, decision="approved", opinion="同意追加")
    # Money spent the day before the approval is not covered by it (超出预算需提前报批).
    with pytest.raises(ApplicationError, match="超出"):
        services.expense_record(
            actor=spend,
            reception_id=reception.pk,
            item="meals",
            amount="380",
            spent_on=date(2026, 6, 8),
            description="前一天的晚餐",
            receipt=receipt_png(),
        )
    services.expense_record(
        actor=spend,
        reception_id=reception.pk,
        item="meals",
        amount="380",
        spent_on=date(2026, 6, 9),
        description="晚餐",
        receipt=receipt_png(),
    )
    rows, total = selectors.budget_rows(reception)
    meals = next(r for r in rows if r.item == "meals")
    assert (meals.approved, meals.increases, meals.spent, meals.remaining) == (
        Decimal("1200.50"),
        Decimal("400.00"),
        Decimal("1580.50"),
        Decimal("20.00"),
    )
    decided = Record.objects.get(reception=reception, action=RecordAction.OVERRUN_APPROVED)
    assert decided.actor == people["leader"] and decided.at == at(9, 9) and decided.data["amount"] == "400.00"


def test_expenses_not_before_the_approval_nor_in_the_future(people):
    reception = approved(people)
    for day, message in ((date(2026, 6, 7), "不能早于接待申请批准的日期"), (date(2026, 6, 9), "不能晚于今天")):
        with pytest.raises(ValidationFailed) as refused:
            services.expense_record(
                actor=people["requester"],
                reception_id=reception.pk,
                item="room",
                amount="100",
                spent_on=day,
                description="会议室",
                receipt=receipt_png(),
            )
        assert message in refused.value.errors["spent_on"][0]


def test_no_spending_before_the_approval_or_by_outsiders(people):
    reception = request(people)
    with pytest.raises(InvalidStatus):
        services.expense_record(
            actor=people["requester"],
            reception_id=reception.pk,
            item="room",
            amount="100",
            spent_on=date(2026, 6, 8),
            description="会议室",
            receipt=receipt_png(),
        )
    reception = approved(people)
    with pytest.raises(PermissionDeniedError):
        services.expense_record(
            actor=people["engineer"],
            reception_id=reception.pk,
            item="room",
            amount="100",
            spent_on=date(2026, 6, 8),
            description="会议室",
            receipt=receipt_png(),
        )


def test_from_request_to_reimbursement(people, _clock):
    reception = approved(people)
    arrangement = Arrangement.objects.filter(reception=reception).first()
    services.arrangement_done(actor=people["office_clerk"], arrangement_id=arrangement.pk, note="三楼会议室")
    with pytest.raises(ApplicationError, match="已由 office1"):
        services.arrangement_done(actor=people["desk"], arrangement_id=arrangement.pk)
    services.arrangement_add(actor=people["desk"], reception_id=reception.pk, label="准备宣传资料")
    services.expense_record(
        actor=people["office_clerk"],
        reception_id=reception.pk,
        item="room",
        amount="500",
        spent_on=date(2026, 6, 8),
        description="会议室租用",
        receipt=receipt_pdf(),
    )
    with pytest.raises(ApplicationError, match="先写接待总结"):
        services.reimbursement_submit(actor=people["requester"], reception_id=reception.pk)
    with pytest.raises(ApplicationError, match="才开始"):  # the 10th: not yet held
        services.reception_close(actor=people["requester"], reception_id=reception.pk, summary="顺利")
    _clock.move_to(at(11, 17))
    reception = services.reception_close(
        actor=people["requester"],
        reception_id=reception.pk,
        summary="调研顺利，对方肯定了服务标准化做法。",
        feedback="satisfied",
        feedback_comment="安排周到",
        expected_version=GuestReception.objects.get(pk=reception.pk).version,
    )
    assert reception.status == "closed" and reception.closed_by == people["requester"]
    reception = services.reimbursement_submit(actor=people["requester"], reception_id=reception.pk)
    assert reception.reimbursement == Reimbursement.SUBMITTED
    with pytest.raises(ApplicationError, match="已提交报销"):  # no expense once the claim is in
        services.expense_record(
            actor=people["requester"],
            reception_id=reception.pk,
            item="gifts",
            amount="100",
            spent_on=date(2026, 6, 11),
            description="纪念品",
            receipt=receipt_png(),
        )
    for outsider in ("leader", "requester", "office_head"):
        with pytest.raises(PermissionDeniedError, match="报销由财务部门办理"):
            services.reimbursement_decide(actor=people[outsider], reception_id=reception.pk, decision="reimbursed")
    with pytest.raises(ValidationFailed):  # returning it needs what to put right
        services.reimbursement_decide(actor=people["finance"], reception_id=reception.pk, decision="returned")
    reception = services.reimbursement_decide(
        actor=people["finance"], reception_id=reception.pk, decision="returned", note="请补充会议室租用合同"
    )
    assert reception.reimbursement == Reimbursement.RETURNED
    services.reimbursement_submit(actor=people["requester"], reception_id=reception.pk)
    _clock.move_to(at(12, 15))
    reception = services.reimbursement_decide(
        actor=people["finance"], reception_id=reception.pk, decision="reimbursed", note="已转账"
    )
    assert reception.reimbursement == Reimbursement.REIMBURSED
    assert reception.reimbursed_by == people["finance"] and reception.reimbursed_at == at(12, 15)
    trail = [(r.action, r.actor.username) for r in Record.objects.filter(reception=reception)]
    assert trail == [
        ("requested", "sales1"),
        ("approved", "office_head"),
        ("approved", "boss"),
        ("arrangement_done", "office1"),
        ("arrangement_added", "desk"),
        ("expense_recorded", "office1"),
        ("closed", "sales1"),
        ("reimbursement_submitted", "sales1"),
        ("reimbursement_returned", "accountant"),
        ("reimbursement_submitted", "sales1"),
        ("reimbursed", "accountant"),
    ]
    assert Record.objects.filter(reception=reception, action="reimbursed").get().at == at(12, 15)


def test_finance_does_not_reimburse_its_own_reception(people):
    reception = services.reception_request(
        actor=people["finance"],
        purpose="审计机构来访",
        guests="赵六，示范会计师事务所，合伙人",
        starts_on=date(2026, 6, 8),
        ends_on=date(2026, 6, 8),
        expected_outcome="年度审计沟通",
        budget={"meals": "200"},
    )
    services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")
    services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")
    services.expense_record(
        actor=people["finance"],
        reception_id=reception.pk,
        item="meals",
        amount="200",
        spent_on=date(2026, 6, 8),
        description="工作餐",
        receipt=receipt_png(),
    )
    services.reception_close(actor=people["finance"], reception_id=reception.pk, summary="完成")
    services.reimbursement_submit(actor=people["finance"], reception_id=reception.pk)
    with pytest.raises(PermissionDeniedError, match="不能为自己申请的接待办理报销"):
        services.reimbursement_decide(actor=people["finance"], reception_id=reception.pk, decision="reimbursed")


def test_a_reception_is_cancelled_only_before_money_is_spent(people):
    reception = approved(people)
    services.expense_record(
        actor=people["requester"],
        reception_id=reception.pk,
        item="room",
        amount="100",
        spent_on=date(2026, 6, 8),
        description="会议室",
        receipt=receipt_png(),
    )
    with pytest.raises(ApplicationError, match="已有费用支出"):
        services.reception_cancel(actor=people["requester"], reception_id=reception.pk, reason="来宾行程变更")
    other = request(people)
    cancelled = services.reception_cancel(actor=people["requester"], reception_id=other.pk, reason="来宾行程变更")
    assert cancelled.status == "cancelled"


def test_overrun_requests_name_their_fields(people):
    reception = approved(people)
    with pytest.raises(ValidationFailed) as refused:
        services.overrun_request(
            actor=people["requester"], reception_id=reception.pk, item="yacht", amount="0", reason=""
        )
    assert set(refused.value.errors) == {"item", "amount", "reason"}
    assert not Overrun.objects.exists()
