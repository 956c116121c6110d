"""The property company's rules (preset ``property_management``), one test per rule, each
quoting the seed line it enforces: seeds/000_e82992a73faf22c8.txt lines 67–83 (接待来信来访
来电投诉制度), 326–346 (用户投诉处理制度, 业主投诉处理和分析制度), 347–401 (业主意见调查和回访制度,
回访工作制度). Also the preset-wide rules these presets brought to light: rules keyed on an
administrator's category tags, a yearly survey that opens itself, KPI targets shown.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from huiyin.administration.services import category_set_tags
from huiyin.cases.models import CaseRound, Category
from huiyin.cases.services import case_close, case_reply
from huiyin.core.errors import ApplicationError, ValidationFailed
from huiyin.core.models import Notification
from huiyin.deadlines.models import Clock, Extension
from huiyin.deadlines.services import extension_decide, extension_request
from huiyin.followup.models import Callback, RectificationTask
from huiyin.followup.services import callback_record
from huiyin.orgs.roles import Role
from huiyin.policy.presets import PresetError, load_preset
from huiyin.policy.services import policy_activate, presets_dir
from huiyin.surveys.models import Campaign
from huiyin.surveys.schedule import rounds_due
from huiyin.surveys.services import campaign_create, invitations_issue
from tests.conftest import make_staff
from tests.policy.conftest import activate, at, png_signature

pytestmark = pytest.mark.django_db
QUOTE_FILE = "seeds/000_e82992a73faf22c8.txt"


def end_of(y, m, d):
    return at(y, m, d, 23, 59, 59).replace(microsecond=999999)


def leaf(org, name: str, tags: str = "", parent=None) -> Category:
    node = Category.objects.create(
        organization=org,
        parent=parent,
        name=name,
        full_name=f"{parent.full_name}/{name}" if parent else name,
        tags=tags,
    )
    node.path = f"{parent.path if parent else '/'}{node.pk}/"
    node.save(update_fields=["path"])
    return node


@pytest.fixture
def catalogue(org):
    """An office's own category names: the preset's rules find them by their tags."""
    root = leaf(org, "房屋维修")
    return {
        "lift": leaf(org, "电梯维修", "safety_facility", root),
        "pipe": leaf(org, "管道渗水", "water_leak", root),
        "paint": leaf(org, "墙面粉刷", "", root),
    }


@pytest.fixture
def rules(org, catalogue):
    return activate(org, "property_management")


def in_progress(drive, departments, handler, when, **kwargs):
    case = drive.register(when, channel="phone", **kwargs)
    drive.do(when + timedelta(minutes=30), "dispatch", case, department_id=departments["city"].pk)
    drive.do(when + timedelta(hours=1), "sign_for", case, actor=handler)
    return case


def replied(drive, departments, handler, when, **kwargs):
    case = in_progress(drive, departments, handler, when, **kwargs)
    drive.do(when + timedelta(hours=2), "reply", case, actor=handler, reply="已修复。", remedy="当日更换配件")
    return case


# --- postponement -------------------------------------------------------------------------------


def test_second_extension_of_the_same_matter_is_refused(rules, drive, departments, handler, head):
    """seeds/000_e82992a73faf22c8.txt:75「但不得出现同一件事情有两次推迟处理的情况。」"""
    case = in_progress(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    ext = drive.call(
        at(2026, 3, 3, 9), extension_request, actor=handler, case_id=case.pk, stage="overall", amount=3, reason="配件"
    )
    drive.call(at(2026, 3, 3, 10), extension_decide, actor=head, extension_id=ext.pk, approve=True)
    with pytest.raises(ApplicationError) as info:
        drive.call(
            at(2026, 3, 4, 9),
            extension_request,
            actor=handler,
            case_id=case.pk,
            stage="overall",
            amount=1,
            reason="再等",
        )
    assert info.value.field == "stage" and info.value.code == "second_extension_forbidden"
    assert "同一事项已延期一次，不得再次延期" in str(info.value)
    assert Extension.objects.filter(case=case).count() == 1


def test_the_three_day_answer_limit_cannot_be_postponed(rules, drive, departments, handler):
    """seeds/000_e82992a73faf22c8.txt:342「答复时间最长不应超过三天」"""
    case = in_progress(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    assert Clock.objects.get(case=case, stage="reply").due_at == end_of(2026, 3, 5)
    with pytest.raises(ApplicationError) as info:
        drive.call(
            at(2026, 3, 3, 9), extension_request, actor=handler, case_id=case.pk, stage="reply", amount=1, reason="配件"
        )
    assert info.value.field == "stage" and "只允许延期“办结”" in str(info.value)
    assert not Extension.objects.filter(case=case).exists()


def test_the_promise_is_two_days_and_never_more_than_a_week(rules, drive, departments, handler, head):
    """seeds/000_e82992a73faf22c8.txt:76「承诺时间最好控制在1~2天,一般不超过一周,特殊情况除外。」"""
    case = in_progress(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    overall = Clock.objects.get(case=case, stage="overall")
    assert overall.due_at == end_of(2026, 3, 4)  # 2 days, counted from the next day
    with pytest.raises(ValidationFailed) as info:
        drive.call(
            at(2026, 3, 3, 9),
            extension_request,
            actor=handler,
            case_id=case.pk,
            stage="overall",
            amount=6,
            reason="配件",
        )
    assert info.value.field == "amount"
    ext = drive.call(
        at(2026, 3, 3, 9), extension_request, actor=handler, case_id=case.pk, stage="overall", amount=5, reason="配件"
    )
    drive.call(at(2026, 3, 3, 10), extension_decide, actor=head, extension_id=ext.pk, approve=True)
    overall.refresh_from_db()
    assert overall.due_at == end_of(2026, 3, 9)  # one week after the day of receipt, at the most


# --- the answer -----------------------------------------------------------------------------------


def test_the_answer_states_the_remedy(rules, drive, departments, handler):
    """seeds/000_e82992a73faf22c8.txt:342「在预定时间内向业主答复采取何种补救措施」"""
    case = in_progress(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    with pytest.raises(ValidationFailed) as info:
        case_reply(actor=handler, case_id=case.pk, reply="已处理。")
    assert info.value.field == "remedy" and "补救措施" in str(info.value)
    case.refresh_from_db()
    assert case.state == "in_progress"
    case_reply(actor=handler, case_id=case.pk, reply="已处理。", remedy="当日更换灯具，三日内全楼排查。")
    assert CaseRound.objects.get(case=case, number=1).remedy == "当日更换灯具，三日内全楼排查。"


def test_closing_needs_the_complainants_confirmation(rules, drive, departments, handler, clerk):
    """seeds/000_e82992a73faf22c8.txt:77「需要让对方签字确认的应该留签字记录」"""
    case = replied(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    with pytest.raises(ValidationFailed) as info:
        case_close(actor=clerk, case_id=case.pk, satisfaction="satisfied")
    assert info.value.field == "confirmed"


# --- callbacks ----------------------------------------------------------------------------------


def test_callback_windows_follow_the_administrators_category_tags(rules, drive, departments, handler, catalogue, org):
    """seeds/000_e82992a73faf22c8.txt:394「其中:安全设施维修两天内回访;漏水项目维修三天内回访。」"""
    lift = replied(drive, departments, handler, at(2026, 3, 2, 9), category_id=catalogue["lift"].pk, text="电梯异响。")
    pipe = replied(drive, departments, handler, at(2026, 3, 2, 9), category_id=catalogue["pipe"].pk, text="管道渗水。")
    paint = replied(
        drive, departments, handler, at(2026, 3, 2, 9), category_id=catalogue["paint"].pk, text="墙皮脱落。"
    )
    due = {c.pk: Clock.objects.get(case=c, stage="callback").due_at for c in (lift, pipe, paint)}
    assert due[lift.pk] == end_of(2026, 3, 4)  # 安全设施：两天
    assert due[pipe.pk] == end_of(2026, 3, 5)  # 漏水：三天
    assert due[paint.pk] == end_of(2026, 3, 9)  # 其他：一星期
    admin = make_staff(org, "admin", [Role.ADMIN])
    category_set_tags(actor=admin, category_id=catalogue["paint"].pk, tags="water_leak")  # the office's own call
    again = replied(drive, departments, handler, at(2026, 3, 2, 9), category_id=catalogue["paint"].pk, text="渗水。")
    assert Clock.objects.get(case=again, stage="callback").due_at == end_of(2026, 3, 5)


def test_a_rule_matching_no_category_is_refused_when_the_preset_is_applied(org, catalogue):
    """seeds/000_e82992a73faf22c8.txt:394「安全设施维修两天内回访」: a rule that finds no category is refused, named."""
    catalogue["lift"].tags = ""
    catalogue["lift"].save()
    path = presets_dir() / "property_management.yaml"
    with pytest.raises(PresetError) as info:
        policy_activate(
            organization=org, preset=load_preset(path), actor=None, source=path.name, text=path.read_text("utf-8")
        )
    assert "规则“安全设施维修两天内回访”" in info.value.problem and "safety_facility" in info.value.problem
    assert info.value.path == "deadlines[3].when.category"
    lines = path.read_text("utf-8").splitlines()
    assert lines[info.value.line - 1].strip() == "when: {category: safety_facility}"  # the rule's line
    org.refresh_from_db()
    assert org.preset == ""


def test_a_tag_edit_that_would_leave_a_rule_unmatched_is_refused(rules, org, catalogue):
    """seeds/000_e82992a73faf22c8.txt:394「漏水项目维修三天内回访」: the last category tagged for it keeps its tag."""
    admin = make_staff(org, "admin", [Role.ADMIN])
    with pytest.raises(ValidationFailed) as info:
        category_set_tags(actor=admin, category_id=catalogue["pipe"].pk, tags="")
    assert info.value.field == "tags" and "漏水项目维修三天内回访" in str(info.value)
    catalogue["pipe"].refresh_from_db()
    assert catalogue["pipe"].tags == "water_leak"


def test_an_on_site_callback_without_signature_or_charges_check_cannot_close_the_case(
    rules, drive, departments, handler, officer
):
    """seeds/000_e82992a73faf22c8.txt:399「4.核对收费情况。」 and :400「5.请被回访人签名。」"""
    case = replied(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    callback = Callback.objects.get(case=case)
    with pytest.raises(ValidationFailed) as info:
        callback_record(
            actor=officer, callback_id=callback.pk, outcome="reached", satisfaction="satisfied", method="on_site"
        )
    assert set(info.value.errors) == {"signature", "charges_checked", "attitude"}
    assert "请被回访人签名" in info.value.errors["signature"][0]
    assert "核对收费情况" in info.value.errors["charges_checked"][0]
    case.refresh_from_db()
    callback.refresh_from_db()
    assert (case.state, callback.status, callback.attempts) == ("replied", "due", 0)
    callback_record(
        actor=officer,
        callback_id=callback.pk,
        outcome="reached",
        satisfaction="satisfied",
        method="on_site",
        signature_drawn=png_signature(),
        charges_checked=True,
        attitude="good",
    )
    case.refresh_from_db()
    assert case.state == "closed"


def test_the_repairers_service_is_asked_on_site(rules, drive, departments, handler, officer):
    """seeds/000_e82992a73faf22c8.txt:397「2.向在维修现场的业主(住户)或家人了解维修人员服务情况。」"""
    case = replied(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    callback = Callback.objects.get(case=case)
    with pytest.raises(ValidationFailed) as info:
        callback_record(
            actor=officer,
            callback_id=callback.pk,
            outcome="reached",
            satisfaction="satisfied",
            method="on_site",
            signature_drawn=png_signature(),
            charges_checked=False,  # checked: a charge problem found
        )
    assert list(info.value.errors) == ["attitude"]


def test_a_problem_found_at_the_callback_is_due_in_writing_within_24_hours(
    rules, drive, departments, handler, head, officer
):
    """seeds/000_e82992a73faf22c8.txt:401「四.对回访中发现的问题,24小时内书面通知维修人员进行整改。」"""
    case = replied(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    callback = Callback.objects.get(case=case)
    callback_record(
        actor=officer,
        callback_id=callback.pk,
        outcome="reached",
        satisfaction="basically_satisfied",
        problem="灯罩未装回",
    )
    task = RectificationTask.objects.get(callback=callback)
    assert task.due_at - task.created_at == timedelta(hours=24)
    assert Notification.objects.filter(recipient=head, key=f"callback-task:{task.pk}").exists()


# --- the yearly survey and the KPIs ------------------------------------------------------------------


def test_the_yearly_owner_survey_round_is_opened_when_due(rules, org, drive):
    """seeds/000_e82992a73faf22c8.txt:348「一.客服中心每年至少进行一次业主意见调查」"""
    leader = make_staff(org, "leader", [Role.LEADER])
    opened = drive.call(at(2026, 1, 2, 3), rounds_due, now=at(2026, 1, 2, 3))
    assert [c.organization_id for c in opened] == [org.pk]
    campaign = opened[0]
    assert (campaign.period, campaign.title, campaign.created_by) == ("2026", "2026年度满意度调查", None)
    assert [a["code"] for a in campaign.areas][:2] == ["power", "water"] and len(campaign.areas) == 8
    assert (campaign.ends_on.isoformat(), campaign.report_to) == ("2026-12-31", "业主委员会")
    assert Notification.objects.filter(recipient=leader, key=f"survey-round:{campaign.pk}").exists()
    assert drive.call(at(2026, 6, 1, 3), rounds_due, now=at(2026, 6, 1, 3)) == []  # once a year
    with pytest.raises(ValidationFailed) as info:  # no questionnaire before 发放份数 is known
        invitations_issue(actor=leader, campaign_id=campaign.pk, count=5)
    assert info.value.field == "count"
    # A year whose round the office opened itself: nothing more.
    drive.call(
        at(2027, 1, 1, 9),
        campaign_create,
        actor=leader,
        title="2027 年业主意见调查",
        starts_on=at(2027, 1, 1).date(),
        ends_on=at(2027, 2, 1).date(),
        audience="全体业主",
        audience_size=300,
    )
    assert drive.call(at(2027, 3, 1, 3), rounds_due, now=at(2027, 3, 1, 3)) == []
    assert Campaign.objects.filter(organization=org).count() == 2


def test_the_sweeper_opens_the_survey_round(rules, org):
    """seeds/000_e82992a73faf22c8.txt:348「每年至少进行一次业主意见调查」: the sweeper's timetable does it."""
    call_command("huiyin_sweeper", "--once")
    call_command("huiyin_sweeper", "--once")
    assert Campaign.objects.filter(organization=org, period=str(timezone.localdate().year)).count() == 1


