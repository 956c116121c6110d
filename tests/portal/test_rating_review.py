"""Rating the answer and asking for review on the portal: through the followup and handling
services staff use, within the preset's limits, and visible in the workbench."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from huiyin.cases.models import Case, CaseRound, Event
from huiyin.cases.workflow import CaseState
from huiyin.followup.models import Callback, CallbackMethod, CallbackStatus
from huiyin.followup.services import PORTAL_RATING_DAYS
from huiyin.handling.models import Review
from huiyin.handling.records import review_limit
from huiyin.orgs.actors import ActorKind

from .conftest import receipt_of, submit

pytestmark = pytest.mark.django_db


def answered(client, org, flow, reply="路灯已修复，感谢您的反映。") -> Case:
    assert submit(client, org).status_code == 302
    case, code = receipt_of(client, org)
    case = flow.replied(case, reply=reply)
    case.code = code  # for coming back later (the session has expired by then)
    return case


def come_back(org, case) -> Client:
    """A browser days later: the session is gone, the number and code open the case again."""
    browser = Client()
    response = browser.post(f"/portal/{org.code}/status/", {"number": case.number, "code": case.code})
    assert response.status_code == 302
    return browser


def rate(client, org, satisfaction: str, comment: str = ""):
    return client.post(f"/portal/{org.code}/case/rate/", {"satisfaction": satisfaction, "comment": comment})


def ask_review(client, org, reason: str = "答复没有解决路灯问题，请求复查。"):
    return client.post(f"/portal/{org.code}/case/review/", {"reason": reason})


def error_of(response, field: str) -> str:
    html = response.content.decode()
    assert f'id="err-{field}"' in html, html[:4000]
    return html.split(f'id="err-{field}"', 1)[1].split("</div>", 1)[0]


def test_satisfied_closes_the_case_like_a_callback(client, hotline, org, flow, clerk):
    case = answered(client, org, flow)
    page = client.get(f"/portal/{org.code}/case/").content.decode()
    assert 'id="rate"' in page and 'id="review"' not in page  # the hotline has no review
    response = rate(client, org, "satisfied", "修得很快")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    callback = Callback.objects.get(case=case, round=case.round)
    assert (callback.status, callback.satisfaction, callback.method, callback.findings) == (
        CallbackStatus.DONE,
        "satisfied",
        CallbackMethod.ONLINE,
        "修得很快",
    )
    assert callback.done_by is None
    assert CaseRound.objects.get(case=case, number=1).satisfaction == "satisfied"
    close = Event.objects.filter(case=case, kind="state_changed").order_by("-id").first()
    assert close.data["action"] == "close" and close.actor_kind == ActorKind.PUBLIC and close.actor is None
    page = client.get(f"/portal/{org.code}/case/").content.decode()
    assert 'id="rating-done"' in page and "满意" in page and 'id="rate"' not in page
    # The workbench shows it: the rating in the case's history, by the public.
    staff = Client()
    staff.force_login(clerk)
    detail = staff.get(f"/cases/{case.pk}/").content.decode()
    assert "反映人网上评价：满意（修得很快）" in detail and "公众（网上平台）" in detail


def test_dissatisfied_reopens_where_there_is_no_review(client, hotline, org, flow):
    case = answered(client, org, flow)
    assert rate(client, org, "dissatisfied", "灯还是不亮").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.round == 2


def test_a_rating_is_taken_once_and_within_its_limit(client, hotline, org, flow):
    case = answered(client, org, flow)
    due = timezone.localtime(CaseRound.objects.get(case=case, number=1).replied_at) + timedelta(days=PORTAL_RATING_DAYS)
    with time_machine.travel(due + timedelta(minutes=1)):
        late = rate(come_back(org, case), org, "satisfied")
        assert late.status_code == 400
        assert f"{due:%Y-%m-%d %H:%M}" in error_of(late, "satisfaction") and "评价期限已过" in error_of(
            late, "satisfaction"
        )
    assert Case.objects.get(pk=case.pk).state == CaseState.REPLIED
    assert not Callback.objects.filter(case=case).exclude(status=CallbackStatus.DUE).exists()
    assert rate(client, org, "basically_satisfied").status_code == 302
    again = rate(client, org, "dissatisfied")
    assert again.status_code == 400 and "没有待您评价的答复" in error_of(again, "satisfaction")
    assert rate(client, org, "excellent").status_code == 400


def test_rating_and_review_need_the_case_held(client, hotline, org, flow):
    answered(client, org, flow)
    stranger = Client()
    refused = rate(stranger, org, "satisfied")
    assert refused.status_code == 403 and "/cases/" not in refused.content.decode()
    assert ask_review(stranger, org).status_code == 403
    assert stranger.get(f"/portal/{org.code}/case/rate/").status_code == 405


def test_dissatisfied_then_review_on_the_petition_preset(client, petition, org, flow, leader):
    case = answered(client, org, flow, reply="经调查，路灯属于物业管理范围，已责成物业修复。")
    assert rate(client, org, "dissatisfied", "物业没有修").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.REPLIED  # the way on is the review, offered next
    page = client.get(f"/portal/{org.code}/case/").content.decode()
    assert 'id="review"' in page and "请求复查" in page
    response = ask_review(client, org)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.UNDER_REVIEW
    review = Review.objects.get(case=case, level=1)
    assert (review.on_behalf, review.requested_by, review.reason) == (False, None, "答复没有解决路灯问题，请求复查。")
    event = Event.objects.filter(case=case, kind="state_changed").order_by("-id").first()
    assert event.data["action"] == "request_review" and event.actor_kind == ActorKind.PUBLIC
    page = client.get(f"/portal/{org.code}/case/").content.decode()
    assert "复查中" in page and 'id="reviews"' in page
    staff = Client()
    staff.force_login(leader)
    detail = staff.get(f"/cases/{case.pk}/").content.decode()
    assert "data-review-online" in detail and "反映人网上评价：不满意（物业没有修）" in detail


def test_review_after_the_limit_is_refused_naming_the_date(client, petition, org, flow):
    case = answered(client, org, flow)
    _answered, due = review_limit(case, 1)
    with time_machine.travel(due + timedelta(minutes=5)):
        browser = come_back(org, case)
        page = browser.get(f"/portal/{org.code}/case/").content.decode()
        assert 'id="review-closed"' in page and 'id="review"' not in page
        late = ask_review(browser, org)
        assert late.status_code == 400
        message = error_of(late, "reason")
        assert "已超过请求期限" in message and f"{timezone.localtime(due):%Y-%m-%d}" in message
    assert Case.objects.get(pk=case.pk).state == CaseState.REPLIED
    assert not Review.objects.filter(case=case).exists()
    assert ask_review(client, org, reason="").status_code == 400


def test_the_public_actor_takes_only_its_own_cases_steps(client, petition, org, flow, clerk):
    """The service seam: a public actor holding another case may not ask for this one's review."""
    from huiyin.core.errors import PermissionDeniedError  # noqa: I001 - this test's subject
    from huiyin.handling.actions import case_request_review
    from huiyin.orgs.actors import public_actor

    case = answered(client, org, flow)
    with pytest.raises(PermissionDeniedError):
        case_request_review(actor=public_actor(org, case_id=case.pk + 1), case_id=case.pk, reason="x", on_behalf=False)
    with pytest.raises(PermissionDeniedError):
        case_request_review(actor=public_actor(org), case_id=case.pk, reason="x", on_behalf=False)
    assert Case.objects.get(pk=case.pk).state == CaseState.REPLIED
