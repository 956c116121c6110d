"""Every read of the front office and of guest reception, with the permission built in.

The satisfaction figures (F70: 访问结束时提供反馈表): ``feedback_counts`` gives, per host or
per host department, the feedback forms answered in a period and how many were satisfied
(满意 + 基本满意) — the visitors' forms entered in the period (by the visitor's host and the
host's department) and the guests' feedback of receptions closed in the period (by the
requester and the hosting department). The evaluation table (``huiyin.evaluation``) adds
them to each unit's satisfaction rate; ``feedback_rates`` gives the organisation's
feedback-collection and satisfaction rates for the front office's own page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext as _

from huiyin.core.errors import NotFound, PermissionDeniedError
from huiyin.core.periods import day_start
from huiyin.core.rates import Rate
from huiyin.orgs.models import Department, Staff

from . import permissions
from .models import (
    SATISFIED,
    Approval,
    Arrangement,
    BudgetItem,
    BudgetLine,
    Expense,
    Guest,
    GuestReception,
    Overrun,
    OverrunStatus,
    ReceptionStatus,
    Record,
    Reimbursement,
    Visitor,
    VisitorFeedback,
    VisitStatus,
    approver_label,
)
from .money import ZERO
from .permissions import Setup
from .rules import feedback_questions, front_office_rules, guest_rules, guest_rules_from_preset, setup_of

BY_STAFF, BY_DEPARTMENT = "staff", "department"


# --- satisfaction figures (read by huiyin.evaluation) -------------------------------------------------


@dataclass(frozen=True)
class FeedbackCount:
    rated: int = 0
    satisfied: int = 0


def feedback_counts(organization_id: int, start: datetime, end: datetime, by: str) -> dict[int, FeedbackCount]:
    """Feedback forms answered in [start, end), per unit: the visitor's host (``by`` staff)
    or the host's department (by department); a guest reception's feedback, recorded when
    it was closed, for its requester or hosting department. One query (a union of two
    aggregates)."""
    if by not in (BY_STAFF, BY_DEPARTMENT):
        raise ValueError(f"unknown unit {by!r}")
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    visitor_unit = "visitor__host_id" if by == BY_STAFF else "visitor__host_department_id"
    visitors = (
        VisitorFeedback.objects.filter(
            visitor__organization_id=organization_id, entered_at__gte=start, entered_at__lt=end
        )
        .values(unit=F(visitor_unit))
        .annotate(rated=Count("pk"), satisfied=Count("pk", filter=Q(overall__in=SATISFIED)))
        .order_by()
    )
    reception_unit = "requested_by_id" if by == BY_STAFF else "hosting_department_id"
    receptions = (
        GuestReception.objects.filter(organization_id=organization_id, closed_at__gte=start, closed_at__lt=end)
        .exclude(feedback="")
        .values(unit=F(reception_unit))
        .annotate(rated=Count("pk"), satisfied=Count("pk", filter=Q(feedback__in=SATISFIED)))
        .order_by()
    )
    for row in visitors.union(receptions, all=True):  # one query
        if row["unit"] is not None:
            out[row["unit"]][0] += row["rated"]
            out[row["unit"]][1] += row["satisfied"]
    return {unit: FeedbackCount(rated=r, satisfied=s) for unit, (r, s) in out.items()}


@dataclass(frozen=True)
class FeedbackRates:
    """The front office's two figures for a period (the company preset's KPIs 反馈收集率 and
    访客满意率): visitors who left in the period with a feedback form / visitors who left;
    forms answered satisfied or basically satisfied / forms answered (by the day entered)."""

    collected: Rate
    satisfaction: Rate


def feedback_rates(organization_id: int, start: datetime, end: datetime) -> FeedbackRates:
    left = Visitor.objects.filter(
        organization_id=organization_id, status=VisitStatus.OUT, checked_out_at__gte=start, checked_out_at__lt=end
    ).aggregate(n=Count("pk"), with_form=Count("feedback"))
    forms = VisitorFeedback.objects.filter(
        visitor__organization_id=organization_id, entered_at__gte=start, entered_at__lt=end
    ).aggregate(n=Count("pk"), satisfied=Count("pk", filter=Q(overall__in=SATISFIED)))
    return FeedbackRates(
        collected=Rate(left["with_form"], left["n"]),
        satisfaction=Rate(forms["satisfied"], forms["n"]),
    )


# --- the visitor log ----------------------------------------------------------------------------------


def visitors_of_day(*, actor: Staff, day: date) -> QuerySet[Visitor]:
    """The day's visitors: all of them for the front desk, a host's own (host, escort,
    announced by them) for anyone else; expected first by time, then the rest."""
    if not permissions.may_use_visitor_log(actor):
        raise PermissionDeniedError()
    rows = Visitor.objects.filter(organization_id=actor.org_id, expected_on=day)
    if not permissions.is_front_desk(actor):
        rows = rows.filter(Q(host=actor) | Q(escort=actor) | Q(announced_by=actor))
    return rows.select_related("host", "escort", "host_department", "feedback").order_by(
        "expected_time", "checked_in_at", "pk"
    )


@dataclass(frozen=True)
class DayCounts:
    expected: int
    inside: int
    left: int
    cancelled: int


def day_counts(visitors: list[Visitor]) -> DayCounts:
    by: dict[str, int] = defaultdict(int)
    for v in visitors:
        by[v.status] += 1
    return DayCounts(
        expected=by[VisitStatus.EXPECTED],
        inside=by[VisitStatus.IN],
        left=by[VisitStatus.OUT],
        cancelled=by[VisitStatus.CANCELLED],
    )


def visitor_get(*, actor: Staff, visitor_id: int) -> Visitor:
    visitor = (
        Visitor.objects.filter(pk=visitor_id, organization_id=actor.org_id)
        .select_related("host", "escort", "host_department", "announced_by", "checked_in_by", "checked_out_by")
        .first()
    )
    if visitor is None:
        raise NotFound(_("找不到该访客登记。"))
    if not permissions.may_see_visitor(actor, visitor):
        raise PermissionDeniedError()
    return visitor


def visitor_feedback(visitor: Visitor) -> VisitorFeedback | None:
    return VisitorFeedback.objects.filter(visitor=visitor).select_related("entered_by").first()


def visitor_records(visitor: Visitor) -> QuerySet[Record]:
    return Record.objects.filter(visitor=visitor).select_related("actor").order_by("at", "pk")


def hosts(organization_id: int) -> QuerySet[Staff]:
    """Whom a visitor may visit or be escorted by: the organisation's active staff."""
    return (
        Staff.objects.filter(organization_id=organization_id, is_active=True)
        .select_related("department")
        .order_by("department__sort_order", "department__name", "full_name", "username")
    )


