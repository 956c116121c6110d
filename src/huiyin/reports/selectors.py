"""Reads for the dashboard and the reports, with the permission check built in.

Every figure comes from the roll-ups (``DayAxis``: a few rows per day, department and
value), never from the case table; the two live lists (deadlines overdue or warned now)
read the open clocks through their index, and the 90th percentile the case facts'. When
``DATABASE_REPLICA_URL`` is set, all of it is read from the replica
(``core.replica.replica_reads``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Category, Channel, Nature
from huiyin.core.errors import NotFound, PermissionDeniedError
from huiyin.core.replica import replica_reads
from huiyin.deadlines.models import Clock, ClockState
from huiyin.deadlines.subjects import case_kinds
from huiyin.orgs.models import Department, Staff
from huiyin.policy import kpi_text
from huiyin.policy.labels import preset_label
from huiyin.policy.presets import EvaluationRules, Kpi, Preset
from huiyin.policy.services import current_policy

from . import kpis as kpi_math
from .kpis import KpiValue
from .models import DayAxis, Report
from .permissions import may_see_dashboard, may_see_reports, sees_whole_dashboard

AXES = ("channel", "nature", "category", "department", "place")
TOP = 8  # series drawn per chart; the rest are added up as 其他
LEAGUE_KPIS = (
    "closure_on_time_rate",
    "reply_on_time_rate",
    "closure_rate",
    "callback_rate",
    "satisfaction_rate",
    "reopen_rate",
)
# The on-time rates the league may be ranked by, in order: the first with a sample in the
# period (the city hotline times no overall closure, so its 按时办结率 never has one).
LEAGUE_RANKING = ("closure_on_time_rate", "reply_on_time_rate")


# --- periods -------------------------------------------------------------------------------


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Whole days [first, last], both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def whole_months(self) -> int:
        """How many calendar months the period is, when it is exactly some (else 0)."""
        if self.first.day != 1 or self.last != month_end(self.last):
            return 0
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def previous(self) -> Period:
        months = self.whole_months
        if months:
            last = self.first - timedelta(days=1)
            first = last.replace(day=1)
            for _i in range(months - 1):
                first = (first - timedelta(days=1)).replace(day=1)
            return Period(first, last)
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def last_year(self) -> Period:
        last = _shift_year(self.last, -1)
        if self.last == month_end(self.last):
            last = month_end(last)
        return Period(_shift_year(self.first, -1), last)

    def __str__(self) -> str:
        return f"{self.first:%Y-%m-%d} — {self.last:%Y-%m-%d}"


# --- who sees what ---------------------------------------------------------------------------


def scope_for(actor: Staff) -> int | None:
    """None: the whole organisation; a department id: a department head's own."""
    if sees_whole_dashboard(actor):
        return None
    if may_see_dashboard(actor):
        return actor.department_id
    raise PermissionDeniedError(_("只有统计分析员、领导、督办员和部门负责人可以查看统计分析。"))


def running_preset(organization_id: int) -> Preset | None:
    policy = current_policy(organization_id)
    return policy.preset() if policy is not None else None


# --- drill-down --------------------------------------------------------------------------------


@cache
def _ledger_path() -> str:
    return reverse("cases:ledger")  # one path for every language (no language prefix in URLs)


def ledger_url(period: Period, **filters: object) -> str:
    """The ledger list behind a figure: received in the period, with the figure's filters."""
    query = {"date_from": period.first.isoformat(), "date_to": period.last.isoformat()}
    query.update({k: str(v) for k, v in filters.items() if v not in (None, "")})
    return f"{_ledger_path()}?{urlencode(query)}"


def _filter_for(axis: str, key: str) -> dict[str, object]:
    """The ledger filter of one value of a dimension ({} when the ledger has none for it)."""
    if axis in ("channel", "nature"):
        return {axis: key}
    if axis == "category":
        return {"category": key} if key not in ("", "0") else {}
    if axis == "department":
        return {"department": key} if key not in ("", "0") else {}
    if axis == "place":
        return {"q": key} if key else {}
    return {}


def dimension_labels(organization_id: int, axis: str, keys: set[str]) -> dict[str, str]:
    names: dict[str, Any]
    if axis == "channel":
        names = dict(Channel.choices)
    elif axis == "nature":
        names = dict(Nature.choices)
    elif axis == "category":
        ids = [int(k) for k in keys if k.isdigit() and k != "0"]
        names = {
            str(pk): full or name
            for pk, full, name in Category.objects.filter(organization_id=organization_id, pk__in=ids).values_list(
                "pk", "full_name", "name"
            )
        }
    elif axis == "department":
        ids = [int(k) for k in keys if k.isdigit() and k != "0"]
        names = {
            str(pk): name
            for pk, name in Department.objects.filter(organization_id=organization_id, pk__in=ids).values_list(
                "pk", "name"
            )
        }
    else:
        names = {k: k for k in keys if k}
    fallback = {"category": _("未分类"), "department": _("未派遣"), "place": _("未填写地点")}.get(axis, "—")
    return {k: str(names.get(k, fallback)) for k in keys}


