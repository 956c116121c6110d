"""The callback queue as a spreadsheet: the due callbacks with the desk's filters and in its
order, the complainant masked as on the card; in full (a list to call from) only with the
personal-data right, each case logged as a full view first."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from huiyin.cases.events import EventKind
from huiyin.cases.models import Event
from huiyin.core.privacy import mask_phone

from .test_callback_desk import desk  # noqa: F401 - the callback desk's fixture, shared (officer: tests/conftest.py)

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text)))
    return [dict(zip(header, row, strict=True)) for row in rows]


def _numbers(desk, *names: str) -> list[str]:  # noqa: F811
    return [desk[n].case.number for n in names]


def test_the_queue_export_is_the_queue_in_its_order_masked(client, officer, desk):  # noqa: F811
    client.force_login(officer)
    rows = _rows(client.get(reverse("followup:queue_csv")))
    assert [r["编号"] for r in rows] == _numbers(desk, "a", "b", "c", "d")  # the earliest deadline first
    for row, name in zip(rows, "abcd", strict=True):
        party = desk[name].case.party
        assert row["联系电话"] == mask_phone(party.phone) != party.phone
        assert row["反映人"] == party.display_name
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()


def test_the_queues_filters_and_order_apply(client, officer, desk, departments):  # noqa: F811
    client.force_login(officer)
    city = _rows(client.get(reverse("followup:queue_csv"), {"department": departments["city"].pk}))
    assert [r["编号"] for r in city] == _numbers(desk, "a", "b")
    oldest = _rows(client.get(reverse("followup:queue_csv"), {"sort": "oldest"}))
    assert [r["编号"] for r in oldest] == _numbers(desk, "a", "b", "d", "c")
    refused = client.get(reverse("followup:queue_csv"), {"due": "someday"})
    assert refused.status_code == 400 and "回访期限" in refused.content.decode()


def test_a_full_queue_export_is_in_clear_and_logged(client, officer, desk):  # noqa: F811
    client.force_login(officer)
    response = client.post(reverse("followup:queue_xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [c.value for c in sheet[1]]
    phones = [row[header.index("联系电话")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert phones == [desk[n].case.party.phone for n in "abcd"]
    logged = Event.objects.filter(kind=EventKind.PII_VIEWED)
    assert sorted(e.case_id for e in logged) == sorted(desk[n].case_id for n in "abcd")
    assert all(e.actor == officer and e.data["export"] == "xlsx" for e in logged)


def test_who_has_no_callback_desk_has_no_export(client, handler, desk):  # noqa: F811
    client.force_login(handler)
    assert client.get(reverse("followup:queue_csv")).status_code == 403
    assert client.post(reverse("followup:queue_csv")).status_code == 403
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()
