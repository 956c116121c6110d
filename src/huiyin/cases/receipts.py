"""Receipt (受理凭证, F03): the same facts as printable HTML and as a PDF.

The PDF embeds a subset of a TrueType CJK font when one is installed (so it
renders identically in any reader) and falls back to reportlab's built-in CID
font STSong-Light, which readers must supply themselves.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .models import Case

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)

URL_MIN_SIZE = 7  # points: the smallest a long web address is printed at to keep it on one line

# A run of Latin letters, digits and URL punctuation is one word (a web address, a number);
# any other character (a Chinese one, a full-width comma) may end a line on its own.
_WORD = re.compile(r"[!-~]+|\s+|.", re.DOTALL)


@lru_cache(maxsize=1)
def pdf_font() -> tuple[str, bool]:
    """Register and return (font name, embedded?)."""
    configured = [settings.HUIYIN_PDF_FONT] if settings.HUIYIN_PDF_FONT else []
    for path in [*configured, *FONT_CANDIDATES]:
        if path and Path(path).is_file():
            pdfmetrics.registerFont(TTFont("HuiyinCJK", path, subfontIndex=0))
            return "HuiyinCJK", True
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light", False


def receipt_context(case: Case, code: str | None, *, status_url: str | None = None) -> dict:
    """``status_url``: where the receipt says to check the status (the public /status/ page
    by default; the portal's receipt names the portal's)."""
    org = case.organization
    hotline = org.hotline or settings.HUIYIN_HOTLINE
    return {
        "org_name": org.name,
        "query_code": code,
        "status_url": status_url or settings.HUIYIN_PUBLIC_URL.rstrip("/") + "/status/",
        "hotline": hotline,
        "received_at": timezone.localtime(case.received_at),
        "promised_due_at": timezone.localtime(case.promised_due_at) if case.promised_due_at else None,
    }


def _lines(case: Case, ctx: dict) -> list[tuple[str, str]]:
    due = ctx["promised_due_at"]
    return [
        (_("编号"), case.number),
        (_("查询码"), ctx["query_code"] or _("（已在首次出具时告知；遗失请重新生成）")),
        (_("受理渠道"), str(case.get_channel_display())),
        (_("诉求性质"), str(case.get_nature_display())),
        (_("反映人"), case.party.display_name if case.party else _("匿名")),
        (_("事项"), case.title),
        (_("收到时间"), f"{ctx['received_at']:%Y-%m-%d %H:%M}"),
        (_("承诺时限"), date_format(due, pgettext("date format: a day", "Y年m月d日")) + _("前答复") if due else "—"),
    ]


def render_pdf(case: Case, code: str | None, *, status_url: str | None = None) -> bytes:
    ctx = receipt_context(case, code, status_url=status_url)
    font, _embedded = pdf_font()
    buffer = io.BytesIO()
    width, height = A5
    pdf = canvas.Canvas(buffer, pagesize=A5, pageCompression=1)
    pdf.setTitle(f"{_('受理凭证')} {case.number}")
    pdf.setFont(font, 16)
    pdf.drawCentredString(width / 2, height - 20 * mm, ctx["org_name"])
    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, height - 32 * mm, _("受理凭证"))
    y = height - 48 * mm
    for label, value in _lines(case, ctx):
        pdf.setFont(font, 11)
        pdf.drawString(15 * mm, y, f"{label}：")
        chunks = wrap(value, font, 11, width - 55 * mm)
        for i, chunk in enumerate(chunks):
            pdf.drawString(40 * mm, y - i * 6 * mm, chunk)
        y -= 6 * mm * len(chunks) + 2 * mm
    y -= 4 * mm
    pdf.setFont(font, 10)
    how = [
        _("查询办理进度："),
        _("1. 登录 %(url)s ，输入编号和查询码；") % {"url": ctx["status_url"]},
        _("2. 或拨打 %(hotline)s 报编号查询。") % {"hotline": ctx["hotline"]},
        _("请妥善保管查询码，工作人员不会向您索要查询码以外的密码。"),
    ]
    for line in how:
        for chunk in wrap(line, font, 10, width - 30 * mm, shrink_to=URL_MIN_SIZE):
            # A web address longer than the line is printed smaller rather than cut in two.
            fits = pdfmetrics.stringWidth(chunk, font, 10) <= width - 30 * mm
            pdf.setFont(font, 10 if fits else URL_MIN_SIZE)
            pdf.drawString(15 * mm, y, chunk)
            y -= 5.5 * mm
        pdf.setFont(font, 10)
    pdf.setFont(font, 9)
    pdf.drawRightString(width - 15 * mm, 15 * mm, f"{ctx['org_name']}  {timezone.localtime():%Y-%m-%d}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def wrap(text: str, font: str, size: float, width: float, *, shrink_to: float | None = None) -> list[str]:
    """Lines of ``text`` no wider than ``width`` points in ``font`` at ``size``. Chinese text
    breaks between any two characters; a Latin word (a web address, a number) is never cut:
    it starts a new line, and one wider than a line stays whole if it fits at ``shrink_to``
    points (the caller prints that line smaller), else it is cut by characters."""
    lines: list[str] = []
    line = ""
    for token in _WORD.findall(str(text)):
        if pdfmetrics.stringWidth(line + token, font, size) <= width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = token.lstrip()
        fits_smaller = shrink_to is not None and pdfmetrics.stringWidth(line, font, shrink_to) <= width
        if pdfmetrics.stringWidth(line, font, size) > width and not fits_smaller:
            while len(line) > 1 and pdfmetrics.stringWidth(line, font, size) > width:
                cut = len(line)
                while cut > 1 and pdfmetrics.stringWidth(line[:cut], font, size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines
