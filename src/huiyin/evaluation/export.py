"""The evaluation table as a spreadsheet (Excel or CSV, written by ``core.exports`` as
every list's export is): the same rows as the page.

In Excel, row 1 is the title with the period, row 2 the weights and the sample minimum,
row 3 the header; one row per unit follows in the page's order. Rates are numbers (0–1)
with a percentage format, empty where there is no sample; the counts behind each rate
stand next to it. Unranked rows say 样本不足 and their sample size.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.core.errors import PermissionDeniedError
from huiyin.core.exports import Column, Listing
from huiyin.core.forms import form_refusal
from huiyin.orgs.models import Staff

from .forms import PeriodForm
from .selectors import BY_STAFF, Evaluation, Row, evaluation_for, scope_for

if TYPE_CHECKING:
    from django.http import QueryDict

PERCENT, SCORE, COUNT = "0.0%", "0.0", ""


def period_label(table: Evaluation) -> str:
    first = timezone.localtime(table.start).date()
    last = timezone.localtime(table.end).date() - timedelta(days=1)
    return _("%(start)s 至 %(end)s") % {"start": f"{first:%Y-%m-%d}", "end": f"{last:%Y-%m-%d}"}


def remark(row: Row, min_sample: int) -> str:
    if row.ranked:
        return ""
    return _("样本不足（%(n)d 件，不足 %(min)d 件，不排名）") % {"n": row.handled, "min": min_sample}


def headers(table: Evaluation) -> list[str]:
    by_staff = table.by == BY_STAFF
    return [
        _("排名"),
        _("姓名") if by_staff else _("部门"),
        *([_("所属部门")] if by_staff else []),
        _("办理件数"),
        _("按时件数"),
        _("有时限件数"),
        _("按时答复率"),
        _("应回访件数"),
        _("已完成回访"),
        _("回访完成率"),
        _("满意件数"),
        _("满意度评价件数"),
        _("满意率"),
        _("重办件数"),
        _("重办率"),
        _("扣分"),
        _("综合得分"),
        _("备注"),
    ]


def _weights(table: Evaluation) -> str:
    r = table.rules
    return _(
        "权重：按时答复率 %(a)s、回访完成率 %(b)s、满意率 %(c)s、未重办率 %(d)s；办理件数不少于 %(n)d 件参与排名。"
    ) % {
        "a": f"{r.on_time:g}",
        "b": f"{r.callback:g}",
        "c": f"{r.satisfaction:g}",
        "d": f"{r.not_reopened:g}",
        "n": r.min_sample,
    }


def listing_of(table: Evaluation) -> Listing:
    """The table as ``core.exports`` writes it: in Excel the title with the period and the
    weights above the header, rates as fractions with a percentage format (empty where
    there is no sample), the score with one decimal; the CSV is the header and rows."""
    by_staff = table.by == BY_STAFF
    names = headers(table)
    min_sample = table.rules.min_sample

    def width(name: str) -> int:
        return max(10, len(name) * 2 + 2)

    readers: list[tuple[Callable[[Row], object], str]] = [
        (lambda r: r.rank if r.ranked else _("样本不足"), ""),
        (lambda r: r.name, ""),
        *([(lambda r: r.department, "")] if by_staff else []),
        (lambda r: r.handled, COUNT),
        (lambda r: r.on_time.numerator, COUNT),
        (lambda r: r.on_time.denominator, COUNT),
        (lambda r: r.on_time.value, PERCENT),
        (lambda r: r.callback.denominator, COUNT),
        (lambda r: r.callback.numerator, COUNT),
        (lambda r: r.callback.value, PERCENT),
        (lambda r: r.satisfaction.numerator, COUNT),
        (lambda r: r.satisfaction.denominator, COUNT),
        (lambda r: r.satisfaction.value, PERCENT),
        (lambda r: r.reopen.numerator, COUNT),
        (lambda r: r.reopen.value, PERCENT),
        (lambda r: r.deductions, COUNT),
        (lambda r: r.score, SCORE),
        (lambda r: remark(r, min_sample), ""),
    ]
    columns = [
        Column(name, read, width(name), number_format)
        for name, (read, number_format) in zip(names, readers, strict=True)
    ]
    columns[-1] = Column(names[-1], readers[-1][0], 36)
    first = timezone.localtime(table.start).date()
    last = timezone.localtime(table.end).date() - timedelta(days=1)
    return Listing(
        title=_("人员考评") if by_staff else _("部门考评"),
        stem=f"evaluation-{table.by}-{first:%Y%m%d}-{last:%Y%m%d}",
        stamped=False,
        columns=columns,
        chunks=lambda: [table.rows],
        count=lambda cap: len(table.rows),
        preamble=((_("人员考评表") if by_staff else _("部门考评表")) + " " + period_label(table), _weights(table)),
        freeze="C4",
    )


def evaluation_listing(actor: Staff, query: QueryDict, full: bool) -> Listing:
    """The evaluation table as ``actor`` may see it (a department head: their own
    department), for the period and unit the query names; it holds no complainant's data,
    so there is no full export."""
    scope_for(actor)  # 403 before anything else
    if full:
        raise PermissionDeniedError(_("考评表不含个人信息，没有完整导出。"))
    form = PeriodForm(query, today=timezone.localdate())
    refusal = form_refusal(form)
    if refusal is not None:
        raise refusal
    start, end = form.period()
    return listing_of(evaluation_for(actor=actor, start=start, end=end, by=form.cleaned_data["by"]))
