"""The evaluation table (考评, F35): per staff member or per department, for any period
[start, end).

Definitions (the page and the Excel export say the same):

* **Unit** — a handling round is the unit's when the round's handler (by staff) or the
  round's lead department (by department) is that unit. A round is what a reopening
  (重办) starts; the round keeps its handler and lead department, so a reopened case
  still counts for whoever handled the round that was reopened. Rounds without a
  handler (lead department) are not in the table.
* **Cases handled (办理件数)** — per (case, round): rounds answered in the period
  (``CaseRound.replied_at``: a reply or an answer on the spot), plus rounds whose
  answer clock is still running (not paused by a suspension) with its due time in the
  period and passed (overdue, unanswered). The sample size of the unit. The answer
  clock is the reply-stage clock, or, where the organisation's preset has no reply
  deadline, the ``overall`` one; a preset with neither (a hotline timing only the
  dispatch) still counts its answered rounds.
* **On-time rate (按时答复率)** — answer clocks stopped as done (``StopReason.DONE``) in
  the period with ``stopped_at <= due_at`` / those clocks plus the overdue running ones
  (the timed rounds: an overdue unanswered clock counts as late; clocks stopped
  otherwise — cancelled, sent back, superseded — do not count).
* **Callback completion (回访完成率)** — callbacks of the unit's rounds planned in the
  period and neither cancelled nor recorded as 无法回访 (no phone number), whose status
  is done or unreachable / those planned.
* **Satisfaction rate (满意率)** — callbacks done in the period rated 满意 or 基本满意 /
  callbacks done in the period with any rating; plus the front office's feedback forms
  (F70/F71, ``frontoffice.selectors.feedback_counts``): a visitor's form entered in the
  period counts for the visitor's host (by staff) and the host's department, a guest
  reception's feedback recorded at its closing in the period for its requester and the
  hosting department.
* **Reopen rate (重办率)** — rounds ≥ 2 started in the period (each is one reopening,
  ``case_reopen``), counted for the unit of the round that was reopened / cases
  handled.
* **Deductions (扣分)** — ``DeductionEntry.points`` recorded in the period: by staff,
  the points charged to the person; by department, each (case, rule, level) once.
* **Score (综合得分)** — 100 × the weighted mean of on-time rate, callback completion,
  satisfaction rate and (1 − reopen rate) with the preset's ``evaluation`` weights,
  rates without a sample left out and their weight spread over the others (the mean is
  divided by the weights of the rates that have one), minus the deductions; rounded to
  one decimal (half up). None when no weighted rate has a sample. A reopen rate above
  100 % counts as 100 % in the score. The score may fall below zero.
* **Ranking (排名)** — only units with cases handled ≥ ``evaluation.min_sample`` are
  ranked, best score first; equal scores share a rank (1, 1, 3). The others follow,
  unranked, marked 样本不足 with their sample size. A department head's view keeps the
  ranks held in the whole organisation's table.

The organisation's running preset (``current_policy``) gives the weights, the sample
minimum and which stage times the answer; without one, ``EvaluationRules()``. Every
figure is one aggregate query grouped by unit (clocks, callbacks, reopenings,
deductions), plus the names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, FilteredRelation, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import CaseRound
from huiyin.core.errors import PermissionDeniedError, ValidationFailed
from huiyin.core.rates import Rate
from huiyin.deadlines.models import Clock, ClockState, StopReason
from huiyin.followup.models import SATISFIED, Callback, CallbackStatus
from huiyin.frontoffice.selectors import feedback_counts
from huiyin.orgs.models import Department, Staff
from huiyin.policy import kpi_text
from huiyin.policy.labels import preset_label
from huiyin.policy.presets import EvaluationRules
from huiyin.policy.services import current_policy

from .models import DeductionEntry
from .permissions import may_see_evaluation, sees_whole_evaluation

BY_STAFF, BY_DEPARTMENT = "staff", "department"
COMPLETED = (CallbackStatus.DONE, CallbackStatus.UNREACHABLE)


@dataclass
class Row:
    unit_id: int
    name: str
    department: str = ""  # the person's department (by staff)
    department_id: int | None = None  # the person's department, or the department itself
    handled: int = 0
    on_time: Rate = Rate(0, 0)
    callback: Rate = Rate(0, 0)
    satisfaction: Rate = Rate(0, 0)
    reopen: Rate = Rate(0, 0)
    deductions: int = 0
    score: float | None = None
    rank: int | None = None

    @property
    def ranked(self) -> bool:
        return self.rank is not None


@dataclass
class Evaluation:
    by: str
    start: datetime
    end: datetime
    rules: EvaluationRules
    stage: str  # the clock stage that times the answer: "reply" or "overall"
    rows: list[Row] = field(default_factory=list)
    department_id: int | None = None  # scoped to one department (a department head)


def _round_half_up(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def score_of(row: Row, rules: EvaluationRules) -> float | None:
    """100 × the weighted mean of the rates that have a sample − deductions (1 decimal)."""
    reopen = row.reopen.value
    parts = [
        (rules.on_time, row.on_time.value),
        (rules.callback, row.callback.value),
        (rules.satisfaction, row.satisfaction.value),
        (rules.not_reopened, None if reopen is None else 1 - min(reopen, 1.0)),
    ]
    sampled = [(w, v) for w, v in parts if v is not None and w > 0]
    weight = sum(w for w, _v in sampled)
    if not sampled or weight <= 0:
        return None
    mean = sum(w * v for w, v in sampled) / weight
    return _round_half_up(100 * mean - row.deductions)


def rank_rows(rows: list[Row], min_sample: int) -> list[Row]:
    """Rank the rows with enough sample (ties share a rank: 1, 1, 3); the others after
    them, unranked. Returns the rows in display order."""
    for row in rows:
        row.rank = None
    ranked = sorted(
        (r for r in rows if r.handled >= min_sample and r.score is not None),
        key=lambda r: (-(r.score or 0.0), r.name, r.unit_id),  # every score here is set (filtered above)
    )
    previous, rank = None, 0
    for position, row in enumerate(ranked, start=1):
        if row.score != previous:
            rank, previous = position, row.score
        row.rank = rank
    rest = sorted(
        (r for r in rows if r.rank is None),
        key=lambda r: (r.score is None, -(r.score or 0), -r.handled, r.name, r.unit_id),
    )
    return ranked + rest


def _rules_and_stage(organization_id: int) -> tuple[EvaluationRules, str]:
    policy = current_policy(organization_id)
    if policy is None:
        return EvaluationRules(), "reply"
    preset = policy.preset()
    stage = "reply" if any(rule.stage == "reply" for rule in preset.deadlines) else "overall"
    return preset.evaluation, stage


def _this_round() -> FilteredRelation:
    """The clock's / callback's own handling round (a fresh object per query: Django
    binds a FilteredRelation to the query it is first used in)."""
    return FilteredRelation("case__rounds", condition=Q(case__rounds__number=F("round")))


def _in(name: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{name}__gte": start, f"{name}__lt": end})


def evaluation(
    organization_id: int,
    start: datetime,
    end: datetime,
    by: str = BY_STAFF,
    *,
    department_id: int | None = None,
    now: datetime | None = None,
) -> Evaluation:
    """The evaluation table for [start, end) (see the module docstring). With
    ``department_id``: only that department (by department) or its staff (by staff),
    with the ranks they hold in the whole organisation's table."""
    if by not in (BY_STAFF, BY_DEPARTMENT):
        raise ValidationFailed({"by": [_("请选择按人员或按部门考评。")]})
    if start >= end:
        raise ValidationFailed({"end": [_("结束日期不能早于开始日期。")]})
    now = now or timezone.now()
    rules, stage = _rules_and_stage(organization_id)
    unit = "handler" if by == BY_STAFF else "lead_department"

    # 1. Rounds answered in the period, and the answer clocks: one per round and stage is
    #    done at most once (a reply stops them all), and only one runs at a time.
    answered = (
        CaseRound.objects.filter(case__organization_id=organization_id)
        .filter(_in("replied_at", start, end))
        .values(unit_id=F(f"{unit}_id"))
        .annotate(n=Count("id"))
    )
    clocks = (
        Clock.objects.filter(organization_id=organization_id, stage=stage)
        .filter(
            Q(state=ClockState.STOPPED, stop_reason=StopReason.DONE) & _in("stopped_at", start, end)
            | Q(state=ClockState.RUNNING) & _in("due_at", start, min(end, now))
        )
        .annotate(rnd=_this_round())
        .values(unit_id=F(f"rnd__{unit}_id"))
        .annotate(
            timed=Count("id"),
            overdue=Count("id", filter=Q(state=ClockState.RUNNING)),
            on_time=Count("id", filter=Q(state=ClockState.STOPPED, stopped_at__lte=F("due_at"))),
        )
    )
    # 2. Callbacks: planned (not cancelled) and completed; rated and satisfied.
    # 无法回访 (no phone number) is nobody's failure: counted neither way, as cancelled ones.
    planned = _in("planned_at", start, end) & ~Q(status__in=(CallbackStatus.CANCELLED, CallbackStatus.NO_CONTACT))
    rated = Q(status=CallbackStatus.DONE) & _in("done_at", start, end) & ~Q(satisfaction="")
    callbacks = (
        Callback.objects.filter(case__organization_id=organization_id)
        .filter(planned | rated)
        .annotate(rnd=_this_round())
        .values(unit_id=F(f"rnd__{unit}_id"))
        .annotate(
            planned=Count("id", filter=planned),
            completed=Count("id", filter=planned & Q(status__in=COMPLETED)),
            rated=Count("id", filter=rated),
            satisfied=Count("id", filter=rated & Q(satisfaction__in=SATISFIED)),
        )
    )
    # 3. Reopenings: rounds ≥ 2 started in the period, for the unit of the round before.
    previous_round = FilteredRelation("case__rounds", condition=Q(case__rounds__number=F("number") - 1))
    reopens = (
        CaseRound.objects.filter(case__organization_id=organization_id, number__gte=2)
        .filter(_in("started_at", start, end))
        .annotate(prev=previous_round)
        .values(unit_id=F(f"prev__{unit}_id"))
        .annotate(n=Count("id"))
    )
    # 4. Deductions recorded in the period.
    entries = DeductionEntry.objects.filter(organization_id=organization_id).filter(_in("recorded_at", start, end))
    deductions: dict[int, int] = defaultdict(int)
    if by == BY_STAFF:
        for s in entries.filter(staff__isnull=False).values("staff_id").annotate(p=Sum("points")):
            deductions[s["staff_id"]] += s["p"]
    else:  # each (case, rule, level) once for the department, however many were charged
        for d in entries.values("department_id", "case_id", "rule", "level").annotate(p=Max("points")):
            deductions[d["department_id"]] += d["p"]

    # 5. Feedback forms at the front office: the visitors' and the guests' (满意 + 基本满意).
    feedback = feedback_counts(organization_id, start, end, by)

    figures: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in answered:
        if a["unit_id"] is not None:
            figures[a["unit_id"]]["handled"] += a["n"]
    for c in clocks:
        if c["unit_id"] is not None:
            figures[c["unit_id"]]["handled"] += c["overdue"]  # due, unanswered
            figures[c["unit_id"]]["timed"] += c["timed"]
            figures[c["unit_id"]]["on_time"] += c["on_time"]
    for cb in callbacks:
        if cb["unit_id"] is not None:
            for key in ("planned", "completed", "rated", "satisfied"):
                figures[cb["unit_id"]][key] += cb[key]
    for unit_id, form in feedback.items():
        figures[unit_id]["rated"] += form.rated
        figures[unit_id]["satisfied"] += form.satisfied
    for ro in reopens:
        if ro["unit_id"] is not None:
            figures[ro["unit_id"]]["reopened"] += ro["n"]
    for unit_id in deductions:
        figures[unit_id]["deductions"] = deductions[unit_id]

    rows = []
    for unit_id, (name, department, unit_department_id) in _names(by, set(figures)).items():
        f = figures[unit_id]
        row = Row(
            unit_id=unit_id,
            name=name,
            department=department,
            department_id=unit_department_id,
            handled=f["handled"],
            on_time=Rate(f["on_time"], f["timed"]),
            callback=Rate(f["completed"], f["planned"]),
            satisfaction=Rate(f["satisfied"], f["rated"]),
            reopen=Rate(f["reopened"], f["handled"]),
            deductions=f["deductions"],
        )
        row.score = score_of(row, rules)
        rows.append(row)
    # Ranked across the organisation, then narrowed: a department head sees the ranks
    # their people hold in the whole table.
    rows = [r for r in rank_rows(rows, rules.min_sample) if department_id is None or r.department_id == department_id]
    return Evaluation(by=by, start=start, end=end, rules=rules, stage=stage, rows=rows, department_id=department_id)


