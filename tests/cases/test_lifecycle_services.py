"""Lifecycle services against a real database: state, permission, events, rounds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from huiyin.cases import services
from huiyin.cases.actions import all_specs, allowed_actions, spec_for
from huiyin.cases.errors import InvalidTransition
from huiyin.cases.events import EventKind
from huiyin.cases.models import CaseRound, Event
from huiyin.cases.selectors import verify_event_chain
from huiyin.cases.triggers import events_writable
from huiyin.cases.workflow import EDGES, CaseState, Stage, find_edge
from huiyin.core.errors import PermissionDeniedError, ValidationFailed
from huiyin.handling import actions as handling_actions

pytestmark = pytest.mark.django_db

S = CaseState


def run_to(case, state, *, clerk, handler, leader):
    """Drive a case along the main path up to ``state`` through the services."""
    path = [
        (S.ACCEPTED, lambda: services.case_accept(actor=clerk, case_id=case.pk)),
        (
            S.DISPATCHED,
            lambda: handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=handler.department_id),
        ),
        (S.IN_PROGRESS, lambda: handling_actions.case_sign_for(actor=handler, case_id=case.pk)),
        (
            S.PENDING_APPROVAL,
            lambda: handling_actions.case_submit_for_approval(
                actor=handler, case_id=case.pk, proposal="已协调物业维修", outcome="resolved"
            ),
        ),
        (S.APPROVED, lambda: handling_actions.case_approve(actor=leader, case_id=case.pk, comments="同意")),
        (S.REPLIED, lambda: services.case_reply(actor=handler, case_id=case.pk, reply="物业已于今日维修完毕")),
        (S.CLOSED, lambda: services.case_close(actor=clerk, case_id=case.pk, satisfaction="satisfied")),
        (S.ARCHIVED, lambda: services.case_archive(actor=leader, case_id=case.pk)),
    ]
    for _target, step in path:
        case.refresh_from_db()
        if case.state == state:
            break
        step()
    case.refresh_from_db()
    assert case.state == state
    return case


def test_main_path_writes_one_event_per_transition(register, clerk, handler, leader):
    case = register()
    run_to(case, S.ARCHIVED, clerk=clerk, handler=handler, leader=leader)
    moves = list(Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED).values_list("data__from", "data__to"))
    assert moves == [
        (S.REGISTERED, S.ACCEPTED),
        (S.ACCEPTED, S.DISPATCHED),
        (S.DISPATCHED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.PENDING_APPROVAL),
        (S.PENDING_APPROVAL, S.APPROVED),
        (S.APPROVED, S.REPLIED),
        (S.REPLIED, S.CLOSED),
        (S.CLOSED, S.ARCHIVED),
    ]
    assert verify_event_chain(case)
    assert case.handler == handler
    assert CaseRound.objects.get(case=case, number=1).reply_text == "物业已于今日维修完毕"


CALLS = {
    "accept": dict(),
    "not_accept": dict(ground="属于诉讼程序", refer_to="人民法院"),
    "not_reaccept": dict(ground="已复核终结"),
    "return": dict(reason="不属于本单位职责", returned_to="来信人"),
    "transfer": dict(to_body="市场监督管理局"),
    "answer_on_spot": dict(reply="已当场解答"),
    "dispatch": None,  # filled with the department id
    "redispatch": None,
    "sign_for": dict(),
    "send_back": dict(reason="不属于本部门"),
    "submit_for_approval": dict(proposal="拟答复", outcome="resolved"),
    "approve": dict(comments="同意"),
    "reject_approval": dict(reason="事实不清"),
    "reply": dict(reply="答复"),
    "close": dict(satisfaction="satisfied"),
    "reopen": dict(reason="不满意"),
    "archive": dict(),
    "request_review": dict(reason="不服答复意见"),
    "decide_review": dict(decision="upheld", opinion="维持原答复意见"),
    "request_rereview": dict(reason="不服复查意见"),
    "decide_rereview": dict(decision="upheld", opinion="维持复查意见"),
    "merge": dict(into_number="20990101-00001"),  # triage's; its own cases are in tests/triage/test_links.py
}


# Review states need the review stage (petition preset): tests/handling covers them.
MAIN_PATH_STATES = [
    s
    for s in S
    if s
    not in (S.NOT_ACCEPTED, S.NOT_REACCEPTED, S.RETURNED, S.TRANSFERRED, S.MERGED, S.UNDER_REVIEW, S.UNDER_REREVIEW)
]
ILLEGAL = [(state, action) for state in MAIN_PATH_STATES for action in CALLS if find_edge(state, action) is None]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_every_illegal_action_is_refused_and_changes_nothing(state, action, register, clerk, handler, leader):
    case = run_to(register(), state, clerk=clerk, handler=handler, leader=leader)
    events_before = Event.objects.filter(case=case).count()
    kwargs = CALLS[action] if CALLS[action] is not None else dict(department_id=handler.department_id)
    with pytest.raises(InvalidTransition) as info:
        spec_for(action).service(actor=leader, case_id=case.pk, **kwargs)
    assert "不能变更为" in str(info.value)
    case.refresh_from_db()
    assert case.state == state
    assert Event.objects.filter(case=case).count() == events_before


@pytest.mark.parametrize("state", [S.NOT_ACCEPTED, S.NOT_REACCEPTED, S.RETURNED, S.TRANSFERRED])
def test_decided_cases_can_only_be_archived(state, register, clerk, leader):
    case = register()
    action = next(e.action for e in EDGES if e.src == S.REGISTERED and e.dst == state)
    spec_for(action).service(actor=clerk, case_id=case.pk, **CALLS[action])
    for other in CALLS:
        if other == "archive":
            continue
        kwargs = CALLS[other] if CALLS[other] is not None else dict(department_id=1)
        with pytest.raises(InvalidTransition):
            spec_for(other).service(actor=leader, case_id=case.pk, **kwargs)
    services.case_archive(actor=leader, case_id=case.pk)
    case.refresh_from_db()
    assert case.state == S.ARCHIVED


def test_a_call_added_to_an_archived_case_is_refused_in_plain_words(register, clerk, leader):
    """No move was asked for: the refusal says the case is read-only, not that it cannot
    change from 已归档 to 已归档; in English the two sentences of a refused move are spaced."""
    case = register()
    spec_for("not_accept").service(actor=clerk, case_id=case.pk, **CALLS["not_accept"])
    services.case_archive(actor=leader, case_id=case.pk)
    with pytest.raises(InvalidTransition) as info:
        services.contact_add(actor=clerk, case_id=case.pk, channel="phone", text="反映人再次来电询问。")
    assert str(info.value) == "已归档的案件只读。"
    with translation.override("en"):
        refused = InvalidTransition(src=S.REPLIED, dst=S.CLOSED, reason=gettext("已归档的案件只读。"))
        assert str(refused) == 'The case is "Replied" and cannot change to "Closed". Archived cases are read-only.'


def test_every_action_has_a_service():
    assert {e.action for e in EDGES} == {s.name for s in all_specs()}


def test_handler_of_another_department_cannot_sign_for(register, clerk, handler, other_handler):
    case = register()
    services.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=handler.department_id)
    with pytest.raises(PermissionDeniedError):
        handling_actions.case_sign_for(actor=other_handler, case_id=case.pk)
    case.refresh_from_db()
    assert case.state == S.DISPATCHED


def test_analyst_cannot_accept(register, analyst):
    case = register()
    with pytest.raises(PermissionDeniedError):
        services.case_accept(actor=analyst, case_id=case.pk)


def test_handler_cannot_approve_own_proposal(register, clerk, handler, leader):
    case = run_to(register(), S.PENDING_APPROVAL, clerk=clerk, handler=handler, leader=leader)
    with pytest.raises(PermissionDeniedError):
        handling_actions.case_approve(actor=handler, case_id=case.pk, comments="自批")


def test_department_head_approves_own_department(register, clerk, handler, leader, head):
    case = run_to(register(), S.PENDING_APPROVAL, clerk=clerk, handler=handler, leader=leader)
    handling_actions.case_approve(actor=head, case_id=case.pk, comments="同意")
    case.refresh_from_db()
    assert case.state == S.APPROVED


def test_approval_stage_off_allows_direct_reply(org, register, clerk, handler, leader):
    org.stage_switches = {Stage.APPROVAL: False}
    org.save()
    case = run_to(register(), S.IN_PROGRESS, clerk=clerk, handler=handler, leader=leader)
    with pytest.raises(InvalidTransition):
        handling_actions.case_submit_for_approval(actor=handler, case_id=case.pk, proposal="x", outcome="resolved")
    services.case_reply(actor=handler, case_id=case.pk, reply="已修复")
    case.refresh_from_db()
    assert case.state == S.REPLIED


def test_callback_stage_requires_satisfaction_to_close(register, clerk, handler, leader):
    case = run_to(register(), S.REPLIED, clerk=clerk, handler=handler, leader=leader)
    with pytest.raises(ValidationFailed) as info:
        services.case_close(actor=clerk, case_id=case.pk)
    assert info.value.field == "satisfaction"
    with pytest.raises(ValidationFailed):
        services.case_close(actor=clerk, case_id=case.pk, satisfaction="dissatisfied")
    case.refresh_from_db()
    assert case.state == S.REPLIED


def test_callback_stage_off_closes_without_callback(org, register, clerk, handler, leader):
    org.stage_switches = {Stage.CALLBACK: False}
    org.save()
    case = run_to(register(), S.REPLIED, clerk=clerk, handler=handler, leader=leader)
    services.case_close(actor=clerk, case_id=case.pk)
    case.refresh_from_db()
    assert case.state == S.CLOSED and case.closed_at is not None


def test_policy_switches_are_frozen_at_registration(org, register, clerk, handler, leader):
    case = register()
    org.stage_switches = {Stage.APPROVAL: False}
    org.save()
    run_to(case, S.IN_PROGRESS, clerk=clerk, handler=handler, leader=leader)
    assert [e.name for e in allowed_actions(handler, case)] == ["submit_for_approval"]


def test_reopen_starts_a_new_round_and_keeps_the_old(register, clerk, handler, leader):
    case = run_to(register(), S.CLOSED, clerk=clerk, handler=handler, leader=leader)
    services.case_reopen(actor=clerk, case_id=case.pk, reason="回访不满意，漏水复发")
    case.refresh_from_db()
    assert (case.state, case.round, case.handler) == (S.ACCEPTED, 2, None)
    first, second = CaseRound.objects.filter(case=case).order_by("number")
    assert first.reply_text == "物业已于今日维修完毕" and first.ended_at is not None
    assert second.reason == "回访不满意，漏水复发" and second.reply_text == ""
    assert Event.objects.filter(case=case, round=1).count() >= 7
    assert Event.objects.filter(case=case, round=2).exists()


def test_answer_on_spot_for_consultations(register, clerk):
    case = register(nature="consultation", text="请问公租房申请需要什么材料？")
    services.case_answer_on_spot(actor=clerk, case_id=case.pk, reply="需身份证、户口本和收入证明")
    case.refresh_from_db()
    assert case.state == S.REPLIED
    assert find_edge(case.state, "close") is not None  # still callback-eligible before closure


def test_not_accept_requires_a_ground(register, clerk):
    case = register()
    with pytest.raises(ValidationFailed) as info:
        handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="  ")
    assert info.value.field == "ground"
    case.refresh_from_db()
    assert case.state == S.REGISTERED


def test_allowed_actions_match_what_services_accept(register, clerk, handler, leader, analyst):
    case = register()
    assert {e.name for e in allowed_actions(clerk, case)} == {
        "accept",
        "not_accept",
        "not_reaccept",
        "return",
        "transfer",
        "answer_on_spot",
        "merge",
    }
    assert allowed_actions(analyst, case) == []


def test_events_are_append_only(register):
    from huiyin.cases.models import AppendOnly

    event = Event.objects.filter(case=register()).first()
    event.data = {"forged": True}
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()


def test_tampering_breaks_the_event_chain(register, clerk):
    case = register()
    services.case_accept(actor=clerk, case_id=case.pk)
    with events_writable():  # the database refuses the edit otherwise (tests/cases/test_audit.py)
        Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED).update(
            data={"from": "registered", "to": "closed"}
        )
    assert not verify_event_chain(case)


def test_dispatch_with_handler_outside_department_is_refused(register, clerk, handler, other_handler):
    case = register()
    services.case_accept(actor=clerk, case_id=case.pk)
    with pytest.raises(ValidationFailed) as info:
        handling_actions.case_dispatch(
            actor=clerk, case_id=case.pk, department_id=handler.department_id, handler_id=other_handler.pk
        )
    assert info.value.field == "handler"
    case.refresh_from_db()
    assert case.state == S.ACCEPTED and case.lead_department is None


def test_send_back_releases_the_department(register, clerk, handler):
    from huiyin.cases.selectors import cases_for

    case = register()
    services.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=handler.department_id)
    handling_actions.case_send_back(actor=handler, case_id=case.pk, reason="不属于本科室职责")
    case.refresh_from_db()
    assert (case.state, case.lead_department, case.handler) == (S.ACCEPTED, None, None)
    assert not cases_for(handler).filter(pk=case.pk).exists()
    event = Event.objects.filter(case=case).last()
    assert event.data["before"]["lead_department"] == handler.department_id


def test_a_service_refuses_a_moment_in_the_future_or_before_the_case_history(register, clerk):
    case = register()
    tomorrow = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        services.case_accept(actor=clerk, case_id=case.pk, at=tomorrow)
    assert "at" in refused.value.errors
    before = case.registered_at - timedelta(hours=1)
    with pytest.raises(ValidationFailed) as refused:
        services.case_accept(actor=clerk, case_id=case.pk, at=before)
    assert "at" in refused.value.errors and "不能早于" in refused.value.errors["at"][0]
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED  # nothing half-done

    later = timezone.now()
    services.case_accept(actor=clerk, case_id=case.pk, at=later)
    assert Event.objects.filter(case=case).order_by("-id").values_list("at", flat=True).first() == later
