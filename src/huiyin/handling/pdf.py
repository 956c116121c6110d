"""A formal letter (文书) as an A4 PDF: the issuing organisation, the title, the number,
the addressee, the body and the signature with the date, laid out after the usual
official-document style (GB/T 9704: about 28 characters a line in 16 pt, two characters of
indent at the start of each paragraph). The body flows onto as many pages as it needs.
"""

from __future__ import annotations

import io
import re
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer

from huiyin.cases.receipts import pdf_font

BODY_SIZE = 16  # 三号
BODY_LEADING = 28
TITLE_SIZE = 22  # 二号
ORG_SIZE = 18
NUMBER_SIZE = 14
_BLANK_LINES = re.compile(r"\n[ \t\u3000]*\n")


def _markup(text: str) -> str:
    """Text to reportlab's paragraph mini-markup, a single newline kept as a line break."""
    return "<br/>".join(escape(line.strip()) for line in text.strip().splitlines())


def body_paragraphs(body: str) -> list[str]:
    """The body's paragraphs: separated by blank lines; empty ones dropped."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    return [part.strip() for part in _BLANK_LINES.split(text) if part.strip()]


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "letter",
        fontName=font,
        fontSize=BODY_SIZE,
        leading=BODY_LEADING,
        wordWrap="CJK",
        alignment=TA_JUSTIFY,
    )
    return {
        "org": ParagraphStyle("org", base, fontSize=ORG_SIZE, leading=ORG_SIZE * 1.6, alignment=TA_CENTER),
        "title": ParagraphStyle(
            "title",
            base,
            fontSize=TITLE_SIZE,
            leading=TITLE_SIZE * 1.6,
            alignment=TA_CENTER,
            spaceBefore=4 * mm,
            spaceAfter=2 * mm,
        ),
        "number": ParagraphStyle(
            "number", base, fontSize=NUMBER_SIZE, leading=NUMBER_SIZE * 1.6, alignment=TA_RIGHT, spaceAfter=6 * mm
        ),
        "addressee": base,
        "body": ParagraphStyle("body", base, firstLineIndent=2 * BODY_SIZE),
        "signature": ParagraphStyle("signature", base, alignment=TA_RIGHT, rightIndent=2 * BODY_SIZE),
    }


def render_letter_pdf(
    *,
    org_name: str,
    title: str,
    number: str,
    addressee: str,
    body: str,
    issued_on: str,
    signature: str = "",
) -> bytes:
    """The letter as PDF bytes; ``body`` is plain text (paragraphs split on blank lines)."""
    font, _embedded = pdf_font()
    style = _styles(font)
    story: list[Flowable] = []
    if org_name:
        story.append(Paragraph(_markup(org_name), style["org"]))
    story.append(Paragraph(_markup(title), style["title"]))
    if number:
        numbered = _("编号：%(number)s") % {"number": number}
        story.append(Paragraph(_markup(numbered), style["number"]))
    if addressee:
        story.append(Paragraph(_markup(addressee) + "：", style["addressee"]))
    paragraphs = [Paragraph(_markup(part), style["body"]) for part in body_paragraphs(body)]
    closing: list[Flowable] = [Spacer(0, BODY_LEADING)] + [
        Paragraph(_markup(line), style["signature"]) for line in (signature or org_name, issued_on) if line
    ]
    # The signature never stands alone on the last page: the last paragraph goes with it.
    story.extend(paragraphs[:-1])
    story.append(KeepTogether(paragraphs[-1:] + closing))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        topMargin=30 * mm,
        bottomMargin=30 * mm,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        title=f"{title} {number}".strip(),
        author=signature or org_name,
    )
    doc.build(story)
    return buffer.getvalue()
