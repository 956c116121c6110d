"""Supervision notices: numbering, who may issue, answer and close, and the case events."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from huiyin.cases.models import Event
from huiyin.cases.services import case_accept, case_answer_on_spot, case_close, case_register
from huiyin.core.errors import PermissionDeniedError, ValidationFailed
from huiyin.core.models import Notification
from huiyin.deadlines.models import Clock, ClockState, StopReason
from huiyin.supervision import services
from huiyin.supervision.errors import NoticeStateError
from huiyin.supervision.models import NoticeState, SupervisionNotice, SupervisionSequence
from huiyin.supervision.services import supervision_answer, supervision_close
from tests.conftest import intake

from .conftest import at

pytestmark = pytest.mark.django_db


def notice_clock(notice):
    return Clock.objects.get(subject_kind="supervision_notice", subject_id=notice.pk)


def supervision_events(case):
    return [
        e.data["supervision"]["action"]
        for e in Event.objects.filter(case=case).order_by("id")
        if "supervision" in e.data
    ]


def test_numbers_run_per_organisation_and_year(drive, supervisor, departments):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"])
    first = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 5, 17))
    second = drive.issue(at(2026, 12, 31, 23), supervisor, case, departments["city"], at(2027, 1, 5, 17))
    third = drive.issue(at(2027, 1, 1, 8), supervisor, case, departments["city"], at(2027, 1, 5, 17))
    assert [first.number, second.number, third.number] == [
        "督〔2026〕1号",
        "督〔2026〕2号",
        "督〔2027〕1号",
    ]
    assert (third.year, third.serial) == (2027, 1)


def test_issue_records_event_desk_entry_and_schedule(drive, supervisor, departments, head, handler):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)
    notice = drive.issue(
        at(2026, 3, 2, 10),
        supervisor,
        case,
        departments["city"],
        at(2026, 3, 2, 14),
        kind="special",
    )
    assert notice.state == NoticeState.OPEN and notice.get_kind_display() == "专项督办"
    assert notice.warn_at == at(2026, 3, 2, 13)  # 75 % of the four hours
    clock = notice_clock(notice)
    assert (clock.stage, clock.case, clock.state) == ("supervision", case, ClockState.RUNNING)
    assert (clock.due_at, clock.warn_at, clock.next_action_at) == (notice.due_at, notice.warn_at, notice.warn_at)
    assert clock.rule["escalation"] == [{"role": "leader", "amount": 0, "unit": "minutes", "label": ""}]
    assert supervision_events(case) == ["issued"]
    event = Event.objects.filter(case=case).order_by("-id").first()
    assert event.actor == supervisor and event.data["supervision"]["number"] == notice.number
    assert notice.number in event.data["note"]
    keys = set(
        Notification.objects.filter(key=f"supervision:{notice.pk}:issued").values_list("recipient__username", flat=True)
    )
    assert keys == {"head", "handler"}


def test_a_notice_issued_in_recreated_history_carries_its_own_moment(drive, supervisor, departments, head, handler):
    """``at`` (the demo, an import): the notice, its event, its clock and its desk entries are
    dated when it was issued, its warning counted from then, its number that moment's year;
    its due time is checked against that moment."""
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)
    with drive.at(at(2027, 1, 10, 9)):
        with pytest.raises(ValidationFailed) as refused:
            services.supervision_issue(
                actor=supervisor,
                case_id=case.pk,
                kind="routine",
                department_id=departments["city"].pk,
                requirement="请加快办理。",
                due_at=at(2026, 3, 2, 9),
                at=at(2026, 12, 30, 10),
            )
        assert "due_at" in refused.value.errors
        notice = services.supervision_issue(
            actor=supervisor,
            case_id=case.pk,
            kind="routine",
            department_id=departments["city"].pk,
            requirement="请加快办理。",
            due_at=at(2026, 12, 30, 14),
            at=at(2026, 12, 30, 10),
        )
    assert notice.created_at == at(2026, 12, 30, 10) and notice.number == "督〔2026〕1号"
    assert notice.warn_at == at(2026, 12, 30, 13)  # 75 % of the four hours from the issue
    assert notice_clock(notice).started_at == at(2026, 12, 30, 10)
    event = Event.objects.filter(case=case, kind="supervision_issued").get()
    assert event.at == at(2026, 12, 30, 10)
    notes = Notification.objects.filter(key=f"supervision:{notice.pk}:issued")
    assert notes and {n.created_at for n in notes} == {at(2026, 12, 30, 10)}


@pytest.mark.parametrize("who", ["handler", "clerk", "head", "analyst"])
def test_only_supervisors_and_leaders_issue(request, who, drive, departments):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"])
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDeniedError):
        drive.issue(at(2026, 3, 2, 10), actor, case, departments["city"], at(2026, 3, 5, 17))
    assert not SupervisionNotice.objects.exists()
    assert not SupervisionSequence.objects.exists()
    assert supervision_events(case) == []


def test_leader_issues(drive, leader, departments):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"])
    notice = drive.issue(at(2026, 3, 2, 10), leader, case, departments["city"], at(2026, 3, 5, 17))
    assert notice.issued_by == leader


def test_bad_input_is_refused_with_field_errors(drive, supervisor, departments):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"])
    with pytest.raises(ValidationFailed) as info:
        drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 2, 9))
    assert "due_at" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        drive.issue(
            at(2026, 3, 2, 10),
            supervisor,
            case,
            departments["city"],
            at(2026, 3, 5),
            requirement="  ",
        )
    assert "requirement" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        drive.call(
            at(2026, 3, 2, 10),
            services.supervision_issue,
            actor=supervisor,
            case_id=case.pk,
            kind="x",
            department_id=None,
            requirement="请反馈",
            due_at=at(2026, 3, 5),
        )
    assert set(info.value.errors) == {"kind", "department"}
    assert not SupervisionNotice.objects.exists()


def test_closed_case_cannot_be_supervised(drive, supervisor, departments, clerk):
    case = drive.register(at(2026, 3, 2, 9), nature="consultation")
    drive.call(
        at(2026, 3, 2, 9, 5),
        case_answer_on_spot,
        actor=clerk,
        case_id=case.pk,
        reply="已当场答复。",
    )
    drive.call(at(2026, 3, 2, 9, 6), case_close, actor=clerk, case_id=case.pk, satisfaction="satisfied")
    with pytest.raises(ValidationFailed) as info:
        drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 5))
    assert "case_number" in info.value.errors
    assert not SupervisionSequence.objects.exists()  # the number went back with the transaction


def test_target_department_answers_others_cannot(
    drive, supervisor, departments, head, handler, other_handler, traffic_head
):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)
    notice = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 5, 17))
    for outsider in (other_handler, traffic_head, supervisor):
        with pytest.raises(PermissionDeniedError):
            drive.call(
                at(2026, 3, 3),
                supervision_answer,
                actor=outsider,
                notice_id=notice.pk,
                answer="已处理",
            )
    notice.refresh_from_db()
    assert notice.state == NoticeState.OPEN and notice.answer == ""
    assert supervision_events(case) == ["issued"]

    drive.call(
        at(2026, 3, 3, 9),
        supervision_answer,
        actor=handler,
        notice_id=notice.pk,
        answer="已到现场处理，整改完毕。",
    )
    notice.refresh_from_db()
    assert (notice.state, notice.answered_by, notice.answered_at) == (
        NoticeState.ANSWERED,
        handler,
        at(2026, 3, 3, 9),
    )
    assert not notice.answered_late
    clock = notice_clock(notice)
    assert (clock.state, clock.stop_reason, clock.next_action_at) == (ClockState.STOPPED, StopReason.DONE, None)
    with pytest.raises(NoticeStateError):
        drive.call(at(2026, 3, 3, 10), supervision_answer, actor=head, notice_id=notice.pk, answer="补充")
    assert Notification.objects.filter(recipient=supervisor, key=f"supervision:{notice.pk}:answered").exists()
    assert supervision_events(case) == ["issued", "answered"]


def test_supervisor_closes_handler_cannot(drive, supervisor, departments, handler):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)
    notice = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 5, 17))
    with pytest.raises(PermissionDeniedError):
        drive.call(at(2026, 3, 3), supervision_close, actor=handler, notice_id=notice.pk)
    drive.call(at(2026, 3, 3), supervision_close, actor=supervisor, notice_id=notice.pk, note="已核实")
    notice.refresh_from_db()
    assert (notice.state, notice.closed_by, notice.close_note) == (
        NoticeState.CLOSED,
        supervisor,
        "已核实",
    )
    clock = notice_clock(notice)  # closed before any answer: its clock is cancelled
    assert (clock.state, clock.stop_reason, clock.stopped_at) == (
        ClockState.STOPPED,
        StopReason.CANCELLED,
        at(2026, 3, 3),
    )
    with pytest.raises(NoticeStateError):
        drive.call(at(2026, 3, 3), supervision_close, actor=supervisor, notice_id=notice.pk)
    with pytest.raises(NoticeStateError):
        drive.call(
            at(2026, 3, 3),
            supervision_answer,
            actor=handler,
            notice_id=notice.pk,
            answer="迟到的反馈",
        )
    assert supervision_events(case) == ["issued", "closed"]


def test_failed_issue_gives_its_number_back(drive, supervisor, departments, monkeypatch):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"])

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    real = services.record_event
    monkeypatch.setattr(services, "record_event", boom)
    with pytest.raises(RuntimeError):
        drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 5))
    monkeypatch.setattr(services, "record_event", real)
    notice = drive.issue(at(2026, 3, 2, 11), supervisor, case, departments["city"], at(2026, 3, 5))
    assert notice.number == "督〔2026〕1号"


@pytest.mark.django_db(transaction=True)
def test_parallel_issue_has_no_gap_and_no_duplicate(org, clerk, supervisor, departments):
    threads, per_thread = 6, 4
    case_ids = []
    for _ in range(threads):
        case, _code = case_register(actor=clerk, data=intake(text="并发督办测试：路灯不亮。"))
        case_accept(actor=clerk, case_id=case.pk)
        case_ids.append(case.pk)
    errors = []

    def work(case_id):
        try:
            for _ in range(per_thread):
                services.supervision_issue(
                    actor=supervisor,
                    case_id=case_id,
                    kind="routine",
                    department_id=departments["city"].pk,
                    requirement="请尽快办理。",
                    due_at=timezone.now() + timedelta(days=3),
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(case_id,)) for case_id in case_ids]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    serials = sorted(SupervisionNotice.objects.filter(organization=org).values_list("serial", flat=True))
    assert serials == list(range(1, threads * per_thread + 1))
    numbers = set(SupervisionNotice.objects.values_list("number", flat=True))
    assert len(numbers) == threads * per_thread
    assert SupervisionSequence.objects.get(organization=org).last == threads * per_thread