def id_check_required(organization_id: int) -> bool:
    return front_office_rules(organization_id).id_check


def questions(organization_id: int) -> list[str]:
    return feedback_questions(organization_id)


# --- guest reception ----------------------------------------------------------------------------------


def receptions_for(*, actor: Staff, status: str = "") -> QuerySet[GuestReception]:
    """The receptions the actor may see: all for leaders, the front desk, the administrative
    office and finance; their department's for the others. Newest first."""
    if not permissions.may_use_guest_reception(actor):
        raise PermissionDeniedError()
    setup = setup_of(actor.org_id)
    rows = GuestReception.objects.filter(organization_id=actor.org_id)
    if not permissions.sees_all_receptions(actor, setup):
        rows = rows.filter(Q(requested_by=actor) | Q(hosting_department_id=actor.department_id))
    if status in ReceptionStatus.values:
        rows = rows.filter(status=status)
    elif status in Reimbursement.values:
        rows = rows.filter(reimbursement=status)
    # Subqueries, not joins: a join of the budget lines and the guests would count each line once per guest.
    budget = BudgetLine.objects.filter(reception=OuterRef("pk")).values("reception").annotate(s=Sum("requested"))
    guests = Guest.objects.filter(reception=OuterRef("pk")).values("reception").annotate(n=Count("pk"))
    return (
        rows.select_related("hosting_department", "requested_by")
        .annotate(budget_total=Subquery(budget.values("s")), guest_count=Subquery(guests.values("n")))
        .order_by("-starts_on", "-pk")
    )


@dataclass
class BudgetRow:
    item: str
    label: str
    requested: Decimal = ZERO
    approved: Decimal | None = None
    increases: Decimal = ZERO
    pending: Decimal = ZERO
    spent: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return (self.approved or ZERO) + self.increases

    @property
    def remaining(self) -> Decimal:
        return self.available - self.spent