def test_kpi_targets_are_shown_beside_the_evaluation(rules, org, client):
    """seeds/000_e82992a73faf22c8.txt:383「回访处理率达100%,有效投诉率力争在1%以下。」"""
    leader = make_staff(org, "leader", [Role.LEADER])
    client.force_login(leader)
    response = client.get(reverse("evaluation:table"), {"start": "2026-03-01", "end": "2026-03-31"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="kpis"' in html
    assert 'data-kpi="callback_processing_rate"' in html and "≥ 100%" in html
    assert 'data-kpi="valid_complaint_rate"' in html and "&lt; 1%" in html
    row = html.split('data-kpi="satisfaction_rate"')[1].split("</tr>")[0]
    assert "—（0/0）" in row  # the table's own figure for the same rate, here without a sample


# --- first-contact responsibility (首问责任制) --------------------------------------------------------


def _tell_first_receiver_by_email(org, first_receiver):
    from huiyin.notifications.models import ChannelSwitch

    first_receiver.email = "first@property.example"
    first_receiver.save(update_fields=["email"])
    ChannelSwitch.objects.create(organization=org, purpose="first_receiver", medium="email", enabled=True)


def test_the_first_receiver_is_told_when_the_matter_is_answered_and_closed(
    rules, org, drive, departments, handler, officer, settings, django_capture_on_commit_callbacks, client
):
    """seeds/000_e82992a73faf22c8.txt:77「处理完毕后,由处理人与对方交代清楚,需要让对方签字确认的应该留签字记录,并告知第一接待人。」
    and seeds/000_e82992a73faf22c8.txt:73「第一接待人负责跟踪这项服务建议处理的情况直至客户满意为止。」"""
    from huiyin.cases.events import EventKind
    from huiyin.cases.models import Event
    from huiyin.notifications.events import NotificationsEvent
    from huiyin.notifications.models import Message

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    first_receiver = drive.clerk
    _tell_first_receiver_by_email(org, first_receiver)
    case = in_progress(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    assert case.first_contact_id == first_receiver.pk
    with django_capture_on_commit_callbacks(execute=True):
        drive.do(at(2026, 3, 2, 15), "reply", case, actor=handler, reply="已更换灯具。", remedy="当日更换")
    replied_event = Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED, data__action="reply").get()
    desk = Notification.objects.get(recipient=first_receiver, key=f"event:{replied_event.pk}:first-receiver")
    assert desk.case_id == case.pk and "已答复反映人" in desk.text and desk.done_at is None
    told = Event.objects.get(case=case, kind=NotificationsEvent.FIRST_RECEIVER_TOLD)
    assert told.data["staff_id"] == first_receiver.pk and told.data["step"] == "reply" and told.actor_id is None
    (mail,) = Message.objects.filter(case=case, purpose="first_receiver")
    assert (mail.staff_id, mail.medium, mail.status) == (first_receiver.pk, "email", "sent")
    assert "已答复反映人" in mail.shown_body

    with django_capture_on_commit_callbacks(execute=True):
        drive.call(
            at(2026, 3, 3, 10),
            case_close,
            actor=officer,
            case_id=case.pk,
            satisfaction="satisfied",
            confirmed=True,
            confirmation_note="业主签字确认",
        )
    closed_event = Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED, data__action="close").get()
    assert Notification.objects.filter(
        recipient=first_receiver, key=f"event:{closed_event.pk}:first-receiver", done_at__isnull=True
    ).exists()
    steps = list(
        Event.objects.filter(case=case, kind=NotificationsEvent.FIRST_RECEIVER_TOLD)
        .order_by("id")
        .values_list("data__step", flat=True)
    )
    assert steps == ["reply", "close"]
    # Visible on the case: the history says the first receiver was told, and whom.
    leader = make_staff(org, "leader", [Role.LEADER])
    client.force_login(leader)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "已告知首问责任人" in html and "首问告知" in html


def _replied_under_the_city_hotline(org, drive, departments, handler, capture):
    """A case answered under a preset without the property's telling rules, its subscribers run."""
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    drive.do(at(2026, 3, 2, 9, 1), "accept", case)
    drive.do(at(2026, 3, 2, 9, 2), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 2, 10), "sign_for", case, actor=handler)
    with capture(execute=True):
        drive.do(at(2026, 3, 2, 15), "reply", case, actor=handler, reply="已处理。")
    return case


