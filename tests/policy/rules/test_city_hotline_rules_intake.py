"""The 12345 / 96310 city hotline's intake rules, each quoting the seed line it enforces
(seeds/000_e82992a73faf22c8.txt lines 18–29, 《举报投诉处置和回访制度》) or, for the
12345 limits the seeds do not give, the policy reference (../shared/POLICY-REFERENCE.md)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from huiyin.cases import services as case_services
from huiyin.cases.actions import allowed_actions
from huiyin.cases.errors import RepeatRegistration
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.cases.services import PartyInput, case_register, contact_add
from huiyin.core import crypto
from huiyin.core.errors import DuplicateSubmission, ValidationFailed
from huiyin.core.models import Notification
from huiyin.deadlines.models import Clock, ClockAction, ClockState
from huiyin.notifications.models import Message, MessageStatus
from huiyin.notifications.services import switch_set
from huiyin.orgs.roles import Cap, Role
from tests.conftest import intake, make_staff
from tests.policy.conftest import activate, at
from tests.race import at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def hotline(org):
    return activate(org, "city_hotline")


def desk_texts(person) -> list[str]:
    return list(Notification.objects.filter(recipient=person).order_by("id").values_list("text", flat=True))


# --- 1. the 3-minute dispatch clock starts at registration -------------------------------------


def test_a_96310_call_registered_and_never_accepted_is_timed_and_goes_overdue(hotline, drive, desk_clerk):
    """seeds/000_e82992a73faf22c8.txt line 24: 「对“96310”投诉电话受理和来访受理需派遣办理的案件通过
    “网上办案系统”派遣(其中“96310”投诉案件须在受理后3分钟内派遣)」 — for the hotline the call is
    受理 when it is taken and registered: the clock runs from then, whether or not anyone
    records an acceptance decision."""
    case = drive.register(at(2026, 3, 2, 10, 0), channel="phone")
    clock = Clock.objects.get(case=case, stage="dispatch")
    assert (clock.started_at, clock.due_at) == (at(2026, 3, 2, 10, 0), at(2026, 3, 2, 10, 3))
    assert drive.sweep(at(2026, 3, 2, 10, 2, 20)).actions == {"warn": 1}
    assert drive.sweep(at(2026, 3, 2, 10, 3, 1)).actions == {"overdue": 1}
    clock.refresh_from_db()
    case.refresh_from_db()
    assert case.state == "registered" and clock.overdue_at == at(2026, 3, 2, 10, 3, 1)
    assert list(ClockAction.objects.filter(clock=clock).values_list("action", flat=True)) == ["warn", "overdue"]
    assert any("已逾期" in t for t in desk_texts(desk_clerk))


def test_accepting_a_96310_call_does_not_restart_its_dispatch_clock(hotline, drive, departments):
    """seeds/000_e82992a73faf22c8.txt line 24: 「其中“96310”投诉案件须在受理后3分钟内派遣」."""
    case = drive.register(at(2026, 3, 2, 10, 0), channel="phone")
    drive.do(at(2026, 3, 2, 10, 2), "accept", case)
    (clock,) = Clock.objects.filter(case=case, stage="dispatch")
    assert clock.due_at == at(2026, 3, 2, 10, 3)
    drive.do(at(2026, 3, 2, 10, 4), "dispatch", case, department_id=departments["city"].pk)
    clock.refresh_from_db()
    assert clock.state == ClockState.STOPPED and clock.met is False  # four minutes after the call: late


# --- 2. a repeat call is recorded and the handler told -------------------------------------------


@pytest.fixture
def dispatched(hotline, drive, departments, handler):
    case = drive.register(at(2026, 3, 2, 10, 0), channel="phone")
    drive.do(at(2026, 3, 2, 10, 1), "accept", case)
    return drive.do(
        at(2026, 3, 2, 10, 2), "dispatch", case, department_id=departments["city"].pk, handler_id=handler.pk
    )


def email_repeat_calls(org) -> None:
    """The administrator switches the 重复来电 message to staff on, by e-mail (通知模板)."""
    switch_set(actor=make_staff(org, "admin", [Role.ADMIN]), purpose="repeat_contact", medium="email", enabled=True)


def test_a_repeat_call_is_recorded_and_the_handler_told_on_the_desk_and_by_email(
    dispatched, org, desk_clerk, handler, settings, django_capture_on_commit_callbacks
):
    """seeds/000_e82992a73faf22c8.txt line 27: 「对于“96310”重复投诉的案件,……原则上“网上办案系统”录入一次,
    但是每次电话受理的情况必须详实书面记录,同时通知承办人与投诉人进行沟通。」"""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    email_repeat_calls(org)
    handler.email = "handler@example.org"
    handler.save()
    with django_capture_on_commit_callbacks(execute=True):
        contact = contact_add(actor=desk_clerk, case_id=dispatched.pk, channel="phone", text="又来电：井盖仍未盖上。")
    assert contact.case_id == dispatched.pk and not contact.is_initial  # recorded on the case, once
    assert Event.objects.filter(case=dispatched, kind=EventKind.CONTACT_ADDED).count() == 1
    (notice,) = desk_texts(handler)
    assert notice.startswith(f"重复来电 {dispatched.number}") and "井盖仍未盖上" in notice
    assert desk_texts(desk_clerk) == []  # the clerk who recorded it is not told what they just did
    (message,) = mail.outbox
    assert message.to == ["handler@example.org"] and dispatched.number in message.subject
    assert "井盖仍未盖上" in message.body and "请与反映人沟通" in message.body
    # Logged on the case like every message, once per event and person, the address masked.
    (row,) = Message.objects.filter(case=dispatched, purpose="repeat_contact")
    assert (row.medium, row.staff_id, row.status) == ("email", handler.pk, MessageStatus.SENT)
    assert row.recipient_masked == "h***@example.org"
    event = Event.objects.get(case=dispatched, kind=EventKind.CONTACT_ADDED)
    assert row.key == f"event:{event.pk}:repeat_contact:email:s{handler.pk}"


def test_without_a_handler_the_lead_departments_heads_hear_of_the_repeat_call(
    hotline, org, drive, departments, head, handler, desk_clerk, settings, django_capture_on_commit_callbacks
):
    """seeds/000_e82992a73faf22c8.txt line 27: 「每次电话受理的情况必须详实书面记录,同时通知承办人与投诉人进行沟通」
    — before a handler is named, the department that must name one is told."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    email_repeat_calls(org)
    head.email, handler.email = "head@example.org", "handler@example.org"
    head.save()
    handler.save()
    case = drive.register(at(2026, 3, 2, 10, 0), channel="phone")
    drive.do(at(2026, 3, 2, 10, 1), "accept", case)
    drive.do(at(2026, 3, 2, 10, 2), "dispatch", case, department_id=departments["city"].pk)
    with django_capture_on_commit_callbacks(execute=True):
        contact_add(actor=desk_clerk, case_id=case.pk, channel="phone", text="再次反映。")
    assert [t for t in desk_texts(head) if t.startswith("重复来电")]
    assert not [t for t in desk_texts(handler) if t.startswith("重复来电")]
    assert [m.to for m in mail.outbox] == [["head@example.org"]]  # the same people as the desk


