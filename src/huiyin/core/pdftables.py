"""The pieces the printed reports share (the survey report, the periodic statistics):
a paragraph of stored text and a ruled table with a grey header row, in a CJK style."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from huiyin.core.validators import clean_text


def paragraph(text: object, style: ParagraphStyle) -> Paragraph:
    """Stored text as a paragraph: markup escaped, line breaks kept, and control characters
    (refused at the door today, possible in older rows) left out."""
    return Paragraph(escape(clean_text(str(text))).replace("\n", "<br/>"), style)


def grid_table(rows: Sequence[Sequence[object]], widths_mm: Sequence[float], style: ParagraphStyle) -> Table:
    """A table of paragraphs, ruled, the first row a header repeated on each page."""
    t = Table([[paragraph(c, style) for c in row] for row in rows], colWidths=[w * mm for w in widths_mm], repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t
