"""Callback planning and records (F40/F41) against a real database."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from huiyin.cases import services as cs
from huiyin.cases.models import CaseRound
from huiyin.cases.workflow import required_step
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.core.models import Notification
from huiyin.followup import planning
from huiyin.followup.models import Callback, CallbackAttempt, CallbackStatus
from huiyin.followup.services import callback_record
from huiyin.handling import actions as handling_actions
from huiyin.handling.services import investigation_add
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

PROPERTY_SHARES = [("leader", 0.10), ("dept_head", 0.30), ("callback_officer", 0.60)]


def test_quota_sampling_hits_the_shares_and_is_reproducible():
    numbers = [f"20260{m}{d:02d}-{i:05d}" for m in range(1, 10) for d in range(1, 29) for i in range(1, 41)]
    draws = [planning.draw_for("property_management:1", n, 1) for n in numbers]
    assert draws == [planning.draw_for("property_management:1", n, 1) for n in numbers]  # reproducible
    assert draws != [planning.draw_for("property_management:2", n, 1) for n in numbers]  # the seed matters
    roles = Counter(planning.decide(draw=d, shares=PROPERTY_SHARES, mandatory=[]).role for d in draws)
    total = len(draws)  # 10,080 cases
    for role, share in PROPERTY_SHARES:
        assert abs(roles[role] / total - share) < 0.015, (role, roles[role] / total)


def test_partial_shares_leave_cases_unsampled_unless_mandatory():
    shares = [("dept_head", 0.2)]
    assert planning.decide(draw=0.1, shares=shares, mandatory=[]).role == "dept_head"
    assert planning.decide(draw=0.5, shares=shares, mandatory=[]).reason is None
    assert planning.decide(draw=0.5, shares=shares, mandatory=["group_visit"]).reason == "group_visit"
    assert planning.decide(draw=0.5, shares=[], mandatory=[]).reason == "all"


def replied(case, *, clerk, handler, departments):
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    case.refresh_from_db()
    if case.state == "dispatched":
        handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    if required_step(case.stage_switches, "investigation_before_reply"):  # the hospital's
        investigation_add(actor=handler, case_id=case.pk, kind="phone", text="电话核实。")
    if required_step(case.stage_switches, "respondent_statement_before_reply"):  # the hospital's
        investigation_add(actor=handler, case_id=case.pk, kind="statement", text="被投诉人书面说明。")
    cs.case_reply(actor=handler, case_id=case.pk, reply="已修复漏水。", remedy="更换破裂水管")
    case.refresh_from_db()
    return case


def test_a_reply_plans_one_callback_by_the_presets_quota(property_rules, register, clerk, handler, departments):
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    expected = planning.decide(
        draw=planning.draw_for(case.policy_version, case.number, 1), shares=PROPERTY_SHARES, mandatory=[]
    )
    assert (callback.role, callback.reason, callback.status) == (expected.role, "sample", CallbackStatus.DUE)
    assert callback.seed == case.policy_version and callback.due_at is not None


def test_no_callback_where_the_preset_has_no_callback_stage(
    org, register, clerk, handler, departments, hospital_offices
):
    from tests.policy.conftest import activate

    activate(org, "hospital")
    case = replied(register(complainant_kind="outpatient"), clerk=clerk, handler=handler, departments=departments)
    assert not Callback.objects.filter(case=case).exists()


def test_not_reached_three_times_marks_unreachable_and_tells_the_head(
    property_rules, register, clerk, handler, head, departments, officer
):
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    callback_record(actor=officer, callback_id=callback.pk, outcome="not_reached")
    callback.refresh_from_db()
    assert (callback.status, callback.attempts) == (CallbackStatus.DUE, 1) and callback.next_try_at
    callback_record(actor=officer, callback_id=callback.pk, outcome="not_reached")
    callback_record(actor=officer, callback_id=callback.pk, outcome="not_reached")
    callback.refresh_from_db()
    assert (callback.status, callback.attempts) == (CallbackStatus.UNREACHABLE, 3)
    assert Notification.objects.filter(recipient=head, key=f"callback:{callback.pk}:unreachable").exists()
    case.refresh_from_db()
    assert case.state == "replied"  # nobody confirmed anything
    with pytest.raises(ApplicationError, match="未重复计入"):
        callback_record(actor=officer, callback_id=callback.pk, outcome="not_reached")
    assert CallbackAttempt.objects.filter(callback=callback).count() == 3


def test_satisfied_closes_the_case_with_the_callback_as_confirmation(
    property_rules, register, clerk, handler, departments, officer
):
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    with pytest.raises(ValidationFailed) as info:
        callback_record(actor=officer, callback_id=callback.pk, outcome="reached")
    assert info.value.field == "satisfaction"
    callback_record(
        actor=officer,
        callback_id=callback.pk,
        outcome="reached",
        satisfaction="satisfied",
        findings="现场已无渗水",
        attitude="good",
        charges_checked=True,
    )
    case.refresh_from_db()
    assert case.state == "closed"
    first = CaseRound.objects.get(case=case, number=1)
    assert (first.satisfaction, first.confirmed_by_complainant) == ("satisfied", True)


def test_dissatisfied_reopens_and_again_tells_the_leader(
    property_rules, register, clerk, handler, departments, officer, leader
):
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    first = Callback.objects.get(case=case, round=1)
    callback_record(
        actor=officer, callback_id=first.pk, outcome="reached", satisfaction="dissatisfied", findings="仍在漏水"
    )
    case.refresh_from_db()
    assert (case.state, case.round) == ("accepted", 2)
    assert CaseRound.objects.get(case=case, number=2).reason == "回访不满意：仍在漏水"
    # Round 2 answered: a new callback; dissatisfied again goes to the leader too.
    case = replied(case, clerk=clerk, handler=handler, departments=departments)
    second = Callback.objects.get(case=case, round=2)
    callback_record(actor=officer, callback_id=second.pk, outcome="reached", satisfaction="dissatisfied")
    assert Notification.objects.filter(recipient=leader, key=f"callback:{second.pk}:again").exists()
    case.refresh_from_db()
    assert case.round == 3


def test_only_the_planned_role_or_the_callback_desk_records(property_rules, register, clerk, handler, departments):
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    with pytest.raises(PermissionDeniedError):
        callback_record(actor=handler, callback_id=callback.pk, outcome="not_reached")
    assert not CallbackAttempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_callback_recorded_twice_at_once_counts_once(property_rules, register, clerk, handler, departments, org):
    officer = make_staff(org, "officer", [Role.CALLBACK_OFFICER])
    colleague = make_staff(org, "officer2", [Role.CALLBACK_OFFICER])
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    barrier, results = threading.Barrier(2), {}

    def work(name, actor):
        try:
            barrier.wait()
            callback_record(actor=actor, callback_id=callback.pk, outcome="reached", satisfaction="satisfied")
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - checked below
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n, a)) for n, a in (("a", officer), ("b", colleague))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted(str(type(r).__name__) if r != "ok" else "ok" for r in results.values())
    assert outcomes == ["CallbackDone", "ok"], results  # the loser is told it was already recorded
    assert CallbackAttempt.objects.filter(callback=callback).count() == 1
    case.refresh_from_db()
    assert case.state == "closed"


def test_closing_from_the_case_page_completes_the_planned_callback(
    property_rules, register, clerk, handler, departments
):
    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    cs.case_close(
        actor=clerk, case_id=case.pk, satisfaction="basically_satisfied", callback_note="电话回访", confirmed=True
    )
    callback = Callback.objects.get(case=case)
    assert (callback.status, callback.satisfaction, callback.done_by) == (
        CallbackStatus.DONE,
        "basically_satisfied",
        clerk,
    )


# --- the complainant's own rating ------------------------------------------------------------


def test_a_rating_link_lands_on_the_case_once(property_rules, register, clerk, handler, departments, officer, client):
    from huiyin.followup.services import rating_link_issue

    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    link, url = rating_link_issue(actor=officer, callback_id=callback.pk)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert token not in link.token_hash  # only the hash is stored
    page = client.get(f"/rate/{token}/")
    assert page.status_code == 200 and case.number in page.content.decode()

    bad = client.post(f"/rate/{token}/", {"satisfaction": "very_happy"})
    assert "请选择满意、基本满意或不满意" in bad.content.decode()
    assert not Callback.objects.get(pk=callback.pk).satisfaction  # nothing counted

    ok = client.post(f"/rate/{token}/", {"satisfaction": "dissatisfied", "comment": "维修后又坏了"})
    assert "感谢您的评价" in ok.content.decode()
    case.refresh_from_db()
    assert (case.state, case.round) == ("accepted", 2)  # like a dissatisfied callback: reopened
    callback.refresh_from_db()
    assert (callback.status, callback.satisfaction) == (CallbackStatus.DONE, "dissatisfied")

    again = client.post(f"/rate/{token}/", {"satisfaction": "satisfied"})
    assert "已经使用过" in again.content.decode()
    case.refresh_from_db()
    assert case.round == 2


def test_an_expired_or_unknown_link_is_refused(property_rules, register, clerk, handler, departments, officer, client):
    from django.utils import timezone

    from huiyin.followup.models import RatingLink
    from huiyin.followup.services import rating_link_issue

    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    link, url = rating_link_issue(actor=officer, callback_id=Callback.objects.get(case=case).pk)
    RatingLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    token = url.rstrip("/").rsplit("/", 1)[1]
    expired = client.post(f"/rate/{token}/", {"satisfaction": "satisfied"})
    assert "已过期" in expired.content.decode()
    assert client.get("/rate/not-a-token/").status_code == 400
    case.refresh_from_db()
    assert case.state == "replied"


def test_a_problem_found_raises_a_rectification_task_within_24_hours(
    property_rules, register, clerk, handler, head, departments, officer
):
    from huiyin.followup.models import RectificationTask
    from huiyin.followup.services import task_done

    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    callback_record(
        actor=officer,
        callback_id=callback.pk,
        outcome="reached",
        satisfaction="basically_satisfied",
        problem="楼道墙面修补处未刷漆",
    )
    task = RectificationTask.objects.get(callback=callback)
    assert task.due_at - task.created_at == timedelta(hours=24)  # the property preset
    assert task.department_id == departments["city"].pk
    assert Notification.objects.filter(recipient=head, key=f"callback-task:{task.pk}").exists()
    case.refresh_from_db()
    assert case.state == "closed"  # basically satisfied: closed, the problem is tracked on its own
    with pytest.raises(ValidationFailed):
        task_done(actor=head, task_id=task.pk, note="  ")
    other = make_staff(case.organization, "other_dept", [Role.DEPT_HEAD], departments["housing"])
    with pytest.raises(PermissionDeniedError):
        task_done(actor=other, task_id=task.pk, note="已刷漆")
    task_done(actor=head, task_id=task.pk, note="已于次日刷漆")
    task.refresh_from_db()
    assert (task.status, task.done_by) == ("done", head)
    with pytest.raises(ApplicationError, match="已完成"):
        task_done(actor=head, task_id=task.pk, note="再次")


def test_a_rectification_task_is_timed_by_the_policy_engine_and_outlives_the_closing(
    property_rules, register, clerk, handler, head, departments, officer
):
    """The written-notice limit is a clock: it keeps running after the satisfied callback
    closes the case, the sweeper escalates it when late, and it stops when put right."""
    from django.utils import timezone

    from huiyin.deadlines.models import Clock, ClockAction
    from huiyin.deadlines.sweeper import sweep_until_idle
    from huiyin.followup.models import RectificationTask
    from huiyin.followup.services import task_done

    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    callback_record(
        actor=officer,
        callback_id=callback.pk,
        outcome="reached",
        satisfaction="satisfied",
        problem="单元门闭门器未更换",
    )
    case.refresh_from_db()
    task = RectificationTask.objects.get(callback=callback)
    clock = Clock.objects.get(case=case, stage="callback_task")
    assert case.state == "closed"
    assert (clock.state, clock.due_at) == ("running", task.due_at)
    later = task.due_at + timedelta(hours=5)
    sweep_until_idle(now=later, worker_id="test")
    assert set(ClockAction.objects.filter(clock=clock).values_list("action", flat=True)) >= {"overdue"}
    task_done(actor=head, task_id=task.pk, note="已更换闭门器")
    clock.refresh_from_db()
    assert (clock.state, clock.stop_reason) == ("stopped", "done")
    assert clock.stopped_at <= timezone.now()


@pytest.fixture
def head_decides(org):
    """The property rules with 'dissatisfied → the department head decides' and no
    confirmation needed to close."""
    from huiyin.policy.presets import load_preset_text
    from huiyin.policy.services import policy_activate
    from tests.policy.conftest import presets_dir

    text = (presets_dir() / "property_management.yaml").read_text(encoding="utf-8")
    assert "on_dissatisfied: reopen" in text
    assert "confirmation_to_close: true" in text
    preset = load_preset_text(
        text.replace("on_dissatisfied: reopen", "on_dissatisfied: dept_head_decides").replace(
            "confirmation_to_close: true", "confirmation_to_close: false"
        )
    )
    version, _created = policy_activate(organization=org, preset=preset, actor=None)
    return version


def test_dissatisfied_asks_the_department_head_where_the_preset_says_so(
    head_decides, register, clerk, handler, head, housing_head, departments, officer
):
    from huiyin.followup.models import HeadDecision
    from huiyin.followup.selectors import awaiting_decision
    from huiyin.followup.services import dissatisfaction_decide

    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    callback_record(
        actor=officer, callback_id=callback.pk, outcome="reached", satisfaction="dissatisfied", findings="认为赔偿太少"
    )
    case.refresh_from_db()
    callback.refresh_from_db()
    assert (case.state, case.round) == ("replied", 1)  # not reopened: waiting for the head
    assert (callback.status, callback.head_decision) == ("done", HeadDecision.PENDING)
    assert Notification.objects.filter(recipient=head, key=f"callback:{callback.pk}:decide").exists()
    assert list(awaiting_decision(head)) == [callback]
    assert list(awaiting_decision(housing_head)) == []  # another department's head does not see it
    with pytest.raises(PermissionDeniedError):
        dissatisfaction_decide(actor=housing_head, callback_id=callback.pk, decision="close", note="维持")
    with pytest.raises(ValidationFailed) as info:
        dissatisfaction_decide(actor=head, callback_id=callback.pk, decision="close", note=" ")
    assert info.value.field == "head_note"
    callback.refresh_from_db()
    assert callback.head_decision == HeadDecision.PENDING  # refused: nothing changed
    dissatisfaction_decide(
        actor=head,
        callback_id=callback.pk,
        decision="close",
        note="已按合同赔偿，维持原处理",
        expected_version=callback.version,
    )
    case.refresh_from_db()
    assert case.state == "closed"
    assert CaseRound.objects.get(case=case, number=1).satisfaction == "dissatisfied"
    with pytest.raises(ApplicationError, match="已有决定"):
        dissatisfaction_decide(actor=head, callback_id=callback.pk, decision="reopen", note="改为重办")


def test_while_the_head_decides_nobody_else_closes_or_reopens_and_the_callback_clock_stops(
    head_decides, register, clerk, handler, head, departments, officer
):
    from huiyin.deadlines.models import Clock
    from huiyin.followup.services import dissatisfaction_decide

    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    assert Clock.objects.get(case=case, stage="callback").state == "running"
    callback = Callback.objects.get(case=case)
    callback_record(actor=officer, callback_id=callback.pk, outcome="reached", satisfaction="dissatisfied")
    clock = Clock.objects.get(case=case, stage="callback")
    assert (clock.state, clock.stop_reason) == ("stopped", "done")  # the callback was made in time
    for attempt in (
        lambda: cs.case_close(actor=clerk, case_id=case.pk, satisfaction="satisfied", confirmed=True),
        lambda: cs.case_reopen(actor=clerk, case_id=case.pk, reason="自行重办"),
    ):
        with pytest.raises(ApplicationError) as info:
            attempt()
        assert info.value.code == "head_decision_pending"
    case.refresh_from_db()
    assert (case.state, case.round) == ("replied", 1)
    dissatisfaction_decide(actor=head, callback_id=callback.pk, decision="reopen", note="确需重新处理")
    case.refresh_from_db()
    assert (case.state, case.round) == ("accepted", 2)


def test_the_head_may_send_a_dissatisfied_case_back_for_another_round(
    org, register, clerk, handler, head, departments, officer
):
    from huiyin.followup.services import dissatisfaction_decide
    from huiyin.policy.presets import load_preset_text
    from huiyin.policy.services import policy_activate
    from tests.policy.conftest import presets_dir

    # With the owner's confirmation required to close, the head can only send it back.
    text = (presets_dir() / "property_management.yaml").read_text(encoding="utf-8")
    policy_activate(
        organization=org,
        actor=None,
        preset=load_preset_text(text.replace("on_dissatisfied: reopen", "on_dissatisfied: dept_head_decides")),
    )

    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    callback_record(actor=officer, callback_id=callback.pk, outcome="reached", satisfaction="dissatisfied")
    with pytest.raises(ValidationFailed) as info:
        dissatisfaction_decide(actor=head, callback_id=callback.pk, decision="close", note="维持")
    assert info.value.field == "decision"
    assert Callback.objects.get(pk=callback.pk).head_decision == "pending"
    dissatisfaction_decide(actor=head, callback_id=callback.pk, decision="reopen", note="确有遗漏，重新维修")
    case.refresh_from_db()
    assert (case.state, case.round) == ("accepted", 2)
    assert CaseRound.objects.get(case=case, number=2).reason == "回访不满意，部门负责人决定重办：确有遗漏，重新维修"


def test_an_on_site_callback_is_signed_and_a_bad_signature_counts_nothing(
    property_rules, register, clerk, handler, departments, officer
):
    from tests.handling.test_services import png_data_url

    case = replied(register(), clerk=clerk, handler=handler, departments=departments)
    callback = Callback.objects.get(case=case)
    with pytest.raises(ValidationFailed) as info:
        callback_record(
            actor=officer,
            callback_id=callback.pk,
            outcome="reached",
            satisfaction="satisfied",
            method="on_site",
            signature_drawn="data:image/png;base64,bm90IGEgcG5n",
        )
    assert info.value.field == "signature"
    with pytest.raises(ValidationFailed):
        callback_record(
            actor=officer, callback_id=callback.pk, outcome="not_reached", signature_drawn=png_data_url()[0]
        )
    callback.refresh_from_db()
    assert (callback.attempts, callback.status) == (0, "due")  # refused: nothing counted
    url, data = png_data_url()
    callback_record(
        actor=officer,
        callback_id=callback.pk,
        outcome="reached",
        satisfaction="satisfied",
        method="on_site",
        signature_drawn=url,
        findings="现场查看，维修良好",
        charges_checked=True,
        attitude="good",
    )
    callback.refresh_from_db()
    assert callback.method == "on_site" and callback.signature is not None
    with callback.signature.file.open("rb") as stored:
        assert stored.read() == data
    assert callback.signature.case_id == case.pk


def test_an_anonymous_complainant_without_a_phone_is_recorded_as_no_contact(
    client, property_rules, register, clerk, handler, departments, officer
):
    """无法回访: nobody can call back a complainant who left no phone number. The callback is
    recorded as impossible with its reason, not left on the queue; the callback rate counts
    only rounds that could be called back and the no-contact ones apart; the case page says
    so in both languages."""
    from django.urls import reverse

    from huiyin.cases.services import PartyInput
    from huiyin.followup.selectors import queue
    from huiyin.reports.facts import facts_for

    nobody = replied(register(party=PartyInput(anonymous=True)), clerk=clerk, handler=handler, departments=departments)
    someone = replied(register(), clerk=clerk, handler=handler, departments=departments)
    row = Callback.objects.get(case=nobody)
    assert (row.status, row.no_contact_reason) == (CallbackStatus.NO_CONTACT, "anonymous")
    assert Callback.objects.get(case=someone).status == CallbackStatus.DUE
    Callback.objects.update(role=Role.CALLBACK_OFFICER)
    assert list(queue(officer).values_list("case_id", flat=True)) == [someone.pk]
    assert nobody.events.filter(kind="callback_no_contact", data__no_contact_reason="anonymous").exists()

    facts = facts_for([nobody.pk, someone.pk])
    totals = {
        case_id: Counter(k for day in fact.counts.values() for k, v in day.items() for _ in range(v))
        for case_id, fact in facts.items()
    }
    assert totals[nobody.pk]["answered"] == 1 and totals[nobody.pk]["answered_reachable"] == 0
    assert totals[nobody.pk]["callbacks_no_contact"] == 1 and totals[nobody.pk]["callbacks_planned"] == 0
    assert totals[someone.pk]["answered_reachable"] == 1 and totals[someone.pk]["callbacks_planned"] == 1

    client.force_login(handler)
    page = client.get(reverse("cases:detail", args=[nobody.pk])).content.decode()
    assert "无法回访" in page and "匿名反映，未留联系电话" in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("cases:detail", args=[nobody.pk])).content.decode()
    assert "No callback possible" in page and "Anonymous, no phone number left" in page