def test_a_repeat_call_before_dispatch_goes_to_whoever_took_the_first_call(
    hotline, drive, org, desk_clerk, settings, django_capture_on_commit_callbacks
):
    """seeds/000_e82992a73faf22c8.txt line 27: 「同时通知承办人与投诉人进行沟通」 — not yet dispatched,
    the first contact (首问责任人) is the one handling it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    other = make_staff(org, "other_clerk", [Role.INTAKE_CLERK])
    case = drive.register(at(2026, 3, 2, 10, 0), channel="phone")
    with django_capture_on_commit_callbacks(execute=True):
        contact_add(actor=other, case_id=case.pk, channel="phone", text="催办。")
    assert [t for t in desk_texts(desk_clerk) if t.startswith("重复来电")]


def test_a_repeat_call_recorded_by_the_first_receiver_goes_only_to_dispatchers_who_can_open_the_case(
    hotline, drive, org, desk_clerk, head, departments, settings, django_capture_on_commit_callbacks
):
    """Walk of a working day: a repeat call on a consultation answered on the spot, recorded by
    the clerk who took the first call, put 重复来电 on the desk of every department's head —
    each of whom got 403 on opening it. Only those who may dispatch and open the case hear of it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    other = make_staff(org, "other_clerk", [Role.INTAKE_CLERK])
    case = drive.register(at(2026, 3, 2, 10, 0), channel="phone")
    assert case.first_contact_id == desk_clerk.pk and case.lead_department_id is None
    with django_capture_on_commit_callbacks(execute=True):
        contact_add(actor=desk_clerk, case_id=case.pk, channel="phone", text="又来电。")
    assert head.can(Cap.DISPATCH)  # a head dispatches, but within their department's cases
    assert not [t for t in desk_texts(head) if t.startswith("重复来电")]
    assert [t for t in desk_texts(other) if t.startswith("重复来电")]


