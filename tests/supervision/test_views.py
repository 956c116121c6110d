"""The supervision pages through Django's test client: board, notice life cycle, the daily
review, permissions, and no phone numbers on the board."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.supervision.models import DailyReview, NoticeState, SupervisionNotice

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def case(drive, departments, handler):
    return drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)


def test_pages_need_login(client):
    for name in ("supervision:board", "supervision:daily_review", "supervision:issue"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_notice_life_cycle_through_the_pages(as_user, drive, case, supervisor, handler, head, departments):
    with drive.at(at(2026, 3, 2, 10)):
        client = as_user(supervisor)
        form = client.get(reverse("supervision:issue") + f"?case={case.pk}")
        assert form.status_code == 200 and case.number in form.content.decode()
        response = client.post(
            reverse("supervision:issue"),
            {
                "case_number": case.number,
                "kind": "special",
                "department": departments["city"].pk,
                "due_at": "2026-03-04T17:00",
                "requirement": "请于周三前反馈整改情况。",
            },
        )
    notice = SupervisionNotice.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("supervision:notice", args=[notice.pk])
    assert notice.due_at == at(2026, 3, 4, 17) and notice.kind == "special"

    with drive.at(at(2026, 3, 2, 11)):
        page = client.get(reverse("supervision:board")).content.decode()
        assert notice.number in page and case.number in page

        client = as_user(handler)
        html = client.get(reverse("supervision:notice", args=[notice.pk])).content.decode()
        assert 'id="answer-form"' in html and 'id="close-form"' not in html
        response = client.post(reverse("supervision:answer", args=[notice.pk]), {"answer": "已整改完毕。"})
        assert response.status_code == 302

        client = as_user(supervisor)
        html = client.get(reverse("supervision:notice", args=[notice.pk])).content.decode()
        assert "已整改完毕。" in html and 'id="close-form"' in html and 'id="answer-form"' not in html
        client.post(reverse("supervision:close", args=[notice.pk]), {"note": "核实无误"})
    notice.refresh_from_db()
    assert notice.state == NoticeState.CLOSED and notice.answered_by == handler


def test_issue_form_shows_errors(as_user, drive, case, supervisor, departments):
    with drive.at(at(2026, 3, 2, 10)):
        response = as_user(supervisor).post(
            reverse("supervision:issue"),
            {
                "case_number": "20990101-00001",
                "kind": "routine",
                "department": departments["city"].pk,
                "due_at": "2026-03-04T17:00",
                "requirement": "请反馈。",
            },
        )
        assert response.status_code == 400 and "找不到该案件" in response.content.decode()
        response = as_user(supervisor).post(
            reverse("supervision:issue"),
            {
                "case_number": case.number,
                "kind": "routine",
                "department": departments["city"].pk,
                "due_at": "2026-03-01T17:00",
                "requirement": "请反馈。",
            },
        )
        assert response.status_code == 400 and 'data-field="due_at"' in response.content.decode()
    assert not SupervisionNotice.objects.exists()


def test_permissions_on_pages(as_user, drive, case, supervisor, handler, other_handler, departments):
    notice = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 4, 17))
    client = as_user(handler)
    assert client.get(reverse("supervision:board")).status_code == 403
    assert client.get(reverse("supervision:issue")).status_code == 403
    assert client.post(reverse("supervision:close", args=[notice.pk]), {}).status_code == 403
    client = as_user(other_handler)
    assert client.get(reverse("supervision:notice", args=[notice.pk])).status_code == 403
    assert client.post(reverse("supervision:answer", args=[notice.pk]), {"answer": "x"}).status_code == 403
    notice.refresh_from_db()
    assert notice.state == NoticeState.OPEN


def test_board_filters_and_never_shows_phone_numbers(as_user, drive, case, supervisor, departments):
    other = drive.dispatched(at(2026, 3, 2, 9), departments["traffic"], title="交通信号灯故障")
    drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 4, 17))
    drive.issue(at(2026, 3, 2, 10), supervisor, other, departments["traffic"], at(2026, 3, 4, 17))
    client = as_user(supervisor)
    with drive.at(at(2026, 3, 2, 11)):
        html = client.get(reverse("supervision:board")).content.decode()
        assert case.number in html and other.number in html
        assert "13812345678" not in html and "138****5678" not in html and "5678" not in html
        html = client.get(
            reverse("supervision:board"),
            {"department": departments["traffic"].pk, "status": "supervised"},
        ).content.decode()
        assert other.number in html and case.number not in html
        html = client.get(reverse("supervision:board"), {"status": "overdue"}).content.decode()
        assert case.number not in html and "没有符合条件的案件" in html


def test_daily_review_page_and_done_button(as_user, drive, clerk, departments):
    fresh = drive.dispatched(at(2026, 3, 4, 11), departments["city"], title="新案在办")
    client = as_user(clerk)
    with drive.at(at(2026, 3, 5, 9)):
        html = client.get(reverse("supervision:daily_review")).content.decode()
        assert fresh.number in html and 'data-count="total">1<' in html and 'data-changed="1"' in html
        response = client.post(
            reverse("supervision:daily_review_done"),
            {"note": "已查看", "as_of": "2026-03-05T09:00:00+08:00"},
        )
        assert response.status_code == 302
    review = DailyReview.objects.get()
    assert (review.reviewer, review.note, review.covered_until) == (
        clerk,
        "已查看",
        at(2026, 3, 5, 9),
    )
    with drive.at(at(2026, 3, 5, 10)):
        html = client.get(reverse("supervision:daily_review")).content.decode()
        assert 'data-changed="1"' not in html and 'data-count="changed">0<' in html


def test_daily_review_is_not_for_handlers(as_user, handler):
    client = as_user(handler)
    assert client.get(reverse("supervision:daily_review")).status_code == 403
    assert client.post(reverse("supervision:daily_review_done"), {}).status_code == 403


def test_case_panel_and_time_left_filter(rf, drive, case, supervisor, handler, departments):
    from datetime import timedelta

    from huiyin.cases.panels import Panel, render_case_panels
    from huiyin.supervision import panels
    from huiyin.supervision.templatetags.supervision import time_left

    notice = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 4, 17))
    panel = Panel("supervision", "supervision/_case_panel.html", panels.case_panel)
    for user, can_issue in ((supervisor, True), (handler, False)):
        request = rf.get("/")
        request.user = user
        (html,) = render_case_panels(request, case, (panel,))
        assert notice.number in html and "专项督办" not in html
        assert ("?case=" in html) is can_issue
    assert time_left(timedelta(days=2, hours=3, minutes=5)) == "剩余 2天3小时"
    assert time_left(timedelta(hours=-5, minutes=-12)) == "已超期 5小时12分"
    assert time_left(timedelta(minutes=40)) == "剩余 40分"
    assert time_left(None) == "—"
