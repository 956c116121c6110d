"""The evaluation page, its Excel and CSV exports and the deduction form, over HTTP."""

from __future__ import annotations

import csv
import io
import re
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from huiyin.evaluation.models import DeductionEntry
from tests.evaluation.conftest import EVALUATED_AT, handle
from tests.policy.conftest import at

pytestmark = pytest.mark.django_db

MARCH_QUERY = {"start": "2026-03-01", "end": "2026-03-31", "by": "staff"}


def get(client, user, url, data=None):
    client.force_login(user)
    with time_machine.travel(EVALUATED_AT, tick=False):
        return client.get(url, data or {})


def body(response) -> bytes:
    """An export's bytes: it is streamed (core.exports), as every list's export is."""
    assert response.status_code == 200 and response.streaming
    return b"".join(response.streaming_content)


def units(page) -> list[tuple[str, str]]:
    """(unit, rank) per table row, in order."""
    return re.findall(r'<tr data-unit="([^"]*)" data-rank="([^"]*)"', page.content.decode())


def test_the_page_shows_the_table_with_its_samples_for_a_leader(example, client, leader):
    page = get(client, leader, "/evaluation/", MARCH_QUERY)
    assert page.status_code == 200
    html = page.content.decode()
    assert units(page) == [("housing_handler", "1"), ("handler", "2"), ("other", ""), ("head", "")]
    for figure in (
        "50.0%（3/6）",
        "80.0%（4/5）",
        "66.7%（2/3）",
        "16.7%（1/6）",
        "−20",
        "44.3",
        "80.5",
        "40.0%（2/5）",
        "样本不足（1 件，不足 2 件，不排名）",
        "样本不足（0 件，不足 2 件，不排名）",
    ):
        assert figure in html, figure
    assert "2026-03-01 至 2026-03-31" in html
    assert "指标说明" in html and "后者计为超时" in html
    assert 'href="/evaluation/"' in html  # the nav item
    assert "登记越级投诉扣分" in html  # leaders supervise


def test_by_department_and_the_default_period(example, client, analyst):
    page = get(client, analyst, "/evaluation/", {**MARCH_QUERY, "by": "department"})
    assert units(page) == [("住房保障科", "1"), ("市容环境科", "2"), ("交通管理科", "")]
    assert "登记越级投诉扣分" not in page.content.decode()  # analysts only read
    default = get(client, analyst, "/evaluation/")  # this month: 5 April → 1–30 April
    assert default.status_code == 200
    assert "2026-04-01 至 2026-04-30" in default.content.decode()
    # A7 (due 2 April, unanswered); B1's county-level deduction, recorded 2 April
    assert units(default) == [("handler", ""), ("housing_handler", ""), ("housing_head", "")]
    for label in ("本月", "本季度", "本年"):
        assert label in default.content.decode()
    assert "start=2026-04-01&amp;end=2026-06-30" in default.content.decode()  # this quarter
    assert "start=2026-01-01&amp;end=2026-12-31" in default.content.decode()  # this year


def test_a_bad_period_is_refused_with_a_message(example, client, leader):
    page = get(client, leader, "/evaluation/", {"start": "2026-03-31", "end": "2026-03-01"})
    assert page.status_code == 400 and "结束日期不能早于开始日期" in page.content.decode()


@pytest.mark.parametrize(
    "query", [{"start": "2026-03-01", "end": "9999-12-31"}, {"start": "0001-01-01", "end": "2026-03-31"}]
)
def test_a_date_out_of_range_is_refused_not_a_server_error(example, client, leader, query):
    page = get(client, leader, "/evaluation/", query)
    assert page.status_code == 400 and "日期应在 2000-01-01 至 2100-12-31 之间" in page.content.decode()
    assert get(client, leader, "/evaluation/export.xlsx", query).status_code == 302  # back to the table


def test_a_handler_gets_403_and_no_nav_item(example, client, handler):
    assert get(client, handler, "/evaluation/", MARCH_QUERY).status_code == 403
    assert get(client, handler, "/evaluation/export.xlsx", MARCH_QUERY).status_code == 403
    assert get(client, handler, "/evaluation/deductions/").status_code == 403
    desk = get(client, handler, "/cases/")
    assert 'href="/evaluation/"' not in desk.content.decode()


def test_front_desk_staff_do_not_see_the_evaluation_but_a_head_has_the_nav_item(example, client, clerk, head):
    assert get(client, clerk, "/evaluation/", MARCH_QUERY).status_code == 403  # view_all is not enough
    assert 'href="/evaluation/"' not in get(client, clerk, "/cases/").content.decode()
    assert 'href="/evaluation/"' in get(client, head, "/cases/").content.decode()


def test_a_department_head_sees_their_own_departments_staff(example, client, head, housing_head):
    page = get(client, head, "/evaluation/", MARCH_QUERY)
    assert page.status_code == 200
    assert units(page) == [("handler", "2"), ("head", "")]  # the rank held in the whole organisation
    housing = get(client, housing_head, "/evaluation/", {**MARCH_QUERY, "by": "department"})
    assert units(housing) == [("住房保障科", "1")]
    assert "交通管理科" not in housing.content.decode()
    book = load_workbook(BytesIO(body(get(client, housing_head, "/evaluation/export.xlsx", MARCH_QUERY))))
    assert [row[1] for row in book.active.iter_rows(min_row=4, values_only=True)] == ["housing_handler"]