def test_the_first_receiver_is_not_told_of_their_own_move_nor_under_a_preset_without_the_rule(
    org, drive, departments, handler, settings, django_capture_on_commit_callbacks, catalogue
):
    """seeds/000_e82992a73faf22c8.txt:77「并告知第一接待人」: told by the one who handled it; a preset
    without the rule (the city hotline) tells no one."""
    from huiyin.cases.models import Event
    from huiyin.notifications.events import NotificationsEvent

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    case = _replied_under_the_city_hotline(org, drive, departments, handler, django_capture_on_commit_callbacks)
    assert not Event.objects.filter(case=case, kind=NotificationsEvent.FIRST_RECEIVER_TOLD).exists()
    activate(org, "property_management")
    mine = drive.register(at(2026, 3, 3, 9), channel="phone", text="门禁坏了。")
    with django_capture_on_commit_callbacks(execute=True):
        drive.do(at(2026, 3, 3, 9, 5), "answer_on_spot", mine, reply="已告知物业维修电话。")
    assert not Event.objects.filter(case=mine, kind=NotificationsEvent.FIRST_RECEIVER_TOLD).exists()
    assert not Notification.objects.filter(recipient=drive.clerk, kind="first-receiver").exists()


def test_no_owner_complaint_is_refused_under_first_contact_responsibility(rules, drive, leader):
    """seeds/000_e82992a73faf22c8.txt:72「不属于自己职权范围内或不能予以解决的,不得任何理由推托、回避」"""
    from huiyin.cases.actions import allowed_actions
    from huiyin.handling import actions as handling_actions
    from huiyin.handling.errors import HandlingError

    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="小区门口自来水管爆裂。")
    for actor in (drive.clerk, leader):
        offered = {a.name for a in allowed_actions(actor, case)}
        assert not offered & {"not_accept", "not_reaccept", "return"} and "dispatch" in offered, offered
    refusals = [
        (handling_actions.case_not_accept, {"ground": "属市政供水", "refer_to": "自来水公司"}),
        (handling_actions.case_not_reaccept, {"ground": "已处理过"}),
        (handling_actions.case_return, {"reason": "不归物业管", "returned_to": "业主"}),
    ]
    for service, kwargs in refusals:
        with pytest.raises(ApplicationError) as refused, drive.at(at(2026, 3, 2, 10)):
            service(actor=leader, case_id=case.pk, **kwargs)
        assert refused.value.code == HandlingError.REFUSAL_FORBIDDEN
    case.refresh_from_db()
    assert case.state == "registered"


