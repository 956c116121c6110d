"""Any list as a spreadsheet: CSV or Excel, written from chunks of rows with flat memory.

Every list that exports — the ledger, the desk, the supervision board, the callback desk,
the evaluation table — describes itself as a ``Listing``: its columns (a header and how
to read a cell from a row) and its rows, chunk by chunk. The writers here hold one
chunk at a time however long the list. CSV lines leave as they are read; an Excel file
is a zip that needs its end before its start, so the write-only workbook keeps its rows
in a temporary file and the finished file is sent (or stored) from there.

Cells are written as the screen shows them: every string is text (a typed
``=HYPERLINK(…)`` never becomes a formula, ``core.spreadsheets``), times are local, a
number keeps its number format in Excel. Personal data is whatever the list's columns
give: each list masks as its screen does and gives a full value only in a full export,
which its source allows to those with the personal-data right and logs before the first
row (``Listing.before_rows``).

Each list registers a *source* under a name (``register``, from its app's ``ready``): a
function of the person, the list's query (its filters) and whether the export is full,
returning the ``Listing`` — refusing with ``PermissionDeniedError`` whoever may not see
the list, and with ``ValidationFailed`` a bad filter. The source is the list's screen's
rule, so the export's permissions are the screen's. The same source serves the export
streamed in the response (``respond``: up to ``HUIYIN_EXPORT_INLINE_ROWS`` rows) and the
export written by a background task with its progress shown (``core.export_jobs``).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .errors import NotFound
from .spreadsheets import csv_value, write_only_row
from .validators import clean_text

if TYPE_CHECKING:
    from django.http import QueryDict

    from huiyin.orgs.models import Staff

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BLOCK = 64 * 1024
# Excel opens a UTF-8 CSV as such only with the byte order mark.
UTF8_BOM = "\ufeff"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Column:
    """One column: its header, how to read its cell from a row, its width in Excel and
    (for numbers) Excel's number format."""

    header: str
    value: Callable[[Any], object]
    width: int = 12
    number_format: str = ""


@dataclass
class Listing:
    """One list ready to write, for one person and one set of filters.

    ``chunks()`` gives the rows a chunk at a time (each chunk one or two queries);
    ``count(cap)`` how many rows there are, exactly up to ``cap`` (above it, any number
    over ``cap`` — an estimate where the list has one); ``before_rows(fmt)`` what must
    happen before the first row is written (a full export logs every case as a full
    view). ``title`` names the sheet and ``stem`` the file; ``preamble`` is lines above
    the header (Excel only: a CSV is its header and rows), ``freeze`` the cell Excel's
    panes freeze at (default: below the header)."""

    title: str
    stem: str
    columns: Sequence[Column]
    chunks: Callable[[], Iterable[Sequence[Any]]]
    count: Callable[[int], int]
    full: bool = False
    stamped: bool = True  # the file's name carries the time of the export
    preamble: Sequence[str] = ()
    freeze: str = ""
    before_rows: Callable[[str], object] | None = None
    page_url: str = ""  # the list's page with the same filters (the way back from an export's page)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def filename(self, fmt: str) -> str:
        stamp = timezone.localtime().strftime("-%Y%m%d-%H%M") if self.stamped else ""
        return f"{self.stem}{stamp}{'-full' if self.full else ''}.{fmt}"


Progress = Callable[[int], object]


def _plain(value: object) -> object:
    """A cell's value: a local, naive time (spreadsheets know no time zones), a translated
    text, or the value itself."""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, Promise):
        return str(value)
    return value


def rows(listing: Listing, progress: Progress | None = None) -> Iterator[list[list[object]]]:
    """The listing's cell values, a chunk of rows at a time; ``progress`` hears how many
    rows are done after each chunk."""
    readers = [c.value for c in listing.columns]
    done = 0
    for chunk in listing.chunks():
        values = [[_plain(read(row)) for read in readers] for row in chunk]
        yield values
        done += len(values)
        if progress is not None:
            progress(done)


# --- CSV ------------------------------------------------------------------------------------------