def test_no_email_where_the_organisation_does_not_email_staff(
    dispatched, desk_clerk, handler, settings, django_capture_on_commit_callbacks
):
    """seeds/000_e82992a73faf22c8.txt line 27: 「同时通知承办人」 — the desk entry always; e-mail only
    where the administrator switched the 重复来电 message on (off until then)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    handler.email = "handler@example.org"
    handler.save()
    with django_capture_on_commit_callbacks(execute=True):
        contact_add(actor=desk_clerk, case_id=dispatched.pk, channel="phone", text="又来电。")
    assert len(desk_texts(handler)) == 1 and mail.outbox == []
    assert not Message.objects.filter(purpose="repeat_contact").exists()


def test_a_same_day_repeat_complaint_is_entered_once(hotline, clerk):
    """seeds/000_e82992a73faf22c8.txt line 27: 「对于“96310”重复投诉的案件,若在同一天内持续发生违法(章)行为的
    或在限期改正期限内的,原则上“网上办案系统”录入一次」 — a second registration today for the same
    number while its case is open is refused on the phone field, naming that case; the clerk
    adds the call to it, or confirms a new matter."""
    first, _code = case_register(actor=clerk, data=intake(new_matter=False))
    with pytest.raises(ValidationFailed) as refused:
        case_register(actor=clerk, data=intake(new_matter=False, text="夜间施工又开始了。"))
    (message,) = refused.value.field_errors()["party_phone"]
    assert first.number in message and "新增来电/来访记录" in message
    second, _code = case_register(actor=clerk, data=intake(new_matter=True, text="另一件事：路灯坏了。"))
    assert second.pk != first.pk


@pytest.mark.django_db(transaction=True)
def test_two_clerks_registering_one_caller_at_the_same_moment_enter_it_once(hotline, clerk):
    """Line 27 when two clerks take the same caller's two calls at once: the repeat check runs
    after the day's number is taken, whose lock orders the two registrations, so the second
    finds the first and is refused as a repeat, as it would be a minute later. Before, both
    checks ran before either committed and the matter was entered twice."""
    outcomes: list[object] = []
    for attempt in range(4):
        caller = PartyInput(name="张伟", phone=f"1390000{attempt:04d}")

        def register(caller=caller):
            return case_register(actor=clerk, data=intake(new_matter=False, party=caller))

        outcomes += at_once(register, register)
    registered = [r for r in outcomes if isinstance(r, tuple)]
    repeats = [r for r in outcomes if isinstance(r, RepeatRegistration)]
    assert (len(registered), len(repeats)) == (4, 4), outcomes
    numbers = sorted(int(n[-5:]) for n in Case.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4]  # the refused one gave its number back: still gapless


def test_a_resubmitted_form_is_the_same_registration_not_a_repeat_call(hotline, clerk):
    """A form sent twice (a dropped connection, a second click) carries one intake token: the
    second send finds the first case instead of being refused as a repeat call about it."""
    first, _code = case_register(actor=clerk, data=intake(new_matter=False, intake_token="tok-resend"))
    with pytest.raises(DuplicateSubmission) as again:
        case_register(actor=clerk, data=intake(new_matter=False, intake_token="tok-resend"))
    assert again.value.case_number == first.number


def test_the_same_number_on_another_day_or_a_closed_case_is_a_new_registration(hotline, clerk, drive):
    """seeds/000_e82992a73faf22c8.txt line 27: 「若在同一天内……原则上“网上办案系统”录入一次」 — only the same day."""
    drive.register(at(2026, 3, 2, 10), actor=clerk, new_matter=False)
    later = drive.register(at(2026, 3, 3, 9), actor=clerk, new_matter=False)
    assert later.number.startswith("20260303")


# --- contact details, answering at once, guiding elsewhere ---------------------------------------


def test_a_named_caller_is_asked_for_a_way_to_reach_them(hotline, clerk):
    """seeds/000_e82992a73faf22c8.txt line 22: 「同时还应向对方问询联络信息,便于今后反馈和回访。」"""
    with pytest.raises(ValidationFailed) as refused:
        case_register(actor=clerk, data=intake(party=PartyInput(name="张伟")))
    assert "联系电话或地址" in refused.value.field_errors()["party_phone"][0]
    by_address, _code = case_register(actor=clerk, data=intake(party=PartyInput(name="张伟", address="幸福路1号")))
    declined, _code = case_register(actor=clerk, data=intake(party=PartyInput(anonymous=True)))
    assert by_address.party.address == "幸福路1号" and declined.party.anonymous


def test_a_consultation_can_be_answered_at_once(hotline, drive):
    """seeds/000_e82992a73faf22c8.txt line 23: 「对属于本局职责范围内的咨询和投诉案件,能够立即答复的应当立即答复」."""
    case = drive.register(at(2026, 3, 2, 10), channel="phone", nature="consultation")
    assert "answer_on_spot" in {a.name for a in allowed_actions(drive.clerk, case)}
    drive.do(at(2026, 3, 2, 10, 1), "answer_on_spot", case, reply="开放时间为每天 9 点至 17 点。")
    assert case.state == "replied"
    assert not Clock.objects.filter(case=case, stage__in=["dispatch", "reply"], state=ClockState.RUNNING).exists()


def test_out_of_scope_matters_name_the_body_to_turn_to(hotline, drive):
    """seeds/000_e82992a73faf22c8.txt line 25: 「对不属于我局受理范围的,应建议和引导反映人向其他相关部门反映。」"""
    case = drive.register(at(2026, 3, 2, 10), channel="phone")
    with pytest.raises(ValidationFailed) as refused:
        drive.do(at(2026, 3, 2, 10, 1), "not_accept", case, ground="out_of_scope")
    assert "refer_to" in refused.value.field_errors()
    drive.do(at(2026, 3, 2, 10, 1), "not_accept", case, ground="out_of_scope", refer_to="relevant_department")
    assert case.state == "not_accepted"


def test_an_efficiency_complaint_is_returned_with_the_reasons(hotline, drive):
    """seeds/000_e82992a73faf22c8.txt line 26: 「其中效能信访投诉的,应回退上一级信访派发机构,说明不属于我局办理的理由,
    并提供相应的建议分流至相关部门进行处置。」"""
    case = drive.register(at(2026, 3, 2, 10), channel="letter")
    kwargs = {"ground": "efficiency_petition_returned", "refer_to": "superior_petition_office"}
    with pytest.raises(ValidationFailed) as refused:
        drive.do(at(2026, 3, 2, 10, 1), "not_accept", case, **kwargs)
    assert "说明不属于本单位办理的理由" in refused.value.field_errors()["note"][0]
    drive.do(at(2026, 3, 2, 10, 1), "not_accept", case, note="属机关效能问题，建议由市效能办处理。", **kwargs)
    event = Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED).latest("id")
    assert event.data["ground_code"] == "efficiency_petition_returned" and event.data["note"].startswith("属机关效能")


# --- 4. the 12345 limits ------------------------------------------------------------------------


def test_a_dispatched_matter_is_signed_for_within_one_working_day(hotline, drive, departments, head):
    """../shared/POLICY-REFERENCE.md line 18 (the seeds give none): 「| 12345 / city hotline | sign for a
    dispatched matter | within 1 working day | common local 12345 rules (the seeds give none) |」."""
    case = drive.register(at(2026, 3, 6, 16), channel="phone")  # a Friday
    drive.do(at(2026, 3, 6, 16, 1), "accept", case)
    drive.do(at(2026, 3, 6, 16, 2), "dispatch", case, department_id=departments["city"].pk)
    clock = Clock.objects.get(case=case, stage="sign_for")
    assert clock.due_at.date().isoformat() == "2026-03-09"  # the next working day, Monday
    assert drive.sweep(at(2026, 3, 10, 0, 0, 1)).actions["overdue"] == 1


@pytest.mark.parametrize(
    ("nature", "urgency", "text", "due"),
    [
        ("consultation", "normal", "请问办理居住证需要什么材料。", "2026-03-04"),  # 2 working days
        ("help", "normal", "家中老人行动不便，请求帮助。", "2026-03-09"),  # 5 working days
        ("complaint", "normal", "楼下餐馆油烟扰民。", "2026-03-23"),  # 15 working days
        ("report", "normal", "有人在河道倾倒垃圾。", "2026-03-23"),  # 15 working days
        ("complaint", "urgent", "路面积水，车辆无法通行。", "2026-03-03"),  # 24 hours
        ("complaint", "major", "广告牌随时可能砸到行人。", "2026-03-02"),  # 2 hours (life, property)
    ],
)
def test_the_answer_is_due_within_the_12345_limits(hotline, drive, nature, urgency, text, due):
    """../shared/POLICY-REFERENCE.md line 19 (the seeds give none): 「| 12345 / city hotline | answer the
    complainant | consultations 2 working days; requests for help 5; complaints and reports 15; urgent
    matters 24 hours; emergencies (life, property) 2 hours | common local 12345 rules; administrators
    adjust |」 — each a default with its source in the preset."""
    case = drive.register(at(2026, 3, 2, 9), channel="phone", nature=nature, urgency=urgency, text=text)
    clock = Clock.objects.get(case=case, stage="reply")
    assert clock.due_at.date().isoformat() == due
    assert "POLICY-REFERENCE.md" in clock.rule["source"] and "管理员可调整" in clock.rule["source"]
    case.refresh_from_db()
    assert case.promised_due_at == clock.due_at  # the receipt promises it


def test_the_hotline_receipt_promises_a_time(hotline, clerk, client):
    """../shared/POLICY-REFERENCE.md line 19 and seeds/000_e82992a73faf22c8.txt line 62:
    「并向来访信访人员出示受理凭证和办理时间限制等信息」."""
    case, code = case_services.case_register(actor=clerk, data=intake())
    client.force_login(clerk)
    session = client.session
    session["receipt_codes"] = {str(case.pk): crypto.seal(code)}
    session.save()
    html = client.get(reverse("cases:receipt", args=[case.pk])).content.decode()
    assert case.promised_due_at is not None
    assert f"{timezone.localtime(case.promised_due_at):%Y年%m月%d日}前答复" in html


# --- 5. online complaints are accepted by the office's website staff --------------------------------


@pytest.fixture
def webmaster(org):
    from huiyin.orgs.models import Department

    office = Department.objects.create(organization=org, code="office", name="办公室", handles_cases=False)
    return make_staff(org, "webmaster", [Role.INTAKE_CLERK], office)


def test_only_the_offices_website_staff_accept_an_online_complaint(hotline, drive, org, webmaster, client):
    """seeds/000_e82992a73faf22c8.txt line 19: 「指挥中心负责受理城市管理局(城管执法局)职能范围内的举报投诉、相关建议、
    法律法规和政策咨询等工作;办公室网络维护工作人员负责对网上投诉案件的受理。」 — the desk (and a leader)
    may not decide an online complaint's acceptance; the office's staff may, and the desk still
    decides the calls."""
    from huiyin.cases.services import case_accept
    from huiyin.core.errors import PermissionDeniedError
    from huiyin.handling import actions as handling_actions

    leader = make_staff(org, "leader", [Role.LEADER])
    online = drive.register(at(2026, 3, 2, 10), channel="online", text="网上反映：人行道被占用摆摊。")
    for actor in (drive.clerk, leader):
        offered = {a.name for a in allowed_actions(actor, online)}
        assert not offered & {"accept", "not_accept", "return", "transfer"}, offered
        with pytest.raises(PermissionDeniedError) as refused, drive.at(at(2026, 3, 2, 10, 5)):
            case_accept(actor=actor, case_id=online.pk)
        assert "网上渠道的诉求由办公室网络维护工作人员负责受理" in refused.value.message
        with pytest.raises(PermissionDeniedError), drive.at(at(2026, 3, 2, 10, 5)):
            handling_actions.case_transfer(actor=actor, case_id=online.pk, to_body="区市场监管局")
    online.refresh_from_db()
    assert online.state == "registered"
    assert {"accept", "not_accept", "return"} <= {a.name for a in allowed_actions(webmaster, online)}
    client.force_login(webmaster)
    html = client.get(reverse("cases:detail", args=[online.pk])).content.decode()
    assert 'data-action="accept"' in html
    drive.do(at(2026, 3, 2, 10, 6), "accept", online, actor=webmaster)
    assert online.state == "accepted"
    # A call is still the command centre's desk's to accept, not the office's.
    call = drive.register(at(2026, 3, 2, 11), channel="phone")
    drive.do(at(2026, 3, 2, 11, 1), "accept", call)
    assert call.state == "accepted"


def test_other_presets_let_the_desk_accept_online_matters(org, drive):
    """seeds/000_e82992a73faf22c8.txt line 19: 「办公室网络维护工作人员负责对网上投诉案件的受理」 is the city bureau's
    rule: the petition office's desk accepts an online petition itself."""
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 10), channel="online")
    assert "accept" in {a.name for a in allowed_actions(drive.clerk, case)}