def test_the_result_is_reported_to_the_office_head_when_the_owner_is_answered(
    rules, org, drive, departments, handler, settings, django_capture_on_commit_callbacks, client
):
    """seeds/000_e82992a73faf22c8.txt:119「在处理完毕后应将结果回复住户和管理处主任」 — the head (the preset's leader
    role) finds the answer on the desk, by e-mail where switched on, and the case's history says so."""
    from huiyin.cases.events import EventKind
    from huiyin.cases.models import Event
    from huiyin.notifications.events import NotificationsEvent
    from huiyin.notifications.models import ChannelSwitch, Message

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    head = make_staff(org, "director", [Role.LEADER])
    head.email = "director@example.org"
    head.save(update_fields=["email"])
    ChannelSwitch.objects.create(organization=org, purpose="result_report", medium="email", enabled=True)
    case = in_progress(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    with django_capture_on_commit_callbacks(execute=True):
        drive.do(at(2026, 3, 2, 15), "reply", case, actor=handler, reply="已更换灯具。", remedy="当日更换")
    replied_event = Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED, data__action="reply").get()
    desk = Notification.objects.get(recipient=head, key=f"event:{replied_event.pk}:result-report")
    assert desk.case_id == case.pk and "已更换灯具" in desk.text
    reported = Event.objects.get(case=case, kind=NotificationsEvent.RESULT_REPORTED)
    assert reported.data["staff_ids"] == [head.pk] and reported.actor_id is None
    (mail,) = Message.objects.filter(case=case, purpose="result_report")
    assert (mail.staff_id, mail.medium, mail.status) == (head.pk, "email", "sent")
    client.force_login(head)
    assert "处理结果已报告" in client.get(reverse("cases:detail", args=[case.pk])).content.decode()


