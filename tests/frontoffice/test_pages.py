"""The front office's pages over HTTP: what each person sees, refusals shown next to their
field with a 4xx and nothing saved, the printable day list, the logged full view, receipts."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from urllib.parse import quote

import pytest
import time_machine
from django.test import Client

from huiyin.frontoffice import services
from huiyin.frontoffice.models import Expense, FrontOfficeSetup, GuestReception, Record, RecordAction, Visitor
from huiyin.frontoffice.services import CheckIn
from huiyin.orgs.models import Department
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.frontoffice.conftest import VALID_ID, receipt_pdf
from tests.policy.conftest import SH
from tests.stale import refused_as_stale, two_saves, version_on

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=SH)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def refusal(response) -> dict:
    found = re.search(r'<script id="form-refusal" type="application/json">(.*?)</script>', response.content.decode())
    assert found, "no refusal data on the page"
    return json.loads(found.group(1))["errors"]


def test_the_front_desk_sees_the_whole_day_a_host_their_own(client, people):
    services.visitor_expect(
        actor=people["engineer"], expected_on=date(2026, 6, 10), name="李建国", purpose="洽谈", affiliation="机电公司"
    )
    services.visitor_expect(actor=people["requester"], expected_on=date(2026, 6, 10), name="王芳", purpose="送样品")
    client.force_login(people["desk"])
    page = client.get("/frontoffice/visitors/").content.decode()
    assert "李**" in page and "王*" in page and "李建国" not in page  # masked
    assert 'id="walk-in-form"' in page and 'name="host"' in page and "本月反馈收集率" in page
    client.force_login(people["engineer"])
    page = client.get("/frontoffice/visitors/").content.decode()
    assert "李**" in page and "王*" not in page and 'id="walk-in-form"' not in page
    assert 'href="/frontoffice/visitors/"' in page and 'href="/frontoffice/receptions/"' in page  # the nav


def test_an_announcement_with_bad_input_comes_back_with_its_messages(client, people):
    client.force_login(people["engineer"])
    response = client.post(
        "/frontoffice/visitors/",
        {"expected_on": "2026-02-30", "name": "", "purpose": "洽谈", "expected_time": "25:61"},
    )
    assert response.status_code == 400
    assert "来访日期不是有效的日期" in refusal(response)["expected_on"][0]
    response = client.post("/frontoffice/visitors/", {"expected_on": "2026-06-10", "name": "", "purpose": ""})
    errors = refusal(response)
    assert response.status_code == 400 and set(errors) >= {"name", "purpose"}
    assert not Visitor.objects.exists()
    response = client.post("/frontoffice/visitors/", {"expected_on": "2026-06-11", "name": "李建国", "purpose": "洽谈"})
    assert response.status_code == 302 and response["Location"].endswith("?day=2026-06-11")


def test_check_in_out_and_feedback_through_the_page(client, people):
    visitor = services.visitor_expect(
        actor=people["engineer"], expected_on=date(2026, 6, 10), name="李建国", purpose="洽谈"
    )
    client.force_login(people["desk"])
    url = f"/frontoffice/visitors/{visitor.pk}/"
    page = client.get(url).content.decode()
    assert 'id="check-in-form"' in page and 'id="reveal-btn"' in page
    bad = client.post(
        f"{url}check-in/", {"version": visitor.version, "id_type": "resident_id", "id_number": "110105194912310021"}
    )
    assert bad.status_code == 400 and "校验位错误" in refusal(bad)["id_number"][0]
    stale = client.post(f"{url}check-in/", {"version": "", "id_type": "resident_id", "id_number": VALID_ID})
    assert stale.status_code == 400 and "版本号" in refusal(stale)["version"][0]
    ok = client.post(f"{url}check-in/", {"version": visitor.version, "id_type": "resident_id", "id_number": VALID_ID})
    assert ok.status_code == 302
    page = client.get(url).content.decode()
    assert "110105********002X" in page and VALID_ID not in page and 'id="check-out-form"' in page
    revealed = client.post(f"{url}reveal/")
    assert VALID_ID in revealed.content.decode()
    assert Record.objects.filter(visitor=visitor, action="visitor_viewed").count() == 1
    version = Visitor.objects.get(pk=visitor.pk).version
    assert client.post(f"{url}check-out/", {"version": version}).status_code == 302
    assert 'id="feedback-form"' in client.get(url).content.decode()
    no_overall = client.post(f"{url}feedback/", {"q1": "satisfied"})
    assert no_overall.status_code == 400 and "overall" in refusal(no_overall)
    assert client.post(f"{url}feedback/", {"overall": "satisfied", "q1": "satisfied"}).status_code == 302
    assert "访客反馈表" in client.get(url).content.decode()
    # The host sees their visitor but neither the desk's forms nor the full view.
    client.force_login(people["engineer"])
    page = client.get(url).content.decode()
    assert 'id="reveal-btn"' not in page
    assert client.post(f"{url}reveal/").status_code == 403
    # Someone else's visitor: refused.
    client.force_login(people["requester"])
    assert client.get(url).status_code == 403


def test_the_printable_day_list(client, people):
    visitor = services.visitor_expect(
        actor=people["desk"],
        host_id=people["engineer"].pk,
        expected_on=date(2026, 6, 10),
        name="李建国",
        purpose="洽谈设备采购",
        affiliation="示范机电公司",
    )
    services.visitor_check_in(
        actor=people["desk"],
        visitor_id=visitor.pk,
        data=CheckIn(id_type="resident_id", id_number=VALID_ID, badge="V-01"),
    )
    client.force_login(people["desk"])
    page = client.get("/frontoffice/visitors/print/", {"day": "2026-06-10"}).content.decode()
    assert "当日访客名单 · 2026-06-10" in page and "frontoffice/print.css" in page and "data-print" in page
    assert "李**" in page and "V-01" in page and "示范机电公司" in page and "李建国" not in page
    assert "<style" not in page and "style=" not in page  # the CSP: style sheets only
    assert client.get("/frontoffice/visitors/print/", {"day": "9999-99-99"}).status_code == 200  # today instead


def test_a_request_through_the_page_and_its_refusals(client, people):
    client.force_login(people["requester"])
    page = client.get("/frontoffice/receptions/new/").content.decode()
    assert "行政部门负责人 → 公司领导" in page
    data = {
        "purpose": "市住建局调研",
        "guests": "张明，示范市住建局，副局长",
        "starts_on": "2026-06-12",
        "ends_on": "2026-06-11",
        "expected_outcome": "交流经验",
        "budget_meals": "-1",
        "budget_room": "abc",
    }
    response = client.post("/frontoffice/receptions/new/", data)
    errors = refusal(response)
    assert response.status_code == 400 and set(errors) == {"ends_on", "budget_meals", "budget_room"}
    assert not GuestReception.objects.exists()
    data.update(ends_on="2026-06-12", budget_meals="800", budget_room="")
    response = client.post("/frontoffice/receptions/new/", data)
    reception = GuestReception.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/frontoffice/receptions/{reception.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "¥800.00" in page and "张明" in page and 'id="decide-form"' not in page
    services.reception_request(
        actor=people["requester"],
        purpose="三位来宾",
        guests="甲，示范单位\n乙，示范单位\n丙，示范单位",
        starts_on=date(2026, 6, 12),
        ends_on=date(2026, 6, 12),
        expected_outcome="交流",
        budget={"room": "100", "meals": "200"},
    )
    listed = client.get("/frontoffice/receptions/").content.decode()
    row = re.search(r"三位来宾.*?</tr>", listed, re.S).group(0)
    assert ">3<" in row and "¥300.00" in row  # each budget line once, whatever the number of guests
    client.force_login(people["office_head"])
    page = client.get(response["Location"]).content.decode()
    assert 'id="decide-form"' in page
    client.force_login(people["leader"])  # the second step: not due yet
    refused = client.post(
        f"/frontoffice/receptions/{reception.pk}/decide/", {"decision": "approved", "version": reception.version}
    )
    assert refused.status_code == 403


LONG_RECEIPT_NAME = "示范电器公司客户来访午餐增值税普通发票" * 5 + ".pdf"


def test_receipts_download_for_those_who_see_the_reception(client, people):
    with time_machine.travel(NOW, tick=False):
        reception = services.reception_request(
            actor=people["requester"],
            purpose="客户来访",
            guests="王五，示范电器公司，经理",
            starts_on=date(2026, 6, 10),
            ends_on=date(2026, 6, 10),
            expected_outcome="签约",
            budget={"meals": "300"},
        )
        services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")
        services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")
        expense = services.expense_record(
            actor=people["requester"],
            reception_id=reception.pk,
            item="meals",
            amount="280",
            spent_on=date(2026, 6, 10),
            description="午餐",
            receipt=receipt_pdf(LONG_RECEIPT_NAME),  # past the file system's 255 bytes: was an OSError
        )
    client.force_login(people["finance"])
    response = client.get(f"/frontoffice/expenses/{expense.pk}/receipt/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert quote(LONG_RECEIPT_NAME) in response["Content-Disposition"]  # the whole name, as sent
    client.force_login(people["engineer"])
    assert client.get(f"/frontoffice/expenses/{expense.pk}/receipt/").status_code == 403
    # An expense over the budget through the page: the amount named, nothing stored.
    client.force_login(people["requester"])
    response = client.post(
        f"/frontoffice/receptions/{reception.pk}/expenses/",
        {"item": "meals", "amount": "50", "spent_on": "2026-06-10", "description": "茶歇", "receipt": receipt_pdf()},
    )
    assert response.status_code == 400 and "超预算报批" in refusal(response)["amount"][0]
    assert Expense.objects.count() == 1


def test_the_setup_page_is_the_administrators(client, people, depts):
    client.force_login(people["leader"])
    assert client.get("/frontoffice/setup/").status_code == 403
    client.force_login(people["admin"])
    assert client.get("/frontoffice/setup/").status_code == 200
    assert 'href="/frontoffice/setup/"' in client.get("/cases/desk/").content.decode()  # in the navigation
    version = version_on(client.get("/frontoffice/setup/").content.decode())
    response = client.post(
        "/frontoffice/setup/", {"office_department": "99999", "finance_department": "", "version": version}
    )
    assert response.status_code == 400 and "所选部门不存在" in refusal(response)["office_department"][0]
    response = client.post(
        "/frontoffice/setup/",
        {"office_department": depts["office"].pk, "finance_department": depts["sales"].pk, "version": version},
    )
    assert response.status_code == 302


def _setup(office: Department, finance: Department | str) -> dict:
    return {"office_department": office.pk, "finance_department": getattr(finance, "pk", finance)}


@pytest.mark.parametrize("first_use", [False, True])
def test_the_second_of_two_setup_saves_is_refused(people, depts, first_use):
    if first_use:  # no administrator has saved the setup yet: its row is made by the first save
        FrontOfficeSetup.objects.all().delete()
    records = Record.objects.filter(action=RecordAction.SETUP_CHANGED)
    before = records.count()
    first, second = Client(), Client()
    first.force_login(people["admin"])
    second.force_login(make_staff(people["admin"].organization, "sysadmin2", [Role.ADMIN]))
    saves = two_saves(
        first,
        second,
        page="/frontoffice/setup/",
        data=lambda who: _setup(depts["office"], depts["sales"]) if who == "first" else _setup(depts["tech"], ""),
    )
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    row = FrontOfficeSetup.objects.get()
    assert (row.office_department_id, row.finance_department_id) == (depts["office"].pk, depts["sales"].pk)
    assert records.count() == before + 1  # the second save recorded nothing


def test_a_setup_save_without_its_version_is_refused(client, people, depts):
    client.force_login(people["admin"])
    response = client.post("/frontoffice/setup/", _setup(depts["tech"], ""))
    assert response.status_code == 400 and "版本号" in refusal(response)["version"][0]
    assert FrontOfficeSetup.objects.get().office_department_id == depts["office"].pk
