"""The evaluation table as an Excel workbook (openpyxl): the same rows as the page.

Row 1 is the title with the period, row 2 the weights and the sample minimum, row 3
the header; one row per unit follows in the page's order. Rates are numbers (0–1)
with a percentage format, empty where there is no sample; the counts behind each rate
stand next to it. Unranked rows say 样本不足 and their sample size.
"""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from huiyin.core.spreadsheets import append_row

from .selectors import BY_STAFF, Evaluation, Row

PERCENT = "0.0%"


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


def workbook(table: Evaluation) -> bytes:
    by_staff = table.by == BY_STAFF
    book = Workbook()
    sheet = book.active
    sheet.title = _("人员考评") if by_staff else _("部门考评")
    title = (_("人员考评表") if by_staff else _("部门考评表")) + " " + period_label(table)
    names = headers(table)
    append_row(sheet, [title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(names))
    sheet["A1"].font = Font(bold=True, size=14)
    r = table.rules
    append_row(
        sheet,
        [
            _(
                "权重：按时答复率 %(a)s、回访完成率 %(b)s、满意率 %(c)s、未重办率 %(d)s；"
                "办理件数不少于 %(n)d 件参与排名。"
            )
            % {
                "a": f"{r.on_time:g}",
                "b": f"{r.callback:g}",
                "c": f"{r.satisfaction:g}",
                "d": f"{r.not_reopened:g}",
                "n": r.min_sample,
            }
        ],
    )
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(names))
    append_row(sheet, names)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for row in table.rows:
        append_row(
            sheet,
            [
                row.rank if row.ranked else _("样本不足"),
                row.name,
                *([row.department] if by_staff else []),
                row.handled,
                row.on_time.numerator,
                row.on_time.denominator,
                row.on_time.value,
                row.callback.denominator,
                row.callback.numerator,
                row.callback.value,
                row.satisfaction.numerator,
                row.satisfaction.denominator,
                row.satisfaction.value,
                row.reopen.numerator,
                row.reopen.value,
                row.deductions,
                row.score,
                remark(row, r.min_sample),
            ],
        )
    first_rate = names.index(_("按时答复率")) + 1
    for column in (first_rate, first_rate + 3, first_rate + 6, first_rate + 8):
        for (cell,) in sheet.iter_rows(min_row=4, min_col=column, max_col=column):
            cell.number_format = PERCENT
    for (cell,) in sheet.iter_rows(min_row=4, min_col=len(names) - 1, max_col=len(names) - 1):
        cell.number_format = "0.0"
    for index, name in enumerate(names, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(name) * 2 + 2)
    sheet.column_dimensions[get_column_letter(len(names))].width = 36
    sheet.freeze_panes = "C4"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
