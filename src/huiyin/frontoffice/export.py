"""The reception cost report as an Excel workbook (openpyxl), as the page shows it.

Sheet 1 (按部门): row 1 the title with the period, row 2 the header, one row per hosting
department, then the total. Amounts are numbers in yuan with two decimals (``#,##0.00``),
the share of the budget used a percentage. Sheet 2 (按费用项目): the money spent per item
and department. Strings are written as text, never formulas (``core.spreadsheets``).
"""

from __future__ import annotations

from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from huiyin.core.spreadsheets import append_row

from .models import BudgetItem
from .money import ZERO
from .selectors import CostReport, CostRow

MONEY_FORMAT = "#,##0.00"
PERCENT = "0.0%"


def period_text(report: CostReport) -> str:
    return _("%(start)s 至 %(end)s") % {"start": report.start.isoformat(), "end": report.end.isoformat()}


def headers() -> list[str]:
    return [
        _("接待部门"),
        _("接待次数"),
        _("申请预算"),
        _("批准预算"),
        _("超预算报批"),
        _("超预算报批次数"),
        _("可用预算"),
        _("实际支出"),
        _("已报销"),
        _("预算结余"),
        _("预算使用率"),
    ]


def _values(row: CostRow) -> list[object]:
    return [
        row.name,
        row.receptions,
        row.requested,
        row.approved,
        row.increases,
        row.overruns,
        row.budget,
        row.spent,
        row.reimbursed,
        row.balance,
        row.used,
    ]


def _title(sheet, text: str, width: int) -> None:
    append_row(sheet, [text])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)


def _header(sheet, names: list[str]) -> None:
    append_row(sheet, names)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for index, name in enumerate(names, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(name) * 2 + 4)


def workbook(report: CostReport) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("按部门")
    names = headers()
    _title(sheet, _("接待费用报表（对照预算）") + " " + period_text(report), len(names))
    _header(sheet, names)
    for row in [*report.rows, report.total]:
        append_row(sheet, _values(row))
    last = sheet.max_row
    for cell in sheet[last]:
        cell.font = Font(bold=True)
    for column in (3, 4, 5, 7, 8, 9, 10):
        for (cell,) in sheet.iter_rows(min_row=3, max_row=last, min_col=column, max_col=column):
            cell.number_format = MONEY_FORMAT
    for (cell,) in sheet.iter_rows(min_row=3, max_row=last, min_col=11, max_col=11):
        cell.number_format = PERCENT
    sheet.freeze_panes = "B3"

    items = book.create_sheet(_("按费用项目"))
    item_names = [_("接待部门"), *[str(label) for _code, label in BudgetItem.choices], _("合计")]
    _title(items, _("接待费用按项目") + " " + period_text(report), len(item_names))
    _header(items, item_names)
    for row in [*report.rows, report.total]:
        append_row(items, [row.name, *[row.by_item.get(code, ZERO) for code in BudgetItem.values], row.spent])
    for cell in items[items.max_row]:
        cell.font = Font(bold=True)
    for row_cells in items.iter_rows(min_row=3, min_col=2, max_col=len(item_names)):
        for cell in row_cells:
            cell.number_format = MONEY_FORMAT
    out = BytesIO()
    book.save(out)
    return out.getvalue()