def _names(by: str, ids: set[int]) -> dict[int, tuple[str, str, int | None]]:
    """unit id → (name, the person's department name, department id)."""
    if by == BY_STAFF:
        people = Staff.objects.filter(pk__in=ids).select_related("department")
        return {p.pk: (str(p), p.department.name if p.department else "", p.department_id) for p in people}
    return {d.pk: (d.name, "", d.pk) for d in Department.objects.filter(pk__in=ids)}


# --- who sees what ------------------------------------------------------------------------------


def scope_for(actor: Staff) -> int | None:
    """None: the whole organisation (leaders, supervisors, analysts, administrators); a
    department id: a department head's own department. Staff evaluation is management
    information: intake clerks, reception and callback officers do not see it."""
    if sees_whole_evaluation(actor):
        return None
    if may_see_evaluation(actor):
        return actor.department_id
    raise PermissionDeniedError(_("只有领导、督办员、统计分析员、系统管理员和部门负责人可以查看考评。"))


def evaluation_for(
    *, actor: Staff, start: datetime, end: datetime, by: str = BY_STAFF, now: datetime | None = None
) -> Evaluation:
    """The evaluation table as ``actor`` may see it (PermissionDeniedError otherwise)."""
    return evaluation(actor.org_id, start, end, by, department_id=scope_for(actor), now=now)


