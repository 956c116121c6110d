"""A periodic report as Excel and as PDF, from the figures kept with it (``Report.data``)
and the analyst's commentary.

Excel (openpyxl): one sheet per table, real numbers with number formats (a rate is a
fraction shown as a percentage, a time in hours with one decimal), native Excel charts
over the trend and the channels. PDF (reportlab, the project's CJK font as the letters
and receipts use, ``cases.receipts.pdf_font``): the same tables, and the charts drawn on
the server with reportlab's graphics (a bar chart of the trend, one of the channels), so
the file needs nothing but a PDF reader.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

from huiyin.cases.receipts import pdf_font
from huiyin.core.pdftables import grid_table, paragraph
from huiyin.core.spreadsheets import append_row
from huiyin.policy.labels import preset_label

from .models import Report

PERCENT, HOURS, COUNT = "0.0%", "0.0", "0"


def title_of(report: Report) -> str:
    data = report.data or {}
    if report.kind == "return" and data.get("return"):
        return preset_label(str(data["return"]["title"]))
    return _("%(org)s %(kind)s（%(first)s 至 %(last)s）") % {
        "org": data.get("org", ""),
        "kind": report.get_kind_display(),
        "first": report.start,
        "last": report.end,
    }


def _number_format(unit: str) -> str:
    return {"percent": PERCENT, "hours": HOURS, "days": HOURS}.get(unit, COUNT)


def _cell_value(figure: dict[str, Any]) -> float | int | None:
    value = figure.get("value")
    if value is None:
        return None
    return int(value) if figure.get("unit") == "count" else float(value)


# --- Excel ----------------------------------------------------------------------------------


def render_xlsx(report: Report) -> bytes:
    data = report.data or {}
    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: Sequence[object], first: bool = False, widths: Sequence[int] = ()):
        ws = book.active if first else book.create_sheet()
        ws.title = title[:31]
        append_row(ws, list(header))
        for c in ws[ws.max_row]:
            c.font = bold
        for i, width in enumerate(widths):
            ws.column_dimensions[chr(65 + i)].width = width
        return ws

    # 概要: what the report is, and the analyst's commentary.
    summary = sheet(_("概要"), [_("项目"), _("内容")], first=True, widths=(18, 100))
    for label, value in (
        (_("报告"), title_of(report)),
        (_("单位"), data.get("org", "")),
        (_("期间"), f"{report.start} — {report.end}"),
        (_("上期"), " — ".join(data.get("previous", []))),
        (_("上年同期"), " — ".join(data.get("last_year", []))),
        (_("生成时间"), data.get("generated_at", "")),
        (_("分析意见"), report.commentary or _("（未填写）")),
    ):
        append_row(summary, [label, value])
    summary.cell(row=summary.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")

    # 关键指标: each KPI with numerator, denominator, previous and last year as numbers.
    ws = sheet(
        _("关键指标"),
        [_("指标"), _("本期"), _("分子"), _("分母"), _("上期"), _("上年同期"), _("目标"), _("定义")],
        widths=(22, 12, 12, 12, 12, 12, 10, 90),
    )
    for k in data.get("kpis", []):
        cur = k["current"]
        append_row(
            ws,
            [
                k["label"],
                _cell_value(cur),
                cur["numerator"] if k["formula"] in ("ratio", "count") else None,
                cur["denominator"] if k["formula"] == "ratio" else None,
                _cell_value(k["previous"]),
                _cell_value(k["last_year"]),
                k["target"],
                k["definition"],
            ],
        )
        fmt = _number_format(cur["unit"])
        for col in (2, 5, 6):
            ws.cell(row=ws.max_row, column=col).number_format = fmt
        for col in (3, 4):
            ws.cell(row=ws.max_row, column=col).number_format = COUNT

    # 受理趋势 with a chart.
    trend = data.get("trend", {})
    ws = sheet(
        _("受理趋势"),
        [_("月份") if trend.get("by_month") else _("日期"), _("受理量"), _("办结量")],
        widths=(12, 10, 10),
    )
    for x, r, c in zip(trend.get("x", []), trend.get("received", []), trend.get("closed", []), strict=False):
        append_row(ws, [x, r, c])
    if ws.max_row > 1:
        chart = BarChart()
        chart.title = _("受理量与办结量")
        chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=1, max_row=ws.max_row), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=ws.max_row))
        chart.width, chart.height = 24, 9
        ws.add_chart(chart, "E2")

    # One sheet per dimension table.
    for table in data.get("tables", []):
        _table_sheet(sheet, table, table["title"], chart=table["axis"] == "channel")

    # 反复出现的问题 (F53).
    recurring = data.get("recurring", {})
    months = recurring.get("months", [])
    ws = sheet(
        _("反复出现的问题"),
        [
            _("维度"),
            _("名称"),
            _("出现月数"),
            _("合计件数"),
            *months,
            _("整改通知"),
            _("回访整改"),
            _("已整改"),
            _("最近的整改措施"),
        ],
        widths=(10, 24, 10, 10, *([9] * len(months)), 10, 10, 10, 80),
    )
    for axis, label in (("category", _("分类")), ("place", _("地点")), ("department", _("部门"))):
        for item in recurring.get(axis, []):
            actions = item["actions"]
            latest = "；".join(
                f"{a['date']} {a['kind']} {a['case']} {a['unit']} {a['text']}（{a['status']}）".replace("  ", " ")
                for a in actions["latest"]
            )
            append_row(
                ws,
                [
                    label,
                    item["name"],
                    item["months_present"],
                    item["total"],
                    *item["per_month"],
                    actions["notices"],
                    actions["tasks"],
                    actions["tasks_done"],
                    latest,
                ],
            )

    # A statistics return: one sheet per section.
    statistics = data.get("return")
    if statistics:
        for section in statistics["sections"]:
            _table_sheet(sheet, section, section["label"], chart=False)

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _table_sheet(sheet, table: dict[str, Any], title: str, *, chart: bool) -> None:
    columns = table["columns"]
    ws = sheet(title, [_("名称"), *[c["label"] for c in columns]], widths=(28, *([14] * len(columns))))
    for row in [*table["rows"], {"name": _("合计"), "figures": table["total"]}]:
        append_row(ws, [row["name"], *[_cell_value(f) for f in row["figures"]]])
        for i, c in enumerate(columns, start=2):
            ws.cell(row=ws.max_row, column=i).number_format = _number_format(c["unit"])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
    if chart and len(table["rows"]) and columns:
        bar = BarChart()
        bar.title = f"{title} · {columns[0]['label']}"
        bar.add_data(Reference(ws, min_col=2, min_row=1, max_row=ws.max_row - 1), titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=2, max_row=ws.max_row - 1))
        bar.width, bar.height = 18, 8
        ws.add_chart(bar, f"{chr(65 + len(columns) + 2)}2")


# --- PDF ------------------------------------------------------------------------------------


def _bar_chart(font: str, title: str, labels: list[str], series: list[tuple[str, list[int]]]) -> Drawing:
    """A bar chart drawn on the server (reportlab graphics) with the CJK font."""
    width, height = 170 * mm, 70 * mm
    drawing = Drawing(width, height)
    drawing.add(String(width / 2, height - 12, title, fontName=font, fontSize=10, textAnchor="middle"))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 30, width - 60, height - 60
    chart.data = [values or [0] for _name, values in series] or [[0]]
    chart.categoryAxis.categoryNames = labels or [""]
    step = max(1, len(labels) // 12)
    chart.categoryAxis.categoryNames = [label if i % step == 0 else "" for i, label in enumerate(labels)] or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    palette = [colors.HexColor("#0d6efd"), colors.HexColor("#198754"), colors.HexColor("#fd7e14")]
    for i in range(len(chart.data)):
        chart.bars[i].fillColor = palette[i % len(palette)]
    drawing.add(chart)
    if len(series) > 1:
        legend = Legend()
        legend.x, legend.y = width - 110, height - 14
        legend.fontName, legend.fontSize = font, 7
        legend.colorNamePairs = [(palette[i % len(palette)], name) for i, (name, _v) in enumerate(series)]
        legend.alignment = "right"
        drawing.add(legend)
    return drawing


def render_pdf(report: Report) -> bytes:
    data = report.data or {}
    font, _embedded = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    cell = ParagraphStyle("cell", body, fontSize=8, leading=11)
    title_style = ParagraphStyle("title", body, fontSize=16, leading=24, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", body, fontSize=12, leading=20, spaceBefore=4 * mm, spaceAfter=1 * mm)

    def p(text: object, style=cell) -> Paragraph:
        return paragraph(text, style)

    def table(rows: Sequence[Sequence[object]], widths: list[float]) -> Table:
        return grid_table(rows, widths, cell)

    story: list = [p(title_of(report), title_style)]
    story.append(
        p(
            _("期间：%(first)s 至 %(last)s　上期：%(prev)s　上年同期：%(ly)s　生成：%(at)s")
            % {
                "first": report.start,
                "last": report.end,
                "prev": " 至 ".join(data.get("previous", [])),
                "ly": " 至 ".join(data.get("last_year", [])),
                "at": data.get("generated_at", ""),
            },
            body,
        )
    )
    statistics = data.get("return")
    if statistics:
        story.append(p(_("报送：%(to)s") % {"to": statistics["report_to"]}, body))
    story.append(p(_("一、分析意见"), heading))
    story.append(p(report.commentary or _("（未填写）"), body))

    story.append(p(_("二、关键指标"), heading))
    rows: list[list[object]] = [[_("指标"), _("本期"), _("分子/分母"), _("上期"), _("上年同期"), _("目标")]]
    for k in data.get("kpis", []):
        cur = k["current"]
        if k["formula"] == "ratio":
            fraction = f"{_num(cur['numerator'])}/{_num(cur['denominator'])}"
        elif k["formula"] == "count":
            fraction = _num(cur["numerator"])
        else:
            fraction = _("样本 %(n)d") % {"n": cur["sample"]}
        rows.append(
            [
                k["label"],
                cur["display"],
                fraction,
                k["previous"]["display"],
                k["last_year"]["display"],
                k["target"] or "—",
            ]
        )
    story.append(table(rows, [46, 22, 34, 22, 22, 24]))
    definitions = [f"{k['label']}：{k['definition']}" for k in data.get("kpis", [])]
    if definitions:
        story.append(Spacer(0, 2 * mm))
        story.append(p(_("指标说明："), cell))
        story.extend(p(d, cell) for d in definitions)

    trend = data.get("trend", {})
    story.append(p(_("三、受理趋势"), heading))
    story.append(
        _bar_chart(
            font,
            _("受理量与办结量"),
            trend.get("x", []),
            [(_("受理量"), trend.get("received", [])), (_("办结量"), trend.get("closed", []))],
        )
    )
    story.append(p(_("四、分类统计"), heading))
    for t in data.get("tables", []):
        if t["axis"] == "channel" and t["rows"]:
            story.append(
                _bar_chart(
                    font,
                    f"{t['title']} · {t['columns'][0]['label'] if t['columns'] else ''}",
                    [r["name"] for r in t["rows"]],
                    [(t["columns"][0]["label"], [int(_cell_value(r["figures"][0]) or 0) for r in t["rows"]])]
                    if t["columns"]
                    else [],
                )
            )
        story.append(KeepTogether([p(t["title"], body), _pdf_table(table, t)]))
        story.append(Spacer(0, 3 * mm))

    recurring = data.get("recurring", {})
    story.append(p(_("五、反复出现的问题"), heading))
    story.append(
        p(
            _("近 %(n)d 个月（%(first)s 至 %(last)s）中，至少 %(need)d 个月每月 %(min)d 件以上的分类、地点和部门。")
            % {
                "n": len(recurring.get("months", [])),
                "first": (recurring.get("months") or [""])[0],
                "last": (recurring.get("months") or [""])[-1],
                "need": recurring.get("needed", 0),
                "min": recurring.get("min_cases", 0),
            },
            body,
        )
    )
    rows = [[_("维度"), _("名称"), _("出现月数"), _("合计"), _("整改措施")]]
    for axis, label in (("category", _("分类")), ("place", _("地点")), ("department", _("部门"))):
        for item in recurring.get(axis, []):
            a = item["actions"]
            steps = "\n".join(f"{x['date']} {x['kind']} {x['case']} {x['text']}（{x['status']}）" for x in a["latest"])
            summary = _("整改通知 %(n)d 件，回访整改 %(t)d 件（已整改 %(d)d）") % {
                "n": a["notices"],
                "t": a["tasks"],
                "d": a["tasks_done"],
            }
            rows.append([label, item["name"], item["months_present"], item["total"], f"{summary}\n{steps}".strip()])
    if len(rows) > 1:
        story.append(table(rows, [14, 34, 16, 14, 92]))
    else:
        story.append(p(_("没有反复出现的问题。"), body))

    if statistics:
        story.append(PageBreak())
        story.append(p(statistics["title"], title_style))
        for section in statistics["sections"]:
            story.append(KeepTogether([p(section["label"], heading), _pdf_table(table, section)]))

    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        title=title_of(report),
        author=data.get("org", ""),
    ).build(story)
    return buffer.getvalue()


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _pdf_table(table, t: dict[str, Any]):
    columns = t["columns"]
    rows: list[list[object]] = [[_("名称"), *[c["label"] for c in columns]]]
    for row in [*t["rows"], {"name": _("合计"), "figures": t["total"]}]:
        rows.append([row["name"], *[f["display"] for f in row["figures"]]])
    first = 40
    rest = (180 - first) / max(1, len(columns))
    return table(rows, [first, *([rest] * len(columns))])
