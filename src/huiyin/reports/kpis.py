"""The preset's KPIs for a period, from the roll-ups (and, for a quantile, the case facts).

A period is a range of whole days [first, last] in the organisation's time zone. Each
measure is the sum of its counter over the period's days (``DayAxis``, axis ``all``: a
few rows per day and department, whatever the number of cases); a timed measure is the
counters of the KPI's ``on_time.stage`` (``timed`` = met or late, plus open past due when
``open_overdue: late``). A quantile is taken over the closed cases' handling times
(``CaseFact``, index on organisation, closing day and time): the nearest rank, the
smallest time at least ``q`` of the cases do not exceed. Figures by one dimension
(a league table, a statistics return) are the same sums grouped by that dimension.

Satisfaction counts the front office's feedback forms as the evaluation table does
(``frontoffice.selectors.feedback_counts``): the measures ``callbacks_rated`` and
``callbacks_satisfied`` add the visitors' forms entered in the period and the guest
receptions' feedback recorded at their closing, in the organisation's total and by
department (the host's, the hosting department); a form has no channel, category or place,
so figures by those dimensions count callbacks only (``FEEDBACK_MEASURES``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils.translation import gettext as _

from huiyin.core.periods import day_start
from huiyin.frontoffice.selectors import BY_DEPARTMENT, BY_STAFF, feedback_counts
from huiyin.policy import kpi_text
from huiyin.policy.presets import MEASURES, Kpi, KpiTerm

from .models import COUNTERS, HANDLING_BOUNDS_H, HISTOGRAM, CaseFact, DayAxis

Sums = Mapping[str, int]
# The measures the front office's feedback forms count in (rated, satisfied).
FEEDBACK_MEASURES = kpi_text.FEEDBACK_MEASURES


@dataclass(frozen=True)
class KpiValue:
    """One KPI over one period: the figure, its numerator and denominator as counted,
    and the words that define it."""

    code: str
    label: str
    formula: str
    unit: str
    numerator: float  # a count, or seconds (mean)
    denominator: float | None  # a count, a constant, or None (count, quantile: the sample)
    value: float | None  # ratio 0–1, a count, or hours / days; None without a sample
    sample: int  # cases the figure rests on
    target_met: bool | None
    estimated: bool = False  # a quantile estimated from the histogram (shown with 约)

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.estimated:
            return _("约 %(value).1f") % {"value": self.value}
        if self.unit == "percent":
            return f"{self.value * 100:.1f}%"
        if self.unit == "count":
            return f"{int(self.value)}"
        return f"{self.value:.1f}"

    @property
    def unit_label(self) -> str:
        return {"percent": "", "count": _("件"), "hours": _("小时"), "days": _("天")}[self.unit]


def period_sums(organization_id: int, first: date, last: date, *, department_id: int | None = None) -> dict[str, int]:
    """Every counter summed over the days [first, last] (one department's, or all)."""
    rows = DayAxis.objects.filter(organization_id=organization_id, axis="all", day__gte=first, day__lte=last)
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    totals = rows.aggregate(**{c: Sum(c) for c in COUNTERS})
    sums = {c: int(totals[c] or 0) for c in COUNTERS}
    forms = _feedback(organization_id, first, last, BY_STAFF if department_id is None else BY_DEPARTMENT)
    units = forms.values() if department_id is None else [f for u, f in forms.items() if u == department_id]
    for form in units:
        sums[FEEDBACK_MEASURES[0]] += form.rated
        sums[FEEDBACK_MEASURES[1]] += form.satisfied
    return sums


def _feedback(organization_id: int, first: date, last: date, by: str):
    """The front office's feedback forms of the days [first, last], per host (every form has
    one: the organisation's total) or per department."""
    return feedback_counts(organization_id, day_start(first), day_start(last + timedelta(days=1)), by)


def sums_by(
    organization_id: int,
    first: date,
    last: date,
    axis: str,
    *,
    department_id: int | None = None,
) -> dict[str, dict[str, int]]:
    """Every counter over [first, last] by the values of one dimension (``department``:
    by department id, as text)."""
    rows = DayAxis.objects.filter(
        organization_id=organization_id, axis="all" if axis == "department" else axis, day__gte=first, day__lte=last
    )
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    group = "department_id" if axis == "department" else "key"
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows.values(group).annotate(**{c: Sum(c) for c in COUNTERS}).order_by():
        out[str(r[group])] = {c: int(r[c] or 0) for c in COUNTERS}
    if axis == "department":
        for unit, form in _feedback(organization_id, first, last, BY_DEPARTMENT).items():
            if department_id is not None and unit != department_id:
                continue
            row = out[str(unit)] or dict.fromkeys(COUNTERS, 0)
            row[FEEDBACK_MEASURES[0]] += form.rated
            row[FEEDBACK_MEASURES[1]] += form.satisfied
            out[str(unit)] = row
    return out


def measure(sums: Sums, term: KpiTerm, kpi: Kpi) -> int:
    """One term's figure from the counters (a constant as stated)."""
    if term.constant:
        return term.constant
    if MEASURES[term.measure].timed:
        assert kpi.on_time is not None  # the preset validator requires it
        stage = kpi.on_time.stage
        if term.measure == "on_time":
            return sums.get(f"{stage}_on_time", 0)
        late = sums.get(f"{stage}_overdue", 0) if kpi.on_time.open_overdue == "late" else 0
        return sums.get(f"{stage}_done", 0) + late
    return sums.get(term.measure, 0)


def handling_quantile(
    organization_id: int,
    first: date,
    last: date,
    q: float,
    *,
    department_id: int | None = None,
    sums: Sums | None = None,
    exact: bool = False,
) -> tuple[int | None, int, bool]:
    """(the ``q`` quantile of the handling seconds of the cases closed on [first, last], how
    many there are, whether it is an estimate); (None, 0, False) without any.

    Exact — the nearest rank, read in order from the case facts' index — when ``exact`` or
    when the period holds at most ``HUIYIN_REPORTS_EXACT_QUANTILE_MAX`` closed cases;
    otherwise estimated from the roll-ups' histogram of handling times (``hist_NN``): the
    bucket holding the rank, linearly within it (the dashboard at millions of cases)."""
    if sums is None:
        sums = period_sums(organization_id, first, last, department_id=department_id)
    n = int(sums.get("closed", 0))
    if not n:
        return None, 0, False
    rank = max(1, math.ceil(q * n))
    if exact or n <= int(getattr(settings, "HUIYIN_REPORTS_EXACT_QUANTILE_MAX", 200_000)):
        rows = CaseFact.objects.filter(
            organization_id=organization_id,
            closed_day__gte=first,
            closed_day__lte=last,
            handling_seconds__isnull=False,
        )
        if department_id is not None:
            rows = rows.filter(department_id=department_id)
        found = list(rows.order_by("handling_seconds").values_list("handling_seconds", flat=True)[rank - 1 : rank])
        if found:
            return int(found[0] or 0), n, False
    below = 0
    bounds = [0, *(h * 3600 for h in HANDLING_BOUNDS_H)]
    for i, name in enumerate(HISTOGRAM):
        count = int(sums.get(name, 0))
        if below + count >= rank and count:
            low = bounds[i]
            high = bounds[i + 1] if i + 1 < len(bounds) else low
            return int(low + (high - low) * (rank - below) / count), n, True
        below += count
    return None, n, True


def _scale(seconds: float, unit: str) -> float:
    return seconds / (86400 if unit == "days" else 3600)


def kpi_value(
    kpi: Kpi,
    sums: Sums,
    *,
    organization_id: int | None = None,
    first: date | None = None,
    last: date | None = None,
    department_id: int | None = None,
    exact: bool = False,
) -> KpiValue:
    """The KPI from the period's counters (a quantile also reads the case facts of the
    period: pass the organisation and the days)."""
    num = measure(sums, kpi.numerator, kpi)
    den = measure(sums, kpi.denominator, kpi) if kpi.denominator is not None else None
    value: float | None
    sample = num
    estimated = False
    if kpi.formula == "ratio":
        assert den is not None
        value = num / den if den else None
        sample = den if not (kpi.denominator and kpi.denominator.constant) else num
    elif kpi.formula == "count":
        value = float(num)
    elif kpi.formula == "mean":
        assert den is not None
        value = _scale(num / den, kpi.unit) if den else None
        sample = den
    else:
        assert organization_id is not None and first is not None and last is not None
        seconds, sample, estimated = handling_quantile(
            organization_id, first, last, kpi.q, department_id=department_id, sums=sums, exact=exact
        )
        num, den = (seconds or 0), None
        value = _scale(seconds, kpi.unit) if seconds is not None else None
    return KpiValue(
        code=kpi.code,
        label=kpi.label,
        formula=kpi.formula,
        unit=kpi.unit,
        numerator=num,
        denominator=den,
        value=value,
        sample=sample,
        target_met=kpi_text.target_met(kpi, value),
        estimated=estimated,
    )


def kpi_values(
    kpis: Iterable[Kpi],
    organization_id: int,
    first: date,
    last: date,
    *,
    department_id: int | None = None,
    sums: Sums | None = None,
    exact: bool = False,
) -> list[KpiValue]:
    """Every KPI for the period (one read of the roll-ups, one more per exact quantile)."""
    if sums is None:
        sums = period_sums(organization_id, first, last, department_id=department_id)
    return [
        kpi_value(
            kpi, sums, organization_id=organization_id, first=first, last=last, department_id=department_id, exact=exact
        )
        for kpi in kpis
    ]
