"""The ledger as a spreadsheet: the filtered list, Excel (openpyxl, write-only) or CSV.

Both are generators of bytes for a ``StreamingHttpResponse`` fed by chunks of rows
(``selectors.ledger_chunks``): memory stays flat however long the list. CSV rows leave
as they are read; an Excel file is a zip that needs its end before its start, so the
write-only workbook collects its rows in a temporary file and is sent from there.

The personal columns follow the screen's masking (``core.privacy``) unless the export
is a full one, which the view allows only with the personal-data right and after
``services.party_export_log`` has logged it on every case.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from huiyin.core.spreadsheets import csv_value, write_only_row

from .models import Case, Channel, Nature, Party, Urgency
from .workflow import CaseState

BLOCK = 64 * 1024
# Excel opens a UTF-8 CSV as such only with the byte order mark.
UTF8_BOM = "\ufeff"


def _local(moment: datetime | None) -> datetime | None:
    """A naive local time: what a spreadsheet cell holds (openpyxl refuses time zones)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _party(party: Party | None, *, full: bool) -> tuple[str, str, str, str]:
    """Name, phone, ID number, address: as the ledger shows them, or in full."""
    if party is None:
        return "", "", "", ""
    if party.erased_at is not None:
        return party.display_name, "", "", ""
    if full:
        return party.name or party.display_name, party.phone, party.id_number, party.address
    return party.display_name, party.masked_phone, party.masked_id_number, party.masked_address


Column = tuple[str, Callable[[Case], object]]


def _labels(choices) -> dict[str, str]:
    """Value -> label, translated once per export (``get_FOO_display`` translates on
    every call: a third of the time of a long export)."""
    return {value: str(label) for value, label in choices}


def columns() -> list[Column]:
    """Header and value of each column except the personal ones (``_party``)."""
    channel, nature = _labels(Channel.choices), _labels(Nature.choices)
    urgency, state = _labels(Urgency.choices), _labels(CaseState.choices)
    return [
        (_("编号"), lambda c: c.number),
        (_("标题"), lambda c: c.title),
        (_("渠道"), lambda c: channel.get(c.channel, c.channel)),
        (_("性质"), lambda c: nature.get(c.nature, c.nature)),
        (_("分类"), lambda c: c.category.full_name if c.category else ""),
        (_("紧急程度"), lambda c: urgency.get(c.urgency, c.urgency)),
        (_("主办部门"), lambda c: str(c.lead_department) if c.lead_department else ""),
        (_("承办人"), lambda c: str(c.handler) if c.handler else ""),
        (_("状态"), lambda c: state.get(c.state, c.state)),
        (_("受理时间"), lambda c: _local(c.received_at)),
        (_("承诺办结时限"), lambda c: _local(c.promised_due_at)),
        (_("办结时间"), lambda c: _local(c.closed_at)),
    ]


def header() -> list[str]:
    return [label for label, _value in columns()] + [_("反映人"), _("联系电话"), _("身份证号码"), _("地址")]


def values(case: Case, cols: list[Column], *, full: bool) -> list[object]:
    return [value(case) for _label, value in cols] + list(_party(case.party, full=full))


class _Line:
    """csv.writer's file: hands back each line instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def csv_stream(chunks: Iterable[list[Case]], *, full: bool) -> Iterator[bytes]:
    writer = csv.writer(_Line())
    cols = columns()
    yield (UTF8_BOM + writer.writerow(header())).encode()
    for chunk in chunks:
        lines = []
        for case in chunk:
            row = values(case, cols, full=full)
            lines.append(writer.writerow([csv_value(_csv_time(v)) for v in row]))
        yield "".join(lines).encode()


def _csv_time(value: object) -> object:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else value


def xlsx_stream(chunks: Iterable[list[Case]], *, full: bool) -> Iterator[bytes]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("台账"))
    names = header()
    for index, width in enumerate(_widths(len(names))):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.append(write_only_row(sheet, names, font=Font(bold=True)))
    cols = columns()
    for chunk in chunks:
        for case in chunk:
            cells = write_only_row(sheet, values(case, cols, full=full))
            for cell in cells:
                if isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
            sheet.append(cells)
    with tempfile.TemporaryFile() as spool:
        book.save(spool)
        spool.seek(0)
        while block := spool.read(BLOCK):
            yield block


def _widths(count: int) -> list[int]:
    wide = {0: 16, 1: 40, 4: 24, 9: 17, 10: 17, 11: 17, 13: 16, 14: 20, 15: 30}
    return [wide.get(i, 12) for i in range(count)]