def test_the_excel_export_is_the_same_table(example, client, leader):
    response = get(client, leader, "/evaluation/export.xlsx", MARCH_QUERY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="evaluation-staff-20260301-20260331.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(body(response))).active
    assert sheet["A1"].value == "人员考评表 2026-03-01 至 2026-03-31"
    assert "按时答复率 0.4" in sheet["A2"].value and "不少于 2 件参与排名" in sheet["A2"].value
    assert [c.value for c in sheet[3]] == [
        "排名",
        "姓名",
        "所属部门",
        "办理件数",
        "按时件数",
        "有时限件数",
        "按时答复率",
        "应回访件数",
        "已完成回访",
        "回访完成率",
        "满意件数",
        "满意度评价件数",
        "满意率",
        "重办件数",
        "重办率",
        "扣分",
        "综合得分",
        "备注",
    ]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert rows == [
        [1, "housing_handler", "住房保障科", 5, 4, 5, 0.8, 4, 4, 1.0, 3, 4, 0.75, 2, 0.4, 0, 80.5, None],
        [
            2,
            "handler",
            "市容环境科",
            6,
            3,
            6,
            0.5,
            5,
            4,
            0.8,
            2,
            3,
            pytest.approx(2 / 3),
            1,
            pytest.approx(1 / 6),
            20,
            44.3,
            None,
        ],
        [
            "样本不足",
            "other",
            "交通管理科",
            1,
            1,
            1,
            1.0,
            1,
            1,
            1.0,
            1,
            1,
            1.0,
            0,
            0.0,
            0,
            100.0,
            "样本不足（1 件，不足 2 件，不排名）",
        ],
        [
            "样本不足",
            "head",
            "市容环境科",
            0,
            0,
            0,
            None,
            0,
            0,
            None,
            0,
            0,
            None,
            0,
            None,
            20,
            None,
            "样本不足（0 件，不足 2 件，不排名）",
        ],
    ]
    for column in ("G", "J", "M", "O"):
        assert {sheet[f"{column}{r}"].number_format for r in range(4, 8)} == {"0.0%"}, column
    assert sheet["Q5"].number_format == "0.0"
    by_department = load_workbook(
        BytesIO(body(get(client, leader, "/evaluation/export.xlsx", {**MARCH_QUERY, "by": "department"})))
    ).active
    assert by_department["A1"].value == "部门考评表 2026-03-01 至 2026-03-31"
    assert [c.value for c in by_department[3]][:4] == ["排名", "部门", "办理件数", "按时件数"]
    assert [[c.value for c in row][:3] for row in by_department.iter_rows(min_row=4)] == [
        [1, "住房保障科", 5],
        [2, "市容环境科", 6],
        ["样本不足", "交通管理科", 1],
    ]
    assert by_department["F5"].number_format == "0.0%"


def test_the_csv_export_is_the_same_table_from_the_same_writer(example, client, leader, handler):
    """The CSV is the header and the rows (the title lines are Excel's); rates are fractions,
    empty without a sample."""
    response = get(client, leader, "/evaluation/export.csv", MARCH_QUERY)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="evaluation-staff-20260301-20260331.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body(response).decode().lstrip("\ufeff"))))
    assert rows[0][:4] == ["排名", "姓名", "所属部门", "办理件数"] and len(rows[0]) == 18
    assert rows[1][:7] == ["1", "housing_handler", "住房保障科", "5", "4", "5", "0.8"]
    assert rows[4][0] == "样本不足" and rows[4][6] == "" and rows[4][-1] == "样本不足（0 件，不足 2 件，不排名）"
    assert get(client, handler, "/evaluation/export.csv", MARCH_QUERY).status_code == 403  # as the table


def test_a_supervisor_records_a_deduction_from_the_form(
    property_rules, drive, departments, handler, head, supervisor, client
):
    case = handle(drive, dept=departments["city"], handler=handler, dispatched=at(2026, 3, 2, 10))
    client.force_login(supervisor)
    form = client.get("/evaluation/deductions/")
    html = form.content.decode()
    assert form.status_code == 200
    assert "“越级投诉扣绩效分”扣分对象：部门负责人、承办人" in html
    assert (
        "越级投诉到公司领导（扣 20 分）" in html and "越级到市级及以上网站、行政主管部门或相关媒体（扣 50 分）" in html
    )
    missing = client.post(
        "/evaluation/deductions/",
        {"case_number": "20990101-00001", "rule": "escalated_complaint", "level": "company_leader"},
    )
    assert missing.status_code == 400 and "找不到该案件" in missing.content.decode()
    data = {
        "case_number": case.number,
        "rule": "escalated_complaint",
        "level": "company_leader",
        "note": "业主投诉到总经理",
    }
    done = client.post("/evaluation/deductions/", data, follow=True)
    assert "已登记" in done.content.decode() and case.number in done.content.decode()
    assert sorted(DeductionEntry.objects.values_list("staff__username", "points")) == [("handler", 20), ("head", 20)]
    again = client.post("/evaluation/deductions/", data)
    assert again.status_code == 400 and "已登记过" in again.content.decode()
    assert DeductionEntry.objects.count() == 2
