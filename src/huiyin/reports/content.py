"""What a periodic report holds, computed once when it is generated and kept with it
(``Report.data``, plain JSON), so that the Excel and PDF files, the page and a later
reading all show the same figures the analyst commented on.

* ``kpis`` — every KPI of the running preset for the period, the previous period and the
  same period a year before, with numerator, denominator and definition;
* ``trend`` — matters received and closed by day (a month) or by month (longer);
* ``tables`` — the preset's statistics-return columns by channel, nature, category,
  department and place;
* ``recurring`` — F53: the categories, places and departments that keep coming back
  (see ``recurring_problems``), each with the corrective actions taken on its cases;
* ``return`` — for a statistics return, the preset's layout (``statistics_return``):
  one table per dimension with its columns and a total row.

A figure is stored with its number (``value``: a fraction for a rate, hours for a time),
its numerator and denominator and the text the page shows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiyin.core.periods import period_of
from huiyin.core.replica import replica_reads
from huiyin.followup.models import RectificationTask, TaskStatus
from huiyin.handling.models import PlanVerdict, Rectification
from huiyin.policy.presets import Kpi, Preset

from . import kpis as kpi_math
from .models import CaseFact, DayAxis, ReportKind
from .selectors import Period, dimension_labels, kpi_rows, month_end

DIMENSIONS = (
    ("channel", gettext_lazy("按渠道（形式）")),
    ("nature", gettext_lazy("按性质")),
    ("category", gettext_lazy("按分类（类别）")),
    ("department", gettext_lazy("按部门（责任单位）")),
    ("place", gettext_lazy("按地点（属地）")),
)
DEFAULT_COLUMNS = ("intake_volume", "acceptance_rate", "closure_rate", "closure_on_time_rate", "satisfaction_rate")
TABLE_ROWS = 30  # the largest values of a dimension; the rest are added up as 其他
RECURRING_MONTHS = {"month": 6, "quarter": 6, "half_year": 6, "year": 12}
RECURRING_MIN_CASES = 2  # a month counts when the value had at least this many matters
RECURRING_TOP = 10
ACTIONS_SHOWN = 5

Progress = Callable[[int, str], None]


def report_period(kind: str, on: date, preset: Preset | None) -> Period:
    """The calendar period a report of ``kind`` covers around ``on`` (a statistics return:
    the preset's ``statistics_return.every``)."""
    every = kind
    if kind == ReportKind.RETURN:
        every = preset.statistics_return.every if preset and preset.statistics_return else "month"
    first, end = period_of(every, on)
    return Period(first, end - timedelta(days=1))


def _figure(v: kpi_math.KpiValue) -> dict[str, Any]:
    return {
        "value": v.value,
        "numerator": v.numerator,
        "denominator": v.denominator,
        "sample": v.sample,
        "display": v.display,
        "unit": v.unit,
        "target_met": v.target_met,
        "estimated": v.estimated,
    }


def _kpis(preset: Preset | None, org: int, period: Period) -> list[dict[str, Any]]:
    if preset is None:
        return []
    return [
        {
            "code": row.code,
            "label": row.label,
            "definition": row.definition,
            "numerator_label": row.numerator_label,
            "denominator_label": row.denominator_label,
            "target": row.target,
            "formula": row.current.formula,
            "current": _figure(row.current),
            "previous": _figure(row.previous),
            "last_year": _figure(row.last_year),
        }
        for row in kpi_rows(preset.kpis, org, period, exact=True)
    ]


def _trend(org: int, period: Period) -> dict[str, Any]:
    by_month = period.days > 62
    rows = DayAxis.objects.filter(organization_id=org, axis="all", day__gte=period.first, day__lte=period.last)
    grouped: Any = (
        rows.annotate(bucket=TruncMonth("day")).values("bucket") if by_month else rows.values(bucket=F("day"))
    )
    totals = {
        (r["bucket"].date() if hasattr(r["bucket"], "date") else r["bucket"]): (r["received"] or 0, r["closed"] or 0)
        for r in grouped.annotate(received=Sum("received"), closed=Sum("closed")).order_by()
    }
    x, received, closed = [], [], []
    day = period.first.replace(day=1) if by_month else period.first
    while day <= period.last:
        r, c = totals.get(day, (0, 0))
        x.append(f"{day:%Y-%m}" if by_month else f"{day:%m-%d}")
        received.append(int(r))
        closed.append(int(c))
        day = month_end(day) + timedelta(days=1) if by_month else day + timedelta(days=1)
    return {"by_month": by_month, "x": x, "received": received, "closed": closed}


def _columns(preset: Preset | None) -> list[Kpi]:
    if preset is None:
        return []
    by_code = {k.code: k for k in preset.kpis}
    codes = preset.statistics_return.columns if preset.statistics_return else DEFAULT_COLUMNS
    return [by_code[c] for c in codes if c in by_code and by_code[c].formula != "quantile"]


def dimension_table(
    org: int, period: Period, axis: str, columns: list[Kpi], *, limit: int | None = TABLE_ROWS
) -> dict[str, Any]:
    """The columns' figures by the values of one dimension, largest intake first, and the
    total row (the whole organisation's figures)."""
    sums = kpi_math.sums_by(org, period.first, period.last, axis)
    order = sorted(sums, key=lambda k: (-sums[k]["received"], k))
    shown = order if limit is None else order[:limit]
    rest = [] if limit is None else order[limit:]
    labels = dimension_labels(org, axis, set(shown))
    rows = [
        {"key": k, "name": labels[k], "figures": [_figure(kpi_math.kpi_value(c, sums[k])) for c in columns]}
        for k in shown
    ]
    if rest:
        other: dict[str, int] = defaultdict(int)
        for k in rest:
            for name, n in sums[k].items():
                other[name] += n
        rows.append({"key": "", "name": _("其他"), "figures": [_figure(kpi_math.kpi_value(c, other)) for c in columns]})
    total = kpi_math.period_sums(org, period.first, period.last)
    return {
        "axis": axis,
        "columns": [{"code": c.code, "label": c.label, "unit": c.unit} for c in columns],
        "rows": rows,
        "total": [_figure(kpi_math.kpi_value(c, total)) for c in columns],
    }


def _months(last: date, count: int) -> list[tuple[date, date]]:
    months = []
    first = last.replace(day=1)
    for _i in range(count):
        months.append((first, month_end(first)))
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def recurring_problems(org: int, period: Period, kind: str) -> dict[str, Any]:
    """F53: the values of category, place and department that come back month after month.

    The window is the months up to the period's last (six for a monthly, quarterly or
    half-year report, twelve for an annual one); a month counts for a value when it had at
    least ``RECURRING_MIN_CASES`` matters; a value recurs when it counts in at least half
    the window's months (and two). Ranked by the months it counts in, then its matters.
    Each comes with the corrective actions taken on its cases in the window: rectification
    notices to the responsible unit (整改通知) and the problems found at callbacks
    (回访整改), how many and the latest."""
    months = _months(period.last, RECURRING_MONTHS.get(kind, 6))
    window = Period(months[0][0], months[-1][1])
    needed = max(2, math.ceil(len(months) / 2))
    out: dict[str, Any] = {
        "months": [f"{a:%Y-%m}" for a, _b in months],
        "needed": needed,
        "min_cases": RECURRING_MIN_CASES,
    }
    for axis in ("category", "place", "department"):
        rows = DayAxis.objects.filter(
            organization_id=org,
            axis="all" if axis == "department" else axis,
            day__gte=window.first,
            day__lte=window.last,
        )
        key = "department_id" if axis == "department" else "key"
        counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
        index = {a: i for i, (a, _b) in enumerate(months)}
        for r in rows.annotate(month=TruncMonth("day")).values("month", key).annotate(n=Sum("received")).order_by():
            month = r["month"].date() if hasattr(r["month"], "date") else r["month"]
            counts[str(r[key])][index[month]] += int(r["n"] or 0)
        found = []
        for value, per_month in counts.items():
            if value in ("", "0"):
                continue
            present = sum(1 for n in per_month if n >= RECURRING_MIN_CASES)
            if present >= needed:
                found.append((present, sum(per_month), value, per_month))
        found.sort(key=lambda t: (-t[0], -t[1], t[2]))
        found = found[:RECURRING_TOP]
        labels = dimension_labels(org, axis, {t[2] for t in found})
        out[axis] = [
            {
                "key": value,
                "name": labels[value],
                "months_present": present,
                "total": total,
                "per_month": per_month,
                "actions": corrective_actions(org, window, axis, value),
            }
            for present, total, value, per_month in found
        ]
    return out


def corrective_actions(org: int, window: Period, axis: str, value: str) -> dict[str, Any]:
    """The rectification notices and callback rectification tasks of the value's cases in
    the window (the cases through the case facts' index on the dimension)."""
    facts = CaseFact.objects.filter(organization_id=org, received_day__gte=window.first, received_day__lte=window.last)
    if axis == "category":
        facts = facts.filter(category_id=int(value))
    elif axis == "department":
        facts = facts.filter(department_id=int(value))
    else:
        facts = facts.filter(place=value)
    case_ids = facts.values("case_id")
    notices = Rectification.objects.filter(case_id__in=case_ids).select_related("case")
    tasks = RectificationTask.objects.filter(case_id__in=case_ids).select_related("case")
    items = []
    for n in notices.order_by("-notified_at")[:ACTIONS_SHOWN]:
        status = (
            _("方案可行")
            if n.verdict == PlanVerdict.ACCEPTED
            else _("已报送方案")
            if n.plan_received_at
            else _("待报送方案")
        )
        items.append(
            {
                "date": timezone.localtime(n.notified_at).date().isoformat(),
                "kind": _("整改通知"),
                "case": n.case.number,
                "unit": n.unit,
                "text": (n.plan_text or n.requirements)[:200],
                "status": str(status),
            }
        )
    for t in tasks.order_by("-created_at")[:ACTIONS_SHOWN]:
        items.append(
            {
                "date": timezone.localtime(t.created_at).date().isoformat(),
                "kind": _("回访整改"),
                "case": t.case.number,
                "unit": "",
                "text": (t.done_note or t.problem)[:200],
                "status": str(_("已整改") if t.status == TaskStatus.DONE else _("待整改")),
            }
        )
    items.sort(key=lambda i: i["date"], reverse=True)
    return {
        "notices": notices.count(),
        "tasks": tasks.count(),
        "tasks_done": tasks.filter(status=TaskStatus.DONE).count(),
        "latest": items[:ACTIONS_SHOWN],
    }


def statistics_return(org: int, period: Period, preset: Preset | None) -> dict[str, Any] | None:
    """The preset's statistics return: each section's dimension with every value (no 其他)."""
    if preset is None or preset.statistics_return is None:
        return None
    layout = preset.statistics_return
    by_code = {k.code: k for k in preset.kpis}
    columns = [by_code[c] for c in layout.columns]
    return {
        "title": layout.title,
        "report_to": layout.report_to,
        "sections": [
            {"label": section.label, **dimension_table(org, period, section.by, columns, limit=None)}
            for section in layout.sections
        ],
    }


def build(
    *, organization_id: int, org_name: str, kind: str, period: Period, preset: Preset | None, progress: Progress
) -> dict[str, Any]:
    """The report's content (see the module docstring); ``progress(percent, step)`` after each part."""
    with replica_reads():
        data: dict[str, Any] = {
            "org": org_name,
            "kind": kind,
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
            "previous": [period.previous().first.isoformat(), period.previous().last.isoformat()],
            "last_year": [period.last_year().first.isoformat(), period.last_year().last.isoformat()],
            "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        }
        progress(10, _("计算关键指标"))
        data["kpis"] = _kpis(preset, organization_id, period)
        progress(30, _("统计受理趋势"))
        data["trend"] = _trend(organization_id, period)
        columns = _columns(preset)
        tables = []
        for i, (axis, title) in enumerate(DIMENSIONS):
            progress(40 + i * 8, _("分类统计"))
            tables.append({"title": str(title), **dimension_table(organization_id, period, axis, columns)})
        data["tables"] = tables
        progress(85, _("分析反复出现的问题"))
        data["recurring"] = recurring_problems(organization_id, period, kind)
        if kind == ReportKind.RETURN:
            progress(92, _("生成上报统计表"))
            data["return"] = statistics_return(organization_id, period, preset)
    return data
