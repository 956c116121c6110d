"""The supervision board as a spreadsheet: the board's cases, order and columns with its
filters, for whoever sees the board (a department head: their department's); no personal
data on the board, so no full export."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from .conftest import at
from .test_board import NOW, scene  # noqa: F401 - the board's scene, shared

pytestmark = pytest.mark.django_db


def _get(client, actor, url, data=None):
    client.force_login(actor)
    with time_machine.travel(NOW, tick=False):
        response = client.get(url, data or {})
        body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def _rows(client, actor, data=None) -> list[dict[str, str]]:
    response, body = _get(client, actor, reverse("supervision:board_csv"), data)
    assert response.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(body.decode().lstrip("\ufeff"))))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_board_export_is_the_boards_cases_nearest_deadline_first(client, scene, supervisor):  # noqa: F811
    rows = _rows(client, supervisor)
    assert [r["标题"] for r in rows] == ["噪音扰民", "占道经营", "路灯不亮"]
    by_title = {r["标题"]: r for r in rows}
    assert by_title["噪音扰民"]["督办状态"] == "已逾期" and by_title["噪音扰民"]["时限"].startswith("已超期")
    assert by_title["占道经营"]["督办状态"] == "预警"
    supervised = by_title["路灯不亮"]
    assert supervised["督办状态"] == "督办中" and scene["notice"].number in supervised["督办单"]
    assert supervised["主办部门"] == "市容环境科" and supervised["编号"] == scene["supervised"].number
    assert "反映人" not in rows[0] and "联系电话" not in rows[0]


def test_the_boards_filters_apply_and_a_bad_one_is_refused(client, scene, supervisor, departments):  # noqa: F811
    assert [r["标题"] for r in _rows(client, supervisor, {"status": "overdue"})] == ["噪音扰民"]
    city = _rows(client, supervisor, {"department": departments["city"].pk})
    assert [r["标题"] for r in city] == ["路灯不亮"]
    response, body = _get(client, supervisor, reverse("supervision:board_csv"), {"status": "lost"})
    assert response.status_code == 400 and "状态" in body.decode()


def test_a_head_exports_their_departments_board_and_a_handler_none(client, scene, head, handler):  # noqa: F811
    assert [r["标题"] for r in _rows(client, head)] == ["路灯不亮"]
    response, _body = _get(client, handler, reverse("supervision:board_csv"))
    assert response.status_code == 403


def test_the_excel_board_has_the_due_time_as_a_time(client, scene, supervisor):  # noqa: F811
    response, body = _get(client, supervisor, reverse("supervision:board_xlsx"))
    sheet = load_workbook(io.BytesIO(body)).active
    header = [c.value for c in sheet[1]]
    due = sheet.cell(row=2, column=header.index("到期时间") + 1)
    assert due.value == at(2026, 3, 2, 11).replace(tzinfo=None) and due.number_format == "yyyy-mm-dd hh:mm"


def test_there_is_no_full_export_of_the_board(client, scene, supervisor):  # noqa: F811
    client.force_login(supervisor)
    assert client.post(reverse("supervision:board_csv")).status_code == 405
