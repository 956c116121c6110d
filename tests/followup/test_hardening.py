"""The callback desk under bad input (issue 13, holes 4, 10, 11): findings bounded, the
stale-form check never skipped, a made-up attitude refused, a rating's control characters
never stored, a callback that is not there a 404 — and nothing recorded."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.followup.models import Callback, CallbackAttempt, RatingLink
from huiyin.followup.services import rating_link_issue

from .test_callbacks import replied

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(property_rules, register, clerk, handler, departments) -> Callback:
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    return Callback.objects.get(case=case)


def _record(client, callback: Callback, **fields):
    form = {"key": "1", "method": "phone", "version": str(callback.version), **fields}
    return client.post(reverse("followup:record", args=[callback.pk]), form)


def test_callback_findings_are_bounded_not_stored_at_100_kb(client, officer, due):
    client.force_login(officer)
    response = _record(client, due, findings="查" * 100_000)
    assert response.status_code == 400
    assert "回访情况过长：最多 10000 字，当前 100000 字。" in response.content.decode()
    due.refresh_from_db()
    assert due.status == "due" and not CallbackAttempt.objects.exists()


@pytest.mark.parametrize("version", [None, "", "0", "abc"])
def test_a_callback_form_without_a_real_version_is_refused(client, officer, due, version):
    client.force_login(officer)
    form = {"key": "4", "method": "phone"} | ({"version": version} if version is not None else {})
    response = client.post(reverse("followup:record", args=[due.pk]), form)
    assert response.status_code == 400 and "表单缺少有效的版本号" in response.content.decode()
    assert not CallbackAttempt.objects.exists()  # the check was skipped before: the attempt counted


def test_a_made_up_attitude_is_refused(client, officer, due):
    client.force_login(officer)
    response = _record(client, due, attitude="excellent-beyond-words")  # longer than the column
    assert response.status_code == 400 and "服务态度只能是好、一般或差" in response.content.decode()
    assert not CallbackAttempt.objects.exists()


def test_a_callback_that_is_not_there_is_a_404(client, officer, due):
    client.force_login(officer)
    for callback_id in (999_999, 2**63 - 1):
        response = client.post(reverse("followup:record", args=[callback_id]), {"key": "4", "version": "1"})
        assert response.status_code == 404 and "找不到该回访" in response.content.decode()


def test_a_rating_comment_is_stored_without_control_characters(client, officer, due):
    _link, url = rating_link_issue(actor=officer, callback_id=due.pk)
    token = url.rstrip("/").rsplit("/", 1)[1]
    response = client.post(f"/rate/{token}/", {"satisfaction": "satisfied", "comment": "很好\x00\x1b[31m，谢谢"})
    assert "感谢您的评价" in response.content.decode()  # on PostgreSQL the NUL was a 500
    assert RatingLink.objects.get().comment == "很好，谢谢"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pending_question": "何时更换电梯？"}, "请填写预约答复时间"),
        ({"pending_question": "何时更换电梯？", "answer_by": "2026-13-45T25:00"}, "预约答复时间不是有效的日期时间"),
        ({"answer_by": "2099-01-01T10:00"}, "请填写未能当即答复的询问或意见"),
    ],
)
def test_a_question_left_open_needs_its_promised_time_on_the_form(client, officer, due, fields, message):
    """seeds/000 行 363: 回访中不能当即答复的，应告知预约时间答复 — refused next to the field, nothing recorded."""
    client.force_login(officer)
    response = _record(client, due, **fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert not CallbackAttempt.objects.exists()


def test_a_promised_answer_decades_away_is_refused_naming_the_field(client, officer, due):
    """An afternoon at the callback desk: a promised answer time typed as 2099 (for 2026) was
    taken, and the promise could never go overdue. Like every other due time it lies within
    the five years ahead that a deadline may have."""
    from huiyin.followup.models import PromisedAnswer

    client.force_login(officer)
    response = _record(client, due, pending_question="何时更换电梯？", answer_by="2099-01-01T10:00")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="answer_by"' in html and "预约答复时间不能晚于" in html
    assert not CallbackAttempt.objects.exists() and not PromisedAnswer.objects.exists()