def budget_rows(reception: GuestReception) -> tuple[list[BudgetRow], BudgetRow]:
    """Per item: requested, approved, approved increases, increases awaiting a decision,
    spent, remaining; and the totals."""
    rows = {item.value: BudgetRow(item=item.value, label=str(item.label)) for item in BudgetItem}
    for line in BudgetLine.objects.filter(reception=reception):
        rows[line.item].requested, rows[line.item].approved = line.requested, line.approved
    for o in Overrun.objects.filter(reception=reception).values("item", "status").annotate(s=Sum("amount")):
        if o["status"] == OverrunStatus.APPROVED:
            rows[o["item"]].increases += o["s"]
        elif o["status"] == OverrunStatus.PENDING:
            rows[o["item"]].pending += o["s"]
    for e in Expense.objects.filter(reception=reception).values("item").annotate(s=Sum("amount")):
        rows[e["item"]].spent += e["s"]
    total = BudgetRow(item="", label=_("合计"))
    approved_any = False
    for row in rows.values():
        total.requested += row.requested
        total.increases += row.increases
        total.pending += row.pending
        total.spent += row.spent
        if row.approved is not None:
            approved_any = True
            total.approved = (total.approved or ZERO) + row.approved
    if not approved_any:
        total.approved = None
    return list(rows.values()), total


@dataclass
class ReceptionPage:
    """What the reception's page shows, and what the actor may do on it."""

    reception: GuestReception
    setup: Setup
    guests: list
    budget: list[BudgetRow]
    total: BudgetRow
    approvals: list[Approval]
    steps: list[dict]
    arrangements: list[Arrangement]
    expenses: list[Expense]
    overruns: list[Overrun]
    records: list[Record]
    may: dict[str, bool] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def reception_get(*, actor: Staff, reception_id: int) -> GuestReception:
    reception = (
        GuestReception.objects.filter(pk=reception_id, organization_id=actor.org_id)
        .select_related("hosting_department", "requested_by", "closed_by", "reimbursed_by")
        .first()
    )
    if reception is None:
        raise NotFound(_("找不到该接待申请。"))
    if not permissions.may_see_reception(actor, reception, setup_of(actor.org_id)):
        raise PermissionDeniedError()
    return reception


def reception_page(*, actor: Staff, reception_id: int) -> ReceptionPage:
    reception = reception_get(actor=actor, reception_id=reception_id)
    setup = setup_of(actor.org_id)
    budget, total = budget_rows(reception)
    approvals = list(Approval.objects.filter(reception=reception).select_related("actor"))
    by_step = {a.step: a for a in approvals}
    steps = [
        {
            "n": i,
            "approver": code,
            "label": approver_label(code),
            "approval": by_step.get(i),
            "due": reception.due_approver == code and reception.signed_steps + 1 == i,
        }
        for i, code in enumerate(reception.chain, 1)
    ]
    status, reimbursement = reception.status, reception.reimbursement
    spending = status in (ReceptionStatus.APPROVED, ReceptionStatus.CLOSED) and reimbursement in (
        Reimbursement.NOT_SUBMITTED,
        Reimbursement.RETURNED,
    )
    expenses = list(Expense.objects.filter(reception=reception).select_related("recorded_by"))
    may = {
        "decide": permissions.may_decide(actor, reception, setup),
        "arrange": permissions.may_arrange(actor, reception, setup) and status == ReceptionStatus.APPROVED,
        "tick": permissions.may_arrange(actor, reception, setup)
        and status in (ReceptionStatus.APPROVED, ReceptionStatus.CLOSED),
        "spend": permissions.may_spend(actor, reception, setup) and spending,
        "decide_overrun": permissions.may_decide_overrun(actor, reception, setup),
        "close": permissions.may_close(actor, reception, setup) and status == ReceptionStatus.APPROVED,
        "cancel": permissions.may_cancel_reception(actor, reception, setup)
        and status in (ReceptionStatus.PENDING, ReceptionStatus.APPROVED)
        and not expenses,
        "submit": permissions.may_submit_reimbursement(actor, reception, setup)
        and status == ReceptionStatus.CLOSED
        and reimbursement in (Reimbursement.NOT_SUBMITTED, Reimbursement.RETURNED)
        and bool(expenses),
        "reimburse": permissions.may_reimburse(actor, reception, setup) and reimbursement == Reimbursement.SUBMITTED,
    }
    warnings = []
    if reimbursement == Reimbursement.SUBMITTED and setup.finance_department_id is None:
        warnings.append(_("本单位尚未指定财务部门，报销无人办理：请系统管理员在“接待设置”中指定。"))
    return ReceptionPage(
        reception=reception,
        setup=setup,
        guests=list(reception.guests.all()),
        budget=budget,
        total=total,
        approvals=approvals,
        steps=steps,
        arrangements=list(Arrangement.objects.filter(reception=reception).select_related("done_by")),
        expenses=expenses,
        overruns=list(Overrun.objects.filter(reception=reception).select_related("requested_by", "decided_by")),
        records=list(Record.objects.filter(reception=reception).select_related("actor").order_by("at", "pk")),
        may=may,
        warnings=warnings,
    )


