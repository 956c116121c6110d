"""Excel rows for exports whose cells may hold what somebody typed.

openpyxl turns any string starting with "=" into a formula, so an owner's opinion such
as ``=HYPERLINK("http://…"&B2,"查看")`` would run in the reader's Excel. Huiyin writes
no formulas: every string is stored as text. And a cell cannot hold a control character
(openpyxl raises IllegalCharacterError): text stored before such input was refused at
the door is cleaned here, so an old answer never breaks the report.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell import WriteOnlyCell

from .validators import clean_text


def append_row(sheet, values: Iterable[object]) -> None:
    sheet.append([clean_text(v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


def write_only_row(sheet, values: Iterable[object], *, font=None) -> list:
    """A row for a write-only worksheet (``Workbook(write_only=True)``: rows go to a
    temporary file as they come, so memory stays flat however long the list): the same
    rule, every string stored as text, control characters removed."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=clean_text(value) if isinstance(value, str) else value)
        if cell.data_type == "f":
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


# What a spreadsheet program reads as the start of a formula in a CSV cell.
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: object) -> str:
    """A CSV cell: text with control characters removed, and a leading apostrophe before
    what Excel would run as a formula (``=HYPERLINK(...)`` typed into a title), as OWASP
    advises for CSV exports."""
    text = clean_text(value) if isinstance(value, str) else ("" if value is None else str(value))
    return "'" + text if text.startswith(_CSV_FORMULA_START) else text