# --- the preset's KPIs beside the table ----------------------------------------------------------

# A preset KPI the table computes the same way, by code -> the table's figure. The other
# KPIs (their own numerators and denominators) are the reports' to compute (issue 16).
KPI_FIGURES = {"on_time_rate": "on_time", "satisfaction_rate": "satisfaction"}


@dataclass
class KpiRow:
    code: str
    label: str
    definition: str  # numerator ÷ denominator, in the preset's words
    target: str  # "≥ 100%", "< 1%", "" without one
    figure: Rate | None  # the table's total for the same figure, where it computes one
    met: bool | None  # the figure against the target (None: no figure, no sample or no target)
    source: str


def kpi_rows(organization_id: int, table: Evaluation | None) -> list[KpiRow]:
    """The running preset's KPIs (``kpis``) with their targets and, where the table computes
    the same figure, the table's total for the period."""
    policy = current_policy(organization_id)
    if policy is None:
        return []
    out = []
    for kpi in policy.preset().kpis:
        figure = None
        field_name = KPI_FIGURES.get(kpi.code)
        if table is not None and field_name is not None:
            rates = [getattr(row, field_name) for row in table.rows]
            figure = Rate(sum(r.numerator for r in rates), sum(r.denominator for r in rates))
        out.append(
            KpiRow(
                code=kpi.code,
                label=preset_label(kpi.label),
                definition=kpi_text.definition(kpi),
                target=kpi_text.target_text(kpi),
                figure=figure,
                met=kpi_text.target_met(kpi, figure.value if figure else None),
                source=kpi.source,
            )
        )
    return out


def recent_deductions(actor: Staff, limit: int = 50):
    """The latest deduction entries, for the recording page."""
    rows = DeductionEntry.objects.filter(organization_id=actor.org_id)
    department_id = scope_for(actor)
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    rows = rows.select_related("case", "staff", "department", "recorded_by")
    return rows.order_by("-recorded_at", "-id")[:limit]