class _Line:
    """csv.writer's file: hands back each line instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def _csv_cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return csv_value(value)


def csv_blocks(listing: Listing, progress: Progress | None = None) -> Iterator[bytes]:
    """The CSV as bytes: the header (after the byte order mark), then one block per chunk."""
    writer = csv.writer(_Line())
    yield (UTF8_BOM + writer.writerow([csv_value(h) for h in listing.headers])).encode()
    for chunk in rows(listing, progress):
        yield "".join(writer.writerow([_csv_cell(v) for v in row]) for row in chunk).encode()


# --- Excel ----------------------------------------------------------------------------------------


def _excel_row(sheet, row: list[object], formats: list[str]) -> list[object]:
    """A row for the write-only sheet: plain values where openpyxl stores them as they
    are, a cell with its number format for times and formatted numbers, and a text cell
    for a string openpyxl would take for a formula."""
    out: list[object] = []
    for value, number_format in zip(row, formats, strict=True):
        if isinstance(value, str):
            text = clean_text(value)
            if text.startswith("="):
                cell = WriteOnlyCell(sheet, value=text)
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(text)
        elif isinstance(value, datetime | date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
            out.append(cell)
        elif number_format and (value is None or isinstance(value, int | float)) and not isinstance(value, bool):
            cell = WriteOnlyCell(sheet, value=value)  # an empty cell keeps the column's format too
            cell.number_format = number_format
            out.append(cell)
        else:
            out.append(value)
    return out


def xlsx_write(listing: Listing, out: IO[bytes], progress: Progress | None = None) -> None:
    """The Excel file into ``out``: the preamble lines (the first in large bold type, each
    across the table), the header in bold, then the rows; widths, number formats and
    frozen panes set."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=listing.title[:31])
    columns = listing.columns
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    last = get_column_letter(max(1, len(columns)))
    header_row = len(listing.preamble) + 1
    # Before the first row: a write-only sheet writes its view (the frozen panes) as it starts.
    sheet.freeze_panes = listing.freeze or f"A{header_row + 1}"
    for line_number, line in enumerate(listing.preamble, start=1):
        font = Font(bold=True, size=14) if line_number == 1 else None
        sheet.append(write_only_row(sheet, [line], font=font))
        if len(columns) > 1:
            sheet.merged_cells.add(f"A{line_number}:{last}{line_number}")
    header = write_only_row(sheet, listing.headers, font=Font(bold=True))
    for cell in header:
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.append(header)
    formats = [c.number_format for c in columns]
    for chunk in rows(listing, progress):
        for row in chunk:
            sheet.append(_excel_row(sheet, row, formats))
    book.save(out)


def xlsx_blocks(listing: Listing, progress: Progress | None = None) -> Iterator[bytes]:
    """The Excel file as bytes, from a temporary file once it is whole."""
    with tempfile.TemporaryFile() as spool:
        xlsx_write(listing, spool, progress)
        spool.seek(0)
        while block := spool.read(BLOCK):
            yield block


def blocks(listing: Listing, fmt: str, progress: Progress | None = None) -> Iterator[bytes]:
    if fmt == "csv":
        return csv_blocks(listing, progress)
    if fmt == "xlsx":
        return xlsx_blocks(listing, progress)
    raise ValueError(f"unknown export format {fmt!r}")


def write(listing: Listing, fmt: str, out: IO[bytes], progress: Progress | None = None) -> None:
    """The whole file into ``out`` (a background export's file)."""
    if fmt == "xlsx":
        xlsx_write(listing, out, progress)
        return
    for block in blocks(listing, fmt, progress):
        out.write(block)


def streaming_response(listing: Listing, fmt: str) -> StreamingHttpResponse:
    """The file as the response, streamed; ``before_rows`` has run (the caller's part)."""
    response = StreamingHttpResponse(blocks(listing, fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{listing.filename(fmt)}"'
    return response


# --- the lists that export ---------------------------------------------------------------------

Source = Callable[["Staff", "QueryDict", bool], Listing]
_SOURCES: dict[str, Source] = {}


def register(name: str, source: Source) -> None:
    """List ``source`` under ``name`` (an app's ``ready``); registering a name twice with
    another function is a programming error."""
    known = _SOURCES.get(name)
    if known is not None and known is not source:
        raise ValueError(f"export source {name!r} is already registered")
    _SOURCES[name] = source


def source(name: str) -> Source:
    try:
        return _SOURCES[name]
    except KeyError:
        raise NotFound() from None


def names() -> list[str]:
    return sorted(_SOURCES)


def inline_max() -> int:
    """Exports of at most this many rows are streamed in the response; longer ones are
    written by a background task with their progress shown."""
    return int(getattr(settings, "HUIYIN_EXPORT_INLINE_ROWS", 5_000))


CHUNK_SIZE = 1000


def by_ids(
    ids: Sequence[int], fetch: Callable[[list[int]], Iterable[Any]], size: int = CHUNK_SIZE
) -> Iterator[list[Any]]:
    """The rows of a list whose order no index gives (the supervision board's nearest
    deadline, the callback queue's): its ids in that order, read once, then ``fetch`` of a
    chunk of ids at a time, put back in that order. Memory: the ids and one chunk."""
    for start in range(0, len(ids), size):
        chunk = list(ids[start : start + size])
        found = {row.pk: row for row in fetch(chunk)}
        yield [found[i] for i in chunk if i in found]
