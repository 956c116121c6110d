"""The answer promised at a callback (回访中不能当即答复的，应告知预约时间答复, seeds/000 line 363)
runs a deadline clock: started with the promise, warned and marked overdue by the sweeper,
met by the answer recorded on the case page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from huiyin.cases.services import case_reopen
from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError, StaleObject, ValidationFailed
from huiyin.core.models import Notification
from huiyin.deadlines.models import Clock, ClockAction
from huiyin.deadlines.selectors import case_clocks
from huiyin.deadlines.sweeper import sweep_until_idle
from huiyin.followup.models import Callback, PromisedAnswer
from huiyin.followup.services import ANSWER_STAGE, callback_record, promised_answer_give
from huiyin.orgs.models import Organization
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.followup.test_callbacks import replied

pytestmark = pytest.mark.django_db

QUESTION = "楼道灯以后由谁负责定期检查？"


@pytest.fixture
def promised(property_rules, register, clerk, handler, head, departments, officer):
    """A satisfied callback that leaves one question open, to be answered in two days."""
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    answer_by = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    callback_record(
        actor=officer,
        callback_id=callback.pk,
        outcome="reached",
        satisfaction="satisfied",
        pending_question=QUESTION,
        answer_by=answer_by,
    )
    case.refresh_from_db()
    return case, PromisedAnswer.objects.get(callback=callback), answer_by


def test_the_promise_starts_a_clock_due_at_the_promised_time_that_outlives_the_closing(promised, head):
    case, promise, answer_by = promised
    clock = Clock.objects.get(case=case, stage=ANSWER_STAGE)
    assert case.state == "closed"  # satisfied: closed, the question is still owed
    assert (clock.state, clock.due_at, clock.subject_id) == ("running", answer_by, promise.pk)
    assert clock.label == "回访预约答复"
    assert clock.warn_at is not None and clock.started_at < clock.warn_at < clock.due_at
    assert (promise.question, promise.answer_by, promise.status) == (QUESTION, answer_by, "open")
    # the heads' desk entry stays although the case is closed
    assert Notification.objects.filter(recipient=head, kind="callback-question", done_at__isnull=True).exists()


def test_the_sweeper_warns_before_the_promised_time_and_marks_it_overdue_after(promised, handler):
    case, _promise, answer_by = promised
    clock = Clock.objects.get(case=case, stage=ANSWER_STAGE)
    sweep_until_idle(now=clock.warn_at + timedelta(minutes=1), worker_id="test")
    assert set(ClockAction.objects.filter(clock=clock).values_list("action", flat=True)) == {"warn"}
    warning = Notification.objects.get(recipient=handler, key=f"clock:{clock.pk}:warn:0")
    assert "回访预约答复" in warning.text and case.number in warning.text
    sweep_until_idle(now=answer_by + timedelta(minutes=5), worker_id="test")
    clock.refresh_from_db()
    assert clock.overdue_at is not None
    assert Notification.objects.filter(recipient=handler, key=f"clock:{clock.pk}:overdue:0").exists()


def test_the_answer_meets_the_clock_and_goes_into_the_history(promised, handler, head):
    case, promise, _answer_by = promised
    with pytest.raises(ValidationFailed) as refused:
        promised_answer_give(actor=handler, promise_id=promise.pk, answer="   ")
    assert list(refused.value.errors) == ["answer"] and "答复内容" in str(refused.value)
    promised_answer_give(
        actor=handler, promise_id=promise.pk, answer="已告知业主：由物业工程部每月检查一次。", expected_version=1
    )
    promise.refresh_from_db()
    clock = Clock.objects.get(case=case, stage=ANSWER_STAGE)
    assert (promise.status, promise.answered_by, promise.late) == ("answered", handler, False)
    assert (clock.state, clock.stop_reason, clock.met) == ("stopped", "done", True)
    assert not Notification.objects.filter(recipient=head, kind="callback-question", done_at__isnull=True).exists()
    assert case.events.filter(kind="note", data__promised_answer_id=promise.pk).count() == 2
    with pytest.raises(ApplicationError, match="已经答复过"):
        promised_answer_give(actor=handler, promise_id=promise.pk, answer="再答一次")


def test_who_may_record_the_answer_and_a_stale_form(promised, org, departments, handler):
    _case, promise, _answer_by = promised
    other = make_staff(org, "other_dept", [Role.HANDLER], departments["housing"])
    with pytest.raises(PermissionDeniedError):
        promised_answer_give(actor=other, promise_id=promise.pk, answer="答复")
    stranger_org = Organization.objects.create(code="elsewhere", name="别处物业")
    stranger = make_staff(stranger_org, "stranger", [Role.LEADER])
    with pytest.raises(NotFound):
        promised_answer_give(actor=stranger, promise_id=promise.pk, answer="答复")
    with pytest.raises(StaleObject):
        promised_answer_give(actor=handler, promise_id=promise.pk, answer="答复", expected_version=7)
    assert PromisedAnswer.objects.get(pk=promise.pk).status == "open"


def test_the_clock_shows_on_the_case_page_desk_and_board_and_the_answer_is_recorded_there(
    promised, handler, leader, client
):
    case, promise, answer_by = promised
    client.force_login(handler)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="promised-answers"' in page and QUESTION in page and "登记答复" in page
    assert "回访预约答复" in page  # the deadline panel's clock
    clock = Clock.objects.get(case=case, stage=ANSWER_STAGE)
    sweep_until_idle(now=clock.warn_at + timedelta(minutes=1), worker_id="test")
    client.force_login(leader)
    board = client.get(reverse("supervision:board") + "?status=warned").content.decode()
    assert case.number in board and "回访预约答复" in board
    client.force_login(handler)
    assert "回访预约答复" in client.get(reverse("cases:desk")).content.decode()
    url = reverse("followup:promised_answer", args=[promise.pk])
    blank = client.post(url, {"answer": "", "version": promise.version})
    assert blank.status_code == 400 and "请填写答复内容" in blank.content.decode()
    done = client.post(url, {"answer": "已电话告知业主由工程部每月检查。", "version": promise.version})
    assert done.status_code == 302
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "已按时答复" in page and f"answers/{promise.pk}/" not in page


def test_a_promise_made_before_a_reopening_stays_on_the_case_pages_deadline_panel(promised, clerk, handler, client):
    """重办 starts a new round; the answer promised at the first round's callback is still
    owed, so its clock stays on the panel beside the new round's, until it is answered."""
    case, promise, _answer_by = promised
    reopened = case_reopen(actor=clerk, case_id=case.pk, reason="业主来电：漏水复发")
    assert reopened.round == 2
    stages = [c.stage for c in case_clocks(case=reopened)]
    assert ANSWER_STAGE in stages
    client.force_login(handler)
    assert "回访预约答复" in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    promise.refresh_from_db()
    promised_answer_give(
        actor=handler, promise_id=promise.pk, answer="已电话告知业主。", expected_version=promise.version
    )
    # answered: an earlier round's stopped clock leaves the panel (the answer stays in its own panel)
    assert ANSWER_STAGE not in [c.stage for c in case_clocks(case=reopened)]