def test_a_preset_without_the_rule_reports_to_nobody_nor_the_head_their_own_answer(
    org, drive, departments, handler, settings, django_capture_on_commit_callbacks, catalogue
):
    """seeds/000_e82992a73faf22c8.txt:373「在处理完毕后应将结果回复住户和管理处主任」 is the property office's rule:
    the city hotline reports to no one; a head who answers on the spot is not told of their own answer."""
    from huiyin.cases.models import Event
    from huiyin.notifications.events import NotificationsEvent

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    head = make_staff(org, "director", [Role.LEADER, Role.INTAKE_CLERK])
    case = _replied_under_the_city_hotline(org, drive, departments, handler, django_capture_on_commit_callbacks)
    assert not Event.objects.filter(case=case, kind=NotificationsEvent.RESULT_REPORTED).exists()
    activate(org, "property_management")
    mine = drive.register(at(2026, 3, 3, 9), channel="phone", text="门禁坏了。", actor=head)
    with django_capture_on_commit_callbacks(execute=True):
        drive.do(at(2026, 3, 3, 9, 5), "answer_on_spot", mine, actor=head, reply="已告知物业维修电话。")
    assert not Notification.objects.filter(recipient=head, kind="result-report").exists()


def test_the_matter_is_investigated_the_same_day(rules, drive, departments, handler):
    """seeds/000_e82992a73faf22c8.txt:322「客服人员应及时进行记录,须于当天进行调查、核实」 —
    a clock from receipt to midnight, met by the first investigation record."""
    from huiyin.handling.services import investigation_add

    case = in_progress(drive, departments, handler, at(2026, 3, 2, 9), text="楼上漏水，天花板渗水。")
    clock = Clock.objects.get(case=case, stage="investigation")
    assert clock.state == "running" and clock.due_at == end_of(2026, 3, 2)
    drive.call(
        at(2026, 3, 2, 16), investigation_add, actor=handler, case_id=case.pk, kind="site_visit", text="上门查看。"
    )
    clock.refresh_from_db()
    assert (clock.state, clock.met) == ("stopped", True)


