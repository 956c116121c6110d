"""The survey report for the owners' committee (向业主委员会通报): PDF and Excel.

Both carry the same figures from ``selectors.campaign_stats``: questionnaires handed out
and returned, overall and per-area satisfaction, the common opinions and the
rectification items with their departments and due dates. No personal data: answers
are anonymous, opinions are quoted without names.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from huiyin.cases.receipts import pdf_font
from huiyin.core.pdftables import grid_table, paragraph
from huiyin.core.spreadsheets import append_row
from huiyin.policy.labels import preset_label

from .models import Answer, Campaign
from .selectors import CampaignStats, items_for


def _summary_lines(campaign: Campaign, stats: CampaignStats) -> list[tuple[str, str]]:
    return [
        (_("调查名称"), campaign.title),
        (_("调查期间"), f"{campaign.starts_on} — {campaign.ends_on}"),
        (_("调查对象"), campaign.audience),
        (_("发放份数"), str(stats.handed_out)),
        (
            _("回收份数"),
            _("%(n)d 份（网上 %(online)d 份，纸质 %(paper)d 份）")
            % {"n": stats.responses, "online": stats.online, "paper": stats.paper},
        ),
        (_("回收率"), str(stats.response_rate)),
        (_("总满意率"), str(stats.overall)),
    ]


def render_pdf(campaign: Campaign, stats: CampaignStats, org_name: str) -> bytes:
    font, _embedded = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    cell = ParagraphStyle("cell", body, fontSize=9.5, leading=13)
    title = ParagraphStyle("title", body, fontSize=18, leading=28, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", body, fontSize=13, leading=22, spaceBefore=4 * mm, spaceAfter=1 * mm)

    def p(text: object, style=cell) -> Paragraph:
        return paragraph(text, style)

    def table(rows: Sequence[Sequence[object]], widths: list[float]) -> Table:
        return grid_table(rows, widths, cell)

    story: list = [p(org_name, title), p(_("%(title)s 结果报告") % {"title": campaign.title}, title)]
    if campaign.report_to:
        story.append(p(_("报送：%(to)s") % {"to": preset_label(campaign.report_to)}, body))
    story += [
        Spacer(0, 3 * mm),
        table([[_("项目"), _("结果")], *[[k, v] for k, v in _summary_lines(campaign, stats)]], [40, 120]),
    ]
    story += [
        p(_("一、分项满意率"), heading),
        table(
            [[_("调查项目"), _("满意"), _("基本满意"), _("不满意"), _("有效回答"), _("满意率")]]
            + [
                [
                    preset_label(a.label),
                    a.counts["satisfied"],
                    a.counts["basically_satisfied"],
                    a.counts["dissatisfied"],
                    a.answered,
                    a.rate.percent,
                ]
                for a in stats.areas
            ],
            [46, 20, 22, 20, 22, 30],
        ),
    ]
    story.append(p(_("满意率 =（满意 + 基本满意）÷ 该项有效回答数；总满意率按全部项目的有效回答合计。"), body))
    story.append(p(_("二、共性意见"), heading))
    if stats.common:
        story.append(
            table(
                [[_("意见"), _("提及份数"), _("原话摘录")]]
                + [[c.phrase, c.count, "\n".join(c.examples)] for c in stats.common],
                [36, 20, 104],
            )
        )
    else:
        story.append(
            p(_("收回的问卷中没有多份问卷共同提到的意见（共 %(n)d 份填写了意见）。") % {"n": stats.opinions}, body)
        )
    story.append(p(_("三、整改事项"), heading))
    items = list(items_for(campaign))
    if items:
        story.append(
            table(
                [[_("存在问题"), _("整改措施"), _("责任部门"), _("期限"), _("状态")]]
                + [
                    [
                        i.problem,
                        i.measure or "—",
                        i.department.name,
                        i.due_on,
                        i.get_status_display() + (f"\n{i.done_note}" if i.done_note else ""),
                    ]
                    for i in items
                ],
                [50, 46, 26, 20, 18],
            )
        )
    else:
        story.append(p(_("暂无整改事项。"), body))
    story += [Spacer(0, 8 * mm), p(_("%(org)s　%(date)s") % {"org": org_name, "date": timezone.localdate()}, body)]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        title=campaign.title,
        author=org_name,
    ).build(story)
    return buffer.getvalue()


def render_xlsx(campaign: Campaign, stats: CampaignStats) -> bytes:
    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: list[list[object]], first=False):
        ws = book.active if first else book.create_sheet()
        ws.title = title
        append_row(ws, header)
        for c in ws[1]:
            c.font = bold
        for row in rows:
            append_row(ws, row)
        for column, width in zip("ABCDEFG", (22, 14, 14, 14, 14, 14, 40), strict=False):
            ws.column_dimensions[column].width = width
        return ws

    summary = sheet(_("汇总"), [_("项目"), _("结果")], [[k, v] for k, v in _summary_lines(campaign, stats)], first=True)
    append_row(summary, [_("回收率（数值）"), stats.response_rate.value])
    append_row(summary, [_("总满意率（数值）"), stats.overall.value])
    for row in (summary.max_row - 1, summary.max_row):
        summary.cell(row=row, column=2).number_format = "0.0%"
    areas = sheet(
        _("分项满意率"),
        [_("调查项目"), _("满意"), _("基本满意"), _("不满意"), _("有效回答"), _("满意率")],
        [
            [
                preset_label(a.label),
                a.counts["satisfied"],
                a.counts["basically_satisfied"],
                a.counts["dissatisfied"],
                a.answered,
                a.rate.value,
            ]
            for a in stats.areas
        ],
    )
    for row in areas.iter_rows(min_row=2, min_col=6, max_col=6):
        row[0].number_format = "0.0%"
    sheet(
        _("共性意见"),
        [_("意见"), _("提及份数"), _("原话摘录")],
        [[c.phrase, c.count, " / ".join(c.examples)] for c in stats.common],
    )
    sheet(
        _("整改事项"),
        [_("调查项目"), _("存在问题"), _("整改措施"), _("责任部门"), _("期限"), _("状态"), _("整改情况")],
        [
            [
                campaign.area_labels.get(i.area, ""),
                i.problem,
                i.measure,
                i.department.name,
                i.due_on,
                i.get_status_display(),
                i.done_note,
            ]
            for i in items_for(campaign)
        ],
    )
    labels = campaign.area_labels
    answers = {value: str(label) for value, label in Answer.choices}
    raw = sheet(_("答卷"), [_("序号"), _("方式"), _("问卷编号"), *labels.values(), _("意见和建议")], [])
    for n, r in enumerate(campaign.responses.order_by("submitted_at", "id"), start=1):
        append_row(
            raw,
            [
                n,
                r.get_channel_display(),
                r.paper_number,
                *[answers.get(r.answers.get(code, ""), "") for code in labels],
                r.opinion,
            ],
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