# --- the dashboard ------------------------------------------------------------------------------


@dataclass
class KpiRow:
    code: str
    label: str
    definition: str
    numerator_label: str
    denominator_label: str
    current: KpiValue
    previous: KpiValue
    last_year: KpiValue
    target: str = ""


@dataclass
class LeagueRow:
    department_id: int
    name: str
    received: int
    figures: list[KpiValue]
    url: str
    rank: int | None = None
    ranked_by: KpiValue | None = None


@dataclass
class Dashboard:
    period: Period
    previous: Period
    last_year: Period
    department_id: int | None
    kpis: list[KpiRow]
    charts: dict[str, dict[str, Any]]
    league_columns: list[tuple[str, str]]
    league: list[LeagueRow]
    min_sample: int
    ranked_by: str
    ranked_by_label: str
    overdue_count: int
    warned_count: int
    overdue: list[Clock]
    warned: list[Clock]
    top: dict[str, list[dict]] = field(default_factory=dict)


def kpi_rows(
    kpis: tuple[Kpi, ...],
    organization_id: int,
    period: Period,
    *,
    department_id: int | None = None,
    exact: bool = False,
) -> list[KpiRow]:
    """Every KPI for the period, the previous one and the same one a year before (a
    quantile exact, or estimated on a large period unless ``exact``)."""
    periods = (period, period.previous(), period.last_year())
    values = [
        kpi_math.kpi_values(kpis, organization_id, p.first, p.last, department_id=department_id, exact=exact)
        for p in periods
    ]
    rows = []
    for i, kpi in enumerate(kpis):
        den = kpi.denominator
        rows.append(
            KpiRow(
                code=kpi.code,
                label=preset_label(kpi.label),
                definition=kpi_text.definition(kpi),
                numerator_label=preset_label(kpi.numerator.label),
                denominator_label=(preset_label(den.label) if den else ""),
                current=values[0][i],
                previous=values[1][i],
                last_year=values[2][i],
                target=kpi_text.target_text(kpi),
            )
        )
    return rows


def _axis_rows(organization_id: int, period: Period, axis: str, department_id: int | None, by_month: bool):
    rows = DayAxis.objects.filter(
        organization_id=organization_id,
        axis="all" if axis == "department" else axis,
        day__gte=period.first,
        day__lte=period.last,
    )
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    key = "department_id" if axis == "department" else "key"
    if by_month:
        grouped = rows.annotate(bucket=TruncMonth("day")).values("bucket", key).annotate(n=Sum("received")).order_by()
    else:
        grouped = rows.values("day", key).annotate(n=Sum("received")).order_by()
    for r in grouped:
        bucket = r["bucket"] if by_month else r["day"]
        if hasattr(bucket, "date"):
            bucket = bucket.date()
        yield bucket, str(r[key]), int(r["n"] or 0)


def _buckets(period: Period, by_month: bool) -> list[tuple[date, date]]:
    out = []
    if by_month:
        first = period.first.replace(day=1)
        while first <= period.last:
            last = month_end(first)
            out.append((max(first, period.first), min(last, period.last)))
            first = last + timedelta(days=1)
    else:
        day = period.first
        while day <= period.last:
            out.append((day, day))
            day += timedelta(days=1)
    return out


def volume_chart(
    organization_id: int, period: Period, axis: str, *, department_id: int | None = None, top: int = 10
) -> dict[str, object]:
    """Intake volume over the period by one dimension: the top values as series (the rest
    as 其他), each point with the ledger URL behind it; and the ``top`` values of the
    whole period with theirs (one read of the roll-ups for both)."""
    by_month = period.days > 62
    buckets = _buckets(period, by_month)
    index = {(b[0].replace(day=1) if by_month else b[0]): i for i, b in enumerate(buckets)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(buckets))
    for bucket, key, n in _axis_rows(organization_id, period, axis, department_id, by_month):
        i = index.get(bucket)
        if i is not None:
            counts[key][i] += n
    totals = sorted(((sum(v), k) for k, v in counts.items() if sum(v)), key=lambda t: (-t[0], t[1]))
    shown = [k for _n, k in totals[:TOP]]
    rest = [k for _n, k in totals[TOP:]]
    labels = dimension_labels(organization_id, axis, set(shown) | {k for _n, k in totals[:top]})
    scope = {"department": department_id} if department_id is not None else {}
    series = []
    for key in shown:
        series.append(
            {
                "name": labels[key],
                "data": counts[key],
                "urls": [
                    ledger_url(Period(a, b), **{**scope, **_filter_for(axis, key)})
                    if counts[key][i] and _filter_for(axis, key)
                    else ""  # no ledger filter for "none" (no category, department or place)
                    for i, (a, b) in enumerate(buckets)
                ],
            }
        )
    if rest:
        other = [sum(counts[k][i] for k in rest) for i in range(len(buckets))]
        series.append({"name": _("其他"), "data": other, "urls": [""] * len(buckets)})
    x = [f"{a:%Y-%m}" if by_month else f"{a:%m-%d}" for a, _b in buckets]
    ranked = [
        {
            "key": k,
            "name": labels[k],
            "received": n,
            "url": ledger_url(period, **{**scope, **_filter_for(axis, k)}) if _filter_for(axis, k) else "",
        }
        for n, k in totals[:top]
    ]
    return {"axis": axis, "x": x, "series": series, "by_month": by_month, "top": ranked}


def league(
    kpis: tuple[Kpi, ...], rules: EvaluationRules, organization_id: int, period: Period
) -> tuple[list[tuple[str, str]], list[LeagueRow], str]:
    """Departments with their KPIs and sample sizes; ranked by the first on-time rate
    among the league's columns that has a sample in the period (else the first column),
    and only those whose sample reaches the evaluation's minimum (``evaluation.min_sample``):
    equal figures share a rank, the rest are listed unranked."""
    by_code = {k.code: k for k in kpis}
    columns = [by_code[c] for c in LEAGUE_KPIS if c in by_code]
    sums = kpi_math.sums_by(organization_id, period.first, period.last, "department")
    names = dimension_labels(organization_id, "department", set(sums))
    rows = []
    for key, s in sums.items():
        figures = [kpi_math.kpi_value(k, s) for k in columns]
        dept = int(key)
        rows.append(
            LeagueRow(
                department_id=dept,
                name=names[key],
                received=s["received"],
                figures=figures,
                url=ledger_url(period, department=dept) if dept else "",
            )
        )
    timed = [i for i, k in enumerate(columns) if k.code in LEAGUE_RANKING]
    by = next((i for i in timed if any(row.figures[i].sample for row in rows)), timed[0] if timed else 0)
    ranked_by = columns[by].code if columns else ""
    eligible = []
    for row in rows:
        if not columns:
            continue
        row.ranked_by = row.figures[by]
        if row.ranked_by.value is not None and row.ranked_by.sample >= rules.min_sample and row.department_id:
            eligible.append(row)
    eligible.sort(key=lambda r: (-(r.ranked_by.value or 0) if r.ranked_by else 0, r.name))
    previous, rank = None, 0
    for position, row in enumerate(eligible, start=1):
        value = row.ranked_by.value if row.ranked_by else None
        if value != previous:
            rank, previous = position, value
        row.rank = rank
    rest = sorted((r for r in rows if r.rank is None), key=lambda r: (-r.received, r.name))
    return [(k.code, preset_label(k.label)) for k in columns], eligible + rest, ranked_by


def _open_clocks(organization_id: int, department_id: int | None):
    qs = Clock.objects.filter(
        organization_id=organization_id,
        state=ClockState.RUNNING,
        subject_kind__in=case_kinds(),
        case__isnull=False,
    )
    if department_id is not None:
        qs = qs.filter(case__lead_department_id=department_id)
    return qs


def dashboard(*, actor: Staff, period: Period, now=None) -> Dashboard:
    """The dashboard as ``actor`` may see it (PermissionDeniedError otherwise)."""
    department_id = scope_for(actor)
    now = now or timezone.now()
    org = actor.org_id
    with replica_reads():
        preset = running_preset(org)
        kpis = preset.kpis if preset is not None else ()
        rules = preset.evaluation if preset is not None else EvaluationRules()
        rows = kpi_rows(kpis, org, period, department_id=department_id)
        charts: dict[str, dict[str, Any]] = {
            axis: volume_chart(org, period, axis, department_id=department_id) for axis in AXES
        }
        columns, table, ranked_by = league(kpis, rules, org, period)
        if department_id is not None:
            table = [r for r in table if r.department_id == department_id]
        clocks = _open_clocks(org, department_id)
        overdue = clocks.filter(due_at__lt=now)
        warned = clocks.filter(warned_at__isnull=False, due_at__gte=now)
        related = ("case", "case__lead_department")
        result = Dashboard(
            period=period,
            previous=period.previous(),
            last_year=period.last_year(),
            department_id=department_id,
            kpis=rows,
            charts=charts,
            league_columns=columns,
            league=table,
            min_sample=rules.min_sample,
            ranked_by=ranked_by,
            ranked_by_label=dict(columns).get(ranked_by, ""),
            overdue_count=overdue.count(),
            warned_count=warned.count(),
            overdue=list(overdue.select_related(*related).order_by("due_at", "pk")[:10]),
            warned=list(warned.select_related(*related).order_by("due_at", "pk")[:10]),
            top={axis: charts[axis].pop("top") for axis in ("category", "place")},
        )
    return result


# --- periodic reports ------------------------------------------------------------------------


def reports_for(actor: Staff):
    """The organisation's reports, newest first (analysts, leaders, supervisors)."""
    if not may_see_reports(actor):
        raise PermissionDeniedError(_("只有统计分析员、领导和督办员可以查看分析报告。"))
    return Report.objects.filter(organization_id=actor.org_id).select_related("requested_by", "commentary_by")


def report_get(actor: Staff, report_id: int):
    report = reports_for(actor).filter(pk=report_id).first()
    if report is None:
        raise NotFound()
    return report
