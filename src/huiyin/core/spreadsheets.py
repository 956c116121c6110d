"""Excel rows for exports whose cells may hold what somebody typed.

openpyxl turns any string starting with "=" into a formula, so an owner's opinion such
as ``=HYPERLINK("http://…"&B2,"查看")`` would run in the reader's Excel. Huiyin writes
no formulas: every string is stored as text. And a cell cannot hold a control character
(openpyxl raises IllegalCharacterError): text stored before such input was refused at
the door is cleaned here, so an old answer never breaks the report.
"""

from __future__ import annotations

from collections.abc import Iterable

from .validators import clean_text


def append_row(sheet, values: Iterable[object]) -> None:
    sheet.append([clean_text(v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"