def expense_for_download(*, actor: Staff, expense_id: int) -> Expense:
    expense = (
        Expense.objects.filter(pk=expense_id, reception__organization_id=actor.org_id)
        .select_related("reception")
        .first()
    )
    if expense is None or not expense.receipt:
        raise NotFound(_("找不到该票据。"))
    reception_get(actor=actor, reception_id=expense.reception_id)
    return expense


def request_possible(organization_id: int) -> tuple[bool, str]:
    """Whether a request can be made here, and why not."""
    rules = guest_rules(organization_id)
    setup = setup_of(organization_id)
    if "office_head" in (*rules.chain, rules.overrun_approver) and setup.office_department_id is None:
        return False, _("审批流程需要行政部门审核，但本单位尚未指定行政部门：请系统管理员在“接待设置”中指定。")
    return True, ""


def chain_labels(organization_id: int) -> tuple[list[str], bool]:
    """The approvers of a new request, in order, and whether the running preset names them
    (False: Huiyin's default)."""
    return [approver_label(code) for code in guest_rules(organization_id).chain], guest_rules_from_preset(
        organization_id
    )


def awaiting_me(*, actor: Staff) -> list[GuestReception]:
    """Requests whose due step the actor holds, and receptions whose increases or
    reimbursement wait for them: the list page's "waiting for you"."""
    setup = setup_of(actor.org_id)
    rows = (
        GuestReception.objects.filter(organization_id=actor.org_id)
        .filter(
            Q(status=ReceptionStatus.PENDING)
            | Q(overruns__status=OverrunStatus.PENDING)
            | Q(reimbursement=Reimbursement.SUBMITTED)
        )
        .distinct()
        .select_related("hosting_department", "requested_by")
        .prefetch_related(Prefetch("overruns", queryset=Overrun.objects.filter(status=OverrunStatus.PENDING)))
        .order_by("starts_on", "pk")[:100]
    )
    mine = []
    for r in rows:
        if (
            permissions.may_decide(actor, r, setup)
            or (r.overruns.all() and permissions.may_decide_overrun(actor, r, setup))
            or (r.reimbursement == Reimbursement.SUBMITTED and permissions.may_reimburse(actor, r, setup))
        ):
            mine.append(r)
    return mine


# --- the cost report ---------------------------------------------------------------------------------


@dataclass
class CostRow:
    """One hosting department's receptions that started in the period, against budget."""

    department_id: int | None
    name: str
    receptions: int = 0
    requested: Decimal = ZERO
    approved: Decimal = ZERO
    increases: Decimal = ZERO
    spent: Decimal = ZERO
    reimbursed: Decimal = ZERO
    overruns: int = 0
    by_item: dict[str, Decimal] = field(default_factory=dict)  # spent per item

    @property
    def budget(self) -> Decimal:
        """What may be spent: approved plus approved increases."""
        return self.approved + self.increases

    @property
    def balance(self) -> Decimal:
        return self.budget - self.spent

    @property
    def used(self) -> float | None:
        return float(self.spent / self.budget) if self.budget else None


@dataclass
class CostReport:
    start: date
    end: date  # the last day, included
    rows: list[CostRow]
    total: CostRow
    department_id: int | None = None


COUNTED = (ReceptionStatus.APPROVED, ReceptionStatus.CLOSED)


