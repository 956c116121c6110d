"""The reception cost report by department and period against budget, and its Excel export,
against a hand-computed example.

June 2026, two hosting departments:

    R1 市场部 (starts 6-08): budget room 500 + meals 1000 = 1500, approved; spent room 480,
       meals 1000; +200 meals approved (超预算报批), then meals 150; closed and reimbursed.
    R2 市场部 (starts 6-09): budget meals 800 + gifts 200 = 1000, approved; spent meals 600.
    R3 技术部 (starts 6-10): budget transport 300, approved; spent transport 300.
    R4 技术部: refused (budget 5000) — not counted.
    R5 市场部: pending (budget 999) — not counted.
    R6 市场部: approved, but starts 7-02 — outside the period.

    市场部: 2 receptions; requested 2500, approved 2500, increases 200 (1), budget 2700,
            spent 480 + 1000 + 150 + 600 = 2230, reimbursed 1630 (R1), balance 470, used 82.6 %;
            by item: room 480, meals 1750.
    技术部: 1 reception; requested 300, approved 300, budget 300, spent 300, reimbursed 0,
            balance 0, used 100 %; by item: transport 300.
    合计:   3; requested 2800, approved 2800, increases 200 (1), budget 3000, spent 2530,
            reimbursed 1630, balance 470.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from huiyin.core.errors import PermissionDeniedError
from huiyin.frontoffice import selectors, services
from tests.frontoffice.conftest import receipt_png
from tests.policy.conftest import SH

pytestmark = pytest.mark.django_db

D = Decimal


def _at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SH)


@pytest.fixture
def example(people):
    with time_machine.travel(_at(6, 8, 9), tick=False) as clock:

        def request(who, budget, starts_on, purpose):
            return services.reception_request(
                actor=people[who],
                purpose=purpose,
                guests="张明，示范单位，经理",
                starts_on=starts_on,
                ends_on=starts_on,
                expected_outcome="交流",
                budget=budget,
            )

        def approve(reception):
            services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")
            services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")

        def spend(who, reception, item, amount, day):
            services.expense_record(
                actor=people[who],
                reception_id=reception.pk,
                item=item,
                amount=amount,
                spent_on=day,
                description="费用",
                receipt=receipt_png(),
            )

        r1 = request("requester", {"room": "500", "meals": "1000"}, date(2026, 6, 8), "R1")
        r2 = request("requester", {"meals": "800", "gifts": "200"}, date(2026, 6, 9), "R2")
        r3 = request("engineer", {"transport": "300"}, date(2026, 6, 10), "R3")
        r4 = request("engineer", {"room": "5000"}, date(2026, 6, 12), "R4")
        request("requester", {"meals": "999"}, date(2026, 6, 15), "R5")
        r6 = request("requester", {"meals": "100"}, date(2026, 7, 2), "R6")
        for r in (r1, r2, r3, r6):
            approve(r)
        services.reception_decide(actor=people["office_head"], reception_id=r4.pk, decision="refused", opinion="超标")
        spend("requester", r1, "room", "480", date(2026, 6, 8))
        spend("requester", r1, "meals", "1000", date(2026, 6, 8))
        overrun = services.overrun_request(
            actor=people["requester"], reception_id=r1.pk, item="meals", amount="200", reason="来宾增加"
        )
        services.overrun_decide(actor=people["leader"], overrun_id=overrun.pk, decision="approved")
        spend("requester", r1, "meals", "150", date(2026, 6, 8))
        spend("requester", r2, "meals", "600", date(2026, 6, 8))
        spend("engineer", r3, "transport", "300", date(2026, 6, 8))
        clock.move_to(_at(6, 20))
        services.reception_close(actor=people["requester"], reception_id=r1.pk, summary="完成")
        services.reimbursement_submit(actor=people["requester"], reception_id=r1.pk)
        services.reimbursement_decide(actor=people["finance"], reception_id=r1.pk, decision="reimbursed")
    return people


def _rows(report):
    return {
        row.name: (
            row.receptions,
            row.requested,
            row.approved,
            row.increases,
            row.overruns,
            row.budget,
            row.spent,
            row.reimbursed,
            row.balance,
        )
        for row in [*report.rows, report.total]
    }


def test_the_cost_report_against_the_hand_computed_example(example, depts):
    report = selectors.cost_report_for(actor=example["leader"], start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert _rows(report) == {
        "市场部": (2, D("2500"), D("2500"), D("200"), 1, D("2700"), D("2230"), D("1630"), D("470")),
        "技术部": (1, D("300"), D("300"), D("0"), 0, D("300"), D("300"), D("0"), D("0")),
        "合计": (3, D("2800"), D("2800"), D("200"), 1, D("3000"), D("2530"), D("1630"), D("470")),
    }
    assert [row.name for row in report.rows] == ["市场部", "技术部"]  # most spent first
    sales = report.rows[0]
    assert sales.by_item == {"room": D("480"), "meals": D("1750")}
    assert round(sales.used, 4) == 0.8259 and report.rows[1].used == 1.0
    assert report.total.by_item == {"room": D("480"), "meals": D("1750"), "transport": D("300")}
    # One department, and another period (R6 alone).
    only_tech = selectors.cost_report_for(
        actor=example["finance"], start=date(2026, 6, 1), end=date(2026, 6, 30), department_id=depts["tech"].pk
    )
    assert [row.name for row in only_tech.rows] == ["技术部"]
    july = selectors.cost_report(example["leader"].org_id, date(2026, 7, 1), date(2026, 7, 31))
    assert _rows(july)["合计"] == (1, D("100"), D("100"), D("0"), 0, D("100"), D("0"), D("0"), D("100"))


def test_who_sees_the_cost_report(example, depts):
    june = {"start": date(2026, 6, 1), "end": date(2026, 6, 30)}
    head = selectors.cost_report_for(actor=example["sales_head"], department_id=depts["tech"].pk, **june)
    assert [row.name for row in head.rows] == ["市场部"]  # a department head: their own department only
    for reader in ("office_clerk", "finance", "analyst"):
        assert len(selectors.cost_report_for(actor=example[reader], **june).rows) == 2
    for outsider in ("engineer", "desk", "admin"):
        with pytest.raises(PermissionDeniedError):
            selectors.cost_report_for(actor=example[outsider], **june)


def test_the_excel_export_has_the_same_figures(example, client):
    client.force_login(example["leader"])
    response = client.get("/frontoffice/costs.xlsx", {"start": "2026-06-01", "end": "2026-06-30"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="reception-costs-20260601-20260630.xlsx"'
    book = load_workbook(BytesIO(response.content))
    sheet = book["按部门"]
    assert sheet["A1"].value == "接待费用报表（对照预算） 2026-06-01 至 2026-06-30"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0][:10] == ["市场部", 2, D("2500"), D("2500"), D("200"), 1, D("2700"), D("2230"), D("1630"), D("470")]
    assert rows[-1][0] == "合计" and rows[-1][7] == D("2530")
    assert sheet.cell(row=3, column=3).number_format == "#,##0.00"
    items = book["按费用项目"]
    header = [c.value for c in items[2]]
    assert header == ["接待部门", "场地", "交通", "餐饮", "住宿", "礼品", "合计"]
    assert [c.value for c in items[3]] == ["市场部", D("480"), 0, D("1750"), 0, 0, D("2230")]


def test_the_page_shows_the_report_and_refuses_a_bad_period(example, client):
    client.force_login(example["leader"])
    page = client.get("/frontoffice/costs/", {"start": "2026-06-01", "end": "2026-06-30"})
    html = page.content.decode()
    assert page.status_code == 200 and "¥2,230.00" in html and "¥3,000.00" in html and "¥1,630.00" in html
    bad = client.get("/frontoffice/costs/", {"start": "2026-06-30", "end": "2026-06-01"})
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.content.decode()
    assert client.get("/frontoffice/costs/", {"start": "9999-01-01"}).status_code == 400
    assert client.get("/frontoffice/costs/", {"department": "abc"}).status_code == 404