def test_a_matter_not_investigated_that_day_goes_overdue(rules, drive, departments, handler):
    """seeds/000_e82992a73faf22c8.txt:370「当天进行调查、核实」 — overdue after midnight, to the handler's
    desk; investigated the next day it counts as late."""
    from huiyin.handling.services import investigation_add

    case = in_progress(drive, departments, handler, at(2026, 3, 2, 9), text="楼上漏水，天花板渗水。")
    drive.sweep(at(2026, 3, 3, 0, 0, 1))
    clock = Clock.objects.get(case=case, stage="investigation")
    assert clock.overdue_at is not None
    assert Notification.objects.filter(recipient=handler, case=case, text__contains="当天调查、核实已于").exists()
    drive.call(at(2026, 3, 3, 9), investigation_add, actor=handler, case_id=case.pk, kind="phone", text="电话核实。")
    clock.refresh_from_db()
    assert (clock.state, clock.met) == ("stopped", False)


def test_a_matter_answered_on_the_spot_needs_no_investigation(rules, drive):
    """seeds/000_e82992a73faf22c8.txt:117「当天进行调查、核实」 applies to matters that need one: answered
    at once, its clock ends."""
    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="请问物业费怎么交？", nature="consultation")
    drive.do(at(2026, 3, 2, 9, 5), "answer_on_spot", case, reply="可在物业服务中心或线上缴纳。")
    clock = Clock.objects.get(case=case, stage="investigation")
    assert clock.state == "stopped" and clock.overdue_at is None