def test_an_online_complaint_where_no_office_exists_yet_says_what_to_set_up(hotline, drive):
    """The preset names the department (code ``office``) that alone accepts online complaints;
    an organisation that has not created it yet could never accept one: the refusal says so,
    with the code the administrator must give the department."""
    from huiyin.cases.services import case_accept
    from huiyin.core.errors import PermissionDeniedError

    online = drive.register(at(2026, 3, 2, 10), channel="online", text="网上反映：人行道被占用摆摊。")
    with pytest.raises(PermissionDeniedError) as refused, drive.at(at(2026, 3, 2, 10, 5)):
        case_accept(actor=drive.clerk, case_id=online.pk)
    assert "尚未设置编号为“office”的部门" in refused.value.message


def test_the_intake_form_offers_the_new_matter_confirmation_only_after_a_repeat_refusal(hotline, clerk, client):
    """Walk of a working day: an empty phone form offered 确认为新的事项 — "该号码今天已有在办
    案件…" — though no number had been typed; it belongs only to the repeat refusal."""
    client.force_login(clerk)
    url = reverse("cases:intake", args=["phone"])
    form = {"nature": "complaint", "urgency": "normal", "party_name": "张伟", "party_phone": "13812345678"}
    empty = client.post(url, {"nature": "complaint", "urgency": "normal"})
    assert empty.status_code == 400 and 'id="new-matter-box"' not in empty.content.decode()
    bad_phone = client.post(url, {**form, "party_phone": "138abc12345", "text": "夜间施工噪音。"})
    assert bad_phone.status_code == 400 and 'id="new-matter-box"' not in bad_phone.content.decode()

    first, _code = case_register(actor=clerk, data=intake(new_matter=False))
    repeat = client.post(url, {**form, "text": "夜间施工又开始了。", "intake_token": "walk-2"})
    html = repeat.content.decode()
    assert repeat.status_code == 400 and first.number in html and 'id="new-matter-box"' in html
