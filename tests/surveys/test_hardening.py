"""Surveys under bad input (issue 13, holes 2, 4, 10): an owner's control characters never
reach the database, the Excel report or the log; dates are checked by what they mean;
a campaign, item or activity that is not there is a 404."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from django.utils import timezone

from huiyin.core.errors import ValidationFailed
from huiyin.surveys import services
from huiyin.surveys.models import RectificationItem, SurveyResponse

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DIRTY = "电梯\x00经常坏\x1b[31m，\x07希望修好"


@pytest.fixture
def survey(property_rules, leader):
    today = timezone.localdate()
    return services.campaign_create(
        actor=leader,
        title="2026 年度业主意见调查",
        starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=10),
        audience="全体业主",
        audience_size=10,
    )


def _token(campaign, leader) -> str:
    return services.invitations_issue(actor=leader, campaign_id=campaign.pk, count=1)[0].rsplit("/", 2)[-2]


def test_an_owners_opinion_is_stored_without_control_characters(survey, leader, client):
    response = client.post(f"/survey/{_token(survey, leader)}/", {"area_power": "satisfied", "opinion": DIRTY})
    assert "问卷已提交" in response.content.decode()
    assert SurveyResponse.objects.get().opinion == "电梯经常坏，希望修好"
    services.response_enter(actor=leader, campaign_id=survey.pk, paper_number="P1\x00", answers={}, opinion=DIRTY)
    assert SurveyResponse.objects.get(paper_number="P1").opinion == "电梯经常坏，希望修好"


def test_the_report_survives_control_characters_stored_before_and_logs_none(survey, leader, client, caplog):
    services.response_enter(actor=leader, campaign_id=survey.pk, paper_number="P1", answers={}, opinion="好")
    # An answer stored before the door was shut (no NUL: PostgreSQL never held one).
    SurveyResponse.objects.update(opinion="电梯经常坏\x1b[31m，\x07希望修好")
    client.force_login(leader)
    with caplog.at_level(logging.INFO):
        response = client.get(f"/surveys/{survey.pk}/report.xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX  # was IllegalCharacterError: a 500
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.content))["答卷"]
    assert sheet.cell(row=2, column=sheet.max_column).value == "电梯经常坏，希望修好"
    assert not any("\x1b" in r.getMessage() or "\x00" in r.getMessage() for r in caplog.records)
    assert client.get(f"/surveys/{survey.pk}/report.pdf").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("due_on", date(9999, 12, 31), "整改期限不能晚于"),
        ("due_on", date(2000, 1, 1), "整改期限不能早于今天。"),
    ],
)
def test_an_item_due_date_is_checked_by_what_it_means(survey, leader, departments, field, value, message):
    with pytest.raises(ValidationFailed) as info:
        services.item_add(
            actor=leader, campaign_id=survey.pk, problem="电梯坏", department_id=departments["city"].pk, due_on=value
        )
    assert info.value.errors[field][0].startswith(message)
    assert not RectificationItem.objects.exists()


def test_campaign_and_activity_dates_are_bounded(property_rules, leader):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as info:
        services.campaign_create(
            actor=leader,
            title="调查",
            starts_on=date(1, 1, 1),
            ends_on=date(9999, 1, 1),
            audience="全体业主",
            audience_size=10,
        )
    assert set(info.value.errors) == {"starts_on", "ends_on"}
    with pytest.raises(ValidationFailed) as info:
        services.activity_plan(actor=leader, kind="residents_meeting", planned_on=today + timedelta(days=20 * 365))
    assert info.value.errors["planned_on"][0].startswith("计划日期不能晚于")


def test_a_date_typed_wrong_is_a_400_naming_it(survey, leader, client, departments):
    client.force_login(leader)
    form = {"problem": "电梯坏", "department": departments["city"].pk, "due_on": "2026-02-30"}
    response = client.post(f"/surveys/{survey.pk}/items/", form)
    assert response.status_code == 400 and "整改期限不是有效的日期" in response.content.decode()
    assert not RectificationItem.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/surveys/999999/responses/",
        "/surveys/999999/close/",
        "/surveys/999999/items/",
        "/surveys/{campaign}/items/999999/done/",
        "/surveys/activities/999999/record/",
        "/surveys/activities/999999/opinion/",
    ],
)
def test_something_that_is_not_there_is_a_404(survey, leader, client, path):
    client.force_login(leader)
    response = client.post(path.format(campaign=survey.pk), {"note": "x", "version": "1"})
    assert response.status_code == 404