def test_the_phone_form_shows_the_offices_first_sentence(rules, org, drive, client):
    """seeds/000_e82992a73faf22c8.txt:79「公司员工接听所有来电时,第一句必须为:“您好,xx公司物业”」 — the phone form
    shows the preset's greeting with the office's name (and the closing); other forms and presets
    without one show none."""
    client.force_login(drive.clerk)
    html = client.get(reverse("cases:intake", args=["phone"])).content.decode()
    assert 'id="phone-script"' in html
    assert f"您好，{org.name}，请问有什么可以帮您？" in html and "感谢您的来电，再见！" in html
    assert 'id="phone-script"' not in client.get(reverse("cases:intake", args=["visit"])).content.decode()
    activate(org, "city_hotline")
    assert 'id="phone-script"' not in client.get(reverse("cases:intake", args=["phone"])).content.decode()


def test_a_question_not_answered_at_the_callback_gets_a_promised_time(
    rules, drive, departments, handler, head, officer
):
    """seeds/000_e82992a73faf22c8.txt:363「八.回访中,对业主的询问、意见,不能当即答复的,应告知预约时间答复。」 — the
    question is not recorded without the time the owner was told; with it, the department's heads
    find both on their desk and the case's history keeps them."""
    from huiyin.cases.models import Event

    case = replied(drive, departments, handler, at(2026, 3, 2, 9), text="楼道灯坏了。")
    callback = Callback.objects.get(case=case)
    with drive.at(at(2026, 3, 4, 10)):
        with pytest.raises(ValidationFailed) as info:
            callback_record(
                actor=officer,
                callback_id=callback.pk,
                outcome="reached",
                satisfaction="satisfied",
                pending_question="楼道灯以后由谁负责定期检查？",
            )
        assert list(info.value.errors) == ["answer_by"] and "预约答复的时间" in str(info.value)
        with pytest.raises(ValidationFailed) as info:
            callback_record(
                actor=officer,
                callback_id=callback.pk,
                outcome="reached",
                satisfaction="satisfied",
                pending_question="楼道灯以后由谁负责定期检查？",
                answer_by=at(2026, 3, 4, 9),
            )
        assert list(info.value.errors) == ["answer_by"]
        assert Callback.objects.get(pk=callback.pk).attempts == 0  # nothing recorded
        callback_record(
            actor=officer,
            callback_id=callback.pk,
            outcome="reached",
            satisfaction="satisfied",
            pending_question="楼道灯以后由谁负责定期检查？",
            answer_by=at(2026, 3, 6, 17),
        )
    desk = Notification.objects.get(recipient=head, kind="callback-question")
    assert "03-06 17:00 前答复" in desk.text and "定期检查" in desk.text
    (note,) = [e for e in Event.objects.filter(case=case, kind="note") if "未能当即答复" in e.data["text"]]
    assert "已告知反映人于 03-06 17:00 前答复" in note.data["text"]