def cost_report(organization_id: int, start: date, end: date, *, department_id: int | None = None) -> CostReport:
    """Receptions approved (or closed) that start within [start, end], per hosting
    department: how many, the budget requested and approved, the increases approved
    (超预算报批, and how many), the money spent (per item too) and the part reimbursed
    (receptions marked 已报销), and the balance (approved + increases − spent). Refused,
    cancelled and pending requests spend nothing and are not counted."""
    receptions = GuestReception.objects.filter(
        organization_id=organization_id, status__in=COUNTED, starts_on__gte=start, starts_on__lte=end
    )
    if department_id is not None:
        receptions = receptions.filter(hosting_department_id=department_id)
    rows: dict[int, CostRow] = {}
    names = dict(Department.objects.filter(organization_id=organization_id).values_list("pk", "name"))

    def row(dept: int) -> CostRow:
        if dept not in rows:
            rows[dept] = CostRow(department_id=dept, name=names.get(dept, ""))
        return rows[dept]

    for r in receptions.values("hosting_department_id").annotate(n=Count("pk")):
        row(r["hosting_department_id"]).receptions = r["n"]
    ids = receptions.values("pk")
    for b in (
        BudgetLine.objects.filter(reception__in=ids)
        .values(dept=F("reception__hosting_department_id"))
        .annotate(req=Sum("requested"), app=Sum("approved"))
    ):
        row(b["dept"]).requested = b["req"] or ZERO
        row(b["dept"]).approved = b["app"] or ZERO
    for o in (
        Overrun.objects.filter(reception__in=ids, status=OverrunStatus.APPROVED)
        .values(dept=F("reception__hosting_department_id"))
        .annotate(s=Sum("amount"), n=Count("pk"))
    ):
        row(o["dept"]).increases, row(o["dept"]).overruns = o["s"] or ZERO, o["n"]
    for e in (
        Expense.objects.filter(reception__in=ids)
        .values("item", dept=F("reception__hosting_department_id"), paid=F("reception__reimbursement"))
        .annotate(s=Sum("amount"))
    ):
        target = row(e["dept"])
        target.spent += e["s"]
        target.by_item[e["item"]] = target.by_item.get(e["item"], ZERO) + e["s"]
        if e["paid"] == Reimbursement.REIMBURSED:
            target.reimbursed += e["s"]
    ordered = sorted(rows.values(), key=lambda r: (-r.spent, r.name))
    total = CostRow(department_id=None, name=_("合计"))
    for one in ordered:
        total.receptions += one.receptions
        total.requested += one.requested
        total.approved += one.approved
        total.increases += one.increases
        total.spent += one.spent
        total.reimbursed += one.reimbursed
        total.overruns += one.overruns
        for item, amount in one.by_item.items():
            total.by_item[item] = total.by_item.get(item, ZERO) + amount
    return CostReport(start=start, end=end, rows=ordered, total=total, department_id=department_id)


def cost_report_for(*, actor: Staff, start: date, end: date, department_id: int | None = None) -> CostReport:
    """The cost report as the actor may see it: the whole organisation (optionally one
    department) for leaders, finance, the administrative office and analysts; their own
    department for department heads."""
    setup = setup_of(actor.org_id)
    if not permissions.may_see_costs(actor, setup):
        raise PermissionDeniedError(_("接待费用报表供领导、财务、行政部门、统计分析员和部门负责人查看。"))
    if not permissions.cost_scope_all(actor, setup):
        department_id = actor.department_id
    elif (
        department_id is not None
        and not Department.objects.filter(pk=department_id, organization_id=actor.org_id).exists()
    ):
        raise NotFound(_("所选部门不存在或不属于本单位。"))
    return cost_report(actor.org_id, start, end, department_id=department_id)


def cost_departments(*, actor: Staff) -> list[Department]:
    setup = setup_of(actor.org_id)
    if not permissions.cost_scope_all(actor, setup):
        return []
    return list(Department.objects.filter(organization_id=actor.org_id).order_by("sort_order", "name"))


def month_bounds(today: date) -> tuple[datetime, datetime]:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_start(first), day_start(following)


def arrangement_reception(*, actor: Staff, arrangement_id: int) -> int:
    """The reception an arrangement belongs to (404 for another organisation's)."""
    found = (
        Arrangement.objects.filter(pk=arrangement_id, reception__organization_id=actor.org_id)
        .values_list("reception_id", flat=True)
        .first()
    )
    if found is None:
        raise NotFound(_("找不到该安排事项。"))
    return found


def overrun_reception(*, actor: Staff, overrun_id: int) -> int:
    found = (
        Overrun.objects.filter(pk=overrun_id, reception__organization_id=actor.org_id)
        .values_list("reception_id", flat=True)
        .first()
    )
    if found is None:
        raise NotFound(_("找不到该超预算报批。"))
    return found
