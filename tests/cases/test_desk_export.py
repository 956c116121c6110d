"""My desk as a spreadsheet: every section's cases in the desk's order, each row naming its
section, masked as the desk shows them; in full only with the personal-data right, every
case logged as a full view first (core/exports.py, cases/export.py)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from huiyin.cases.events import EventKind
from huiyin.cases.models import Event
from huiyin.cases.services import PartyInput
from huiyin.core.privacy import mask_phone

pytestmark = pytest.mark.django_db

FIRST_CONTACT, TO_DECIDE = "我首问的案件（答复并满意前保留）", "待受理决定"


@pytest.fixture
def three(register):
    now = timezone.now()
    return [
        register(
            text=f"第{n}号路灯不亮。",
            party=PartyInput(name=f"孙{n}", phone=f"1360000000{n}"),
            received_at=now - timedelta(hours=3 - n),
        )
        for n in range(3)
    ]


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text)))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_desk_export_lists_each_section_in_the_desks_order_masked(client, clerk, three):
    client.force_login(clerk)
    rows = _rows(client.get(reverse("cases:desk_csv")))
    newest_first = [c.number for c in reversed(three)]
    assert [(r["栏目"], r["编号"]) for r in rows] == [
        *((FIRST_CONTACT, n) for n in newest_first),
        *((TO_DECIDE, n) for n in newest_first),
    ]
    phones = {c.number: c.party.phone for c in three}
    assert all(r["联系电话"] == mask_phone(phones[r["编号"]]) for r in rows)
    assert all(r["反映人"].startswith("孙") and r["反映人"] not in ("孙0", "孙1", "孙2") for r in rows)
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()


def test_one_section_only_and_a_bad_section_is_refused(client, clerk, three):
    client.force_login(clerk)
    rows = _rows(client.get(reverse("cases:desk_csv"), {"section": "to_decide"}))
    assert {r["栏目"] for r in rows} == {TO_DECIDE} and len(rows) == 3
    refused = client.get(reverse("cases:desk_csv"), {"section": "nothing"})
    assert refused.status_code == 400 and "工作台栏目" in refused.content.decode()


def test_the_excel_desk_export_is_the_same_rows(client, clerk, three):
    client.force_login(clerk)
    response = client.get(reverse("cases:desk_xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows(values_only=False)]
    assert values[0][:2] == ["栏目", "编号"] and len(values) == 7
    assert [v[1] for v in values[1:4]] == [c.number for c in reversed(three)]


def test_a_full_desk_export_is_in_clear_and_logs_each_case_once(client, clerk, three):
    client.force_login(clerk)
    rows = _rows(client.post(reverse("cases:desk_csv")))
    phones = {c.number: c.party.phone for c in three}
    assert len(rows) == 6 and all(r["联系电话"] == phones[r["编号"]] for r in rows)
    logged = Event.objects.filter(kind=EventKind.PII_VIEWED)
    assert sorted(e.case_id for e in logged) == sorted(c.pk for c in three)  # once, in two sections
    assert all(e.actor == clerk and e.data["export"] == "csv" for e in logged)


def test_without_the_personal_data_right_the_desk_exports_masked_only(client, analyst, clerk, three):
    client.force_login(analyst)
    assert client.post(reverse("cases:desk_csv")).status_code == 403
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()
    assert _rows(client.get(reverse("cases:desk_csv"))) == []  # an analyst's desk holds no cases
    page = client.get(reverse("cases:desk")).content.decode()
    assert 'id="desk-exports"' in page and "desk-full-export" not in page
