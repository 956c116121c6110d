"""A small demo-like world for the bad-input test: two organisations on shipped presets
(property management: callbacks, surveys, activities, deductions; the petition office:
acceptance decisions, approval chain, review), a case in each interesting state with the
handling records, notices, callbacks and links that the forms act on — all made through
the services, as the demo generator does.

``build_world()`` returns, per organisation, a user holding every role (the widest set
of forms) and the objects' ids, so the test can post to the other organisation's ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from huiyin.administration import services as administration
from huiyin.cases import services as cs
from huiyin.cases.models import Category
from huiyin.deadlines.services import case_suspend, extension_request
from huiyin.followup import services as followup
from huiyin.followup.models import Callback
from huiyin.frontoffice import services as fo
from huiyin.handling import actions as ha
from huiyin.handling import services as hs
from huiyin.knowledge import services as knowledge
from huiyin.notifications.models import InboundMail, MailStatus, Message, MessageStatus
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Role
from huiyin.policy.services.calendars import calendar_day_add
from huiyin.reception import schedule as reception_schedule
from huiyin.reception import services as reception
from huiyin.reports import services as reports
from huiyin.supervision import services as supervision
from huiyin.surveys import services as surveys
from tests.conftest import intake, make_staff
from tests.policy.conftest import activate
from tests.policy.conftest import png_signature as _png


@dataclass
class OrgWorld:
    org: Organization
    fuzzer: Staff  # every role, head of the lead department
    staff: dict[str, Staff]
    cases: dict[str, int] = field(default_factory=dict)  # state name -> case id
    tokens: dict[str, str] = field(default_factory=dict)  # public links: rate / survey
    ids: dict[str, int] = field(default_factory=dict)  # other objects by name


def _category(org: Organization) -> Category:
    root = Category.objects.create(organization=org, name="城乡建设", full_name="城乡建设")
    root.path = f"/{root.pk}/"
    root.save()
    leaf = Category.objects.create(organization=org, parent=root, name="物业管理", full_name="城乡建设/物业管理")
    leaf.path = f"{root.path}{leaf.pk}/"
    leaf.save()
    return leaf


def _people(org: Organization, prefix: str) -> tuple[dict[str, Department], dict[str, Staff]]:
    departments = {
        code: Department.objects.create(organization=org, code=code, name=name)
        for code, name in (("city", "市容环境科"), ("housing", "住房保障科"))
    }
    city = departments["city"]
    staff = {
        "clerk": make_staff(org, f"{prefix}clerk", [Role.INTAKE_CLERK]),
        "leader": make_staff(org, f"{prefix}leader", [Role.LEADER]),
        "leader2": make_staff(org, f"{prefix}leader2", [Role.LEADER]),
        "head": make_staff(org, f"{prefix}head", [Role.DEPT_HEAD], city),
        "handler": make_staff(org, f"{prefix}handler", [Role.HANDLER], city),
        "housing_handler": make_staff(org, f"{prefix}hhandler", [Role.HANDLER], departments["housing"]),
        "officer": make_staff(org, f"{prefix}officer", [Role.CALLBACK_OFFICER]),
        "fuzzer": make_staff(org, f"{prefix}fuzzer", list(Role.values), city),
    }
    staff["fuzzer"].is_superuser = True  # the global calendar's forms too
    staff["fuzzer"].save(update_fields=["is_superuser"])
    # A deactivated account: its page offers the reactivation form.
    retired = make_staff(org, f"{prefix}retired", [Role.HANDLER], city)
    administration.staff_set_active(actor=staff["fuzzer"], staff_id=retired.pk, active=False)
    return departments, staff


def _dispatched(case_id: int, *, clerk: Staff, department: Department, handler: Staff) -> None:
    ha.case_dispatch(actor=clerk, case_id=case_id, department_id=department.pk, handler_id=handler.pk)


def build_property(prefix: str = "a_") -> OrgWorld:
    """Property management: sign-for, callbacks, confirmation to close, surveys, activities."""
    org = Organization.objects.create(code=f"{prefix}property", name="幸福物业服务中心")
    activate(org, "property_management")
    departments, staff = _people(org, prefix)
    city, housing = departments["city"], departments["housing"]
    clerk, handler, fuzzer, leader = staff["clerk"], staff["handler"], staff["fuzzer"], staff["leader"]
    world = OrgWorld(org=org, fuzzer=fuzzer, staff=staff)
    category = _category(org)
    # The preset's callback windows are keyed on these tags: activating it again needs them.
    Category.objects.filter(pk=category.pk).update(tags="safety_facility water_leak")

    def register(**overrides) -> int:
        case, _code = cs.case_register(actor=clerk, data=intake(category_id=category.pk, **overrides))
        return case.pk

    world.cases["registered"] = register()
    world.cases["dispatched"] = cid = register()
    _dispatched(cid, clerk=clerk, department=city, handler=handler)
    ha.case_sign_for(actor=handler, case_id=cid)
    extension_request(actor=handler, case_id=cid, stage="overall", amount=2, reason="需要现场勘查。")
    upload = SimpleUploadedFile("note.txt", "现场照片说明".encode(), content_type="text/plain")
    world.ids["attachment"] = cs.attachment_add(actor=clerk, case_id=cid, upload=upload).pk

    world.cases["in_progress"] = cid = register(text="电梯经常坏，老人上下楼困难。")
    _dispatched(cid, clerk=clerk, department=city, handler=fuzzer)
    ha.case_sign_for(actor=fuzzer, case_id=cid)
    investigation = hs.investigation_add(
        actor=fuzzer, case_id=cid, kind="interview", text="询问了反映人。", interviewee="张伟"
    )
    world.ids["investigation"] = investigation.pk
    joint = hs.joint_convene(actor=fuzzer, case_id=cid, topic="电梯维修协调", department_ids=[city.pk, housing.pk])
    world.ids["joint"] = joint.pk
    hs.authority_request_set(
        actor=leader, case_id=cid, authority="区住建局", due_at=timezone.now() + timedelta(days=10)
    )
    document = hs.document_issue(actor=leader, case_id=cid, kind="result_report")
    world.ids["document"] = document.pk
    notice = supervision.supervision_issue(
        actor=leader,
        case_id=cid,
        kind="routine",
        department_id=city.pk,
        requirement="请尽快修复电梯。",
        due_at=timezone.now() + timedelta(days=3),
    )
    world.ids["notice"] = notice.pk

    world.cases["replied"] = cid = register(text="楼道灯不亮。")
    _dispatched(cid, clerk=clerk, department=city, handler=fuzzer)
    ha.case_sign_for(actor=fuzzer, case_id=cid)
    cs.case_reply(actor=fuzzer, case_id=cid, reply="已更换灯泡。", remedy="更换灯泡")
    callback = Callback.objects.get(case_id=cid)
    world.ids["callback"] = callback.pk
    _link, url = followup.rating_link_issue(actor=fuzzer, callback_id=callback.pk)
    world.tokens["rate"] = url.rstrip("/").rsplit("/", 1)[-1]

    world.cases["task"] = cid = register(text="绿化带杂草丛生。")
    _dispatched(cid, clerk=clerk, department=city, handler=fuzzer)
    ha.case_sign_for(actor=fuzzer, case_id=cid)
    cs.case_reply(actor=fuzzer, case_id=cid, reply="已清理。", remedy="清理杂草")
    followup.callback_record(
        actor=fuzzer,
        callback_id=Callback.objects.get(case_id=cid).pk,
        outcome="reached",
        satisfaction="satisfied",
        problem="清理后仍有垃圾堆放。",
        # A question left for later: its promised answer's form is fuzzed too.
        pending_question="业主询问绿化养护费用如何分摊。",
        answer_by=timezone.now() + timedelta(days=2),
    )
    # A knowledge base entry: its page and its editing form are fuzzed (F07).
    world.ids["knowledge"] = knowledge.entry_create(
        actor=fuzzer, title="物业费收费标准", body="按合同约定的标准收取。", category_ids=[category.pk]
    ).pk
    world.cases["decide"] = cid = register(text="保安态度差。")
    _dispatched(cid, clerk=clerk, department=city, handler=fuzzer)
    ha.case_sign_for(actor=fuzzer, case_id=cid)
    cs.case_reply(actor=fuzzer, case_id=cid, reply="已批评教育。", remedy="批评教育")
    Callback.objects.filter(case_id=cid).update(status="done", satisfaction="dissatisfied", head_decision="pending")

    world.cases["closed"] = cid = register(text="垃圾清运不及时。")
    _dispatched(cid, clerk=clerk, department=city, handler=handler)
    ha.case_sign_for(actor=handler, case_id=cid)
    cs.case_reply(actor=handler, case_id=cid, reply="已安排清运。", remedy="安排清运")
    cs.case_close(actor=clerk, case_id=cid, satisfaction="satisfied", confirmed=True)
    world.cases["archived"] = cid = register(text="咨询物业费标准。")
    cs.case_answer_on_spot(actor=clerk, case_id=cid, reply="已当场解答。")
    cs.case_close(actor=clerk, case_id=cid, satisfaction="satisfied", confirmed=True)
    cs.case_archive(actor=leader, case_id=cid)

    today = timezone.localdate()
    campaign = surveys.campaign_create(
        actor=leader,
        title="2026年度业主满意度调查",
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=30),
        audience="全体业主",
        audience_size=50,
    )
    world.ids["campaign"] = campaign.pk
    token = surveys.invitations_issue(actor=leader, campaign_id=campaign.pk, count=2)[0]
    world.tokens["survey"] = token.rstrip("/").rsplit("/", 1)[-1]
    item = surveys.item_add(
        actor=leader,
        campaign_id=campaign.pk,
        problem="电梯经常坏",
        department_id=city.pk,
        due_on=today + timedelta(days=14),
    )
    world.ids["item"] = item.pk
    held = surveys.activity_plan(actor=leader, kind="residents_meeting", planned_on=today)
    surveys.activity_record(actor=leader, activity_id=held.pk, held_on=today, attendance=12, minutes="听取意见。")
    planned = surveys.activity_plan(actor=leader, kind="residents_meeting", planned_on=today + timedelta(days=7))
    world.ids["activity"] = held.pk
    world.ids["planned_activity"] = planned.pk

    # Notifications: a message that failed (its "send again" button), a mail parked for a clerk.
    world.ids["failed_message"] = Message.objects.create(
        organization=org,
        case_id=world.cases["in_progress"],
        key=f"{prefix}failed",
        purpose="reply",
        medium="sms",
        audience="complainant",
        recipient="13812345678",
        recipient_masked="138****5678",
        status=MessageStatus.FAILED,
        attempts=5,
    ).pk
    world.ids["parked_mail"] = InboundMail.objects.create(
        organization=org,
        message_id=f"<{prefix}parked@example.org>",
        status=MailStatus.PARKED,
        sender="zhao@example.org",
        sender_masked="z***@example.org",
        subject="楼道堆放杂物",
        text="楼道里堆满了杂物。",
        reason="发件人地址缺失或无效",
        received_at=timezone.now(),
    ).pk

    calendar_day_add(actor=fuzzer, organization=org, day=today.replace(month=1, day=2), kind="holiday", name="单位闭馆")
    report = reports.report_request(actor=fuzzer, kind="month", on=today)
    world.ids["report"] = reports.report_generate(report_id=report.pk).pk  # done: its files and commentary
    activate(org, "hospital")  # a second and a third version: withdraw and reactivate have work
    activate(org, "property_management")
    _front_office(world, departments)
    return world


def _front_office(world: OrgWorld, departments: dict[str, Department]) -> None:
    """Visitors expected, inside and gone, hosted by the handler; receptions the handler
    requested for the city department (the fuzzer heads it and is a leader: it approves,
    spends, closes) in every step; finance is the city department (the fuzzer reimburses)."""
    staff, fuzzer, handler = world.staff, world.fuzzer, world.staff["handler"]
    fo.setup_save(
        actor=fuzzer, office_department_id=departments["housing"].pk, finance_department_id=departments["city"].pk
    )
    today = timezone.localdate()
    checked = fo.CheckIn(id_type="resident_id", id_number="11010519491231002X")
    visitors = {}
    for key, name in (("expected", "李建国"), ("inside", "王芳"), ("gone", "赵强")):
        visitors[key] = fo.visitor_expect(actor=handler, expected_on=today, name=name, purpose="洽谈")
    fo.visitor_check_in(actor=fuzzer, visitor_id=visitors["inside"].pk, data=checked)
    fo.visitor_check_in(actor=fuzzer, visitor_id=visitors["gone"].pk, data=checked)
    fo.visitor_check_out(actor=fuzzer, visitor_id=visitors["gone"].pk)
    world.ids.update({f"visitor_{key}": v.pk for key, v in visitors.items()})

    def request(purpose: str) -> int:
        return fo.reception_request(
            actor=handler,
            purpose=purpose,
            guests="张明，示范市住建局，副局长",
            starts_on=today,
            ends_on=today,
            expected_outcome="交流经验",
            budget={"room": "500", "meals": "1000"},
        ).pk

    def approved(purpose: str) -> int:
        rid = request(purpose)
        fo.reception_decide(actor=fuzzer, reception_id=rid, decision="approved")
        fo.reception_decide(actor=staff["leader"], reception_id=rid, decision="approved")
        receipt = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")
        fo.expense_record(
            actor=handler,
            reception_id=rid,
            item="meals",
            amount="100",
            spent_on=today,
            description="午餐",
            receipt=receipt,
        )
        return rid

    world.ids["reception_pending"] = request("待审批的接待")
    world.ids["reception_approved"] = rid = approved("已批准的接待")
    world.ids["overrun"] = fo.overrun_request(
        actor=handler, reception_id=rid, item="meals", amount="100", reason="来宾增加"
    ).pk
    world.ids["reception_closed"] = rid = approved("已总结的接待")
    fo.reception_close(actor=handler, reception_id=rid, summary="顺利")
    world.ids["reception_submitted"] = rid = approved("已提交报销的接待")
    fo.reception_close(actor=handler, reception_id=rid, summary="顺利")
    fo.reimbursement_submit(actor=handler, reception_id=rid)


def build_petition(prefix: str = "b_") -> OrgWorld:
    """The petition office: acceptance decisions, the approval chain, review and re-review."""
    org = Organization.objects.create(code=f"{prefix}petition", name="示范市信访局")
    activate(org, "petition_office")
    departments, staff = _people(org, prefix)
    city = departments["city"]
    clerk, fuzzer, leader = staff["clerk"], staff["fuzzer"], staff["leader"]
    world = OrgWorld(org=org, fuzzer=fuzzer, staff=staff)
    category = _category(org)

    def register(**overrides) -> int:
        case, _code = cs.case_register(actor=clerk, data=intake(category_id=category.pk, **overrides))
        return case.pk

    world.cases["registered"] = register()
    world.cases["accepted"] = cid = register()
    cs.case_accept(actor=clerk, case_id=cid)
    world.cases["in_progress"] = cid = register(text="小区违建无人处理。")
    cs.case_accept(actor=clerk, case_id=cid)
    _dispatched(cid, clerk=clerk, department=city, handler=fuzzer)
    ha.case_sign_for(actor=fuzzer, case_id=cid)
    world.cases["pending_approval"] = cid = register(text="噪音扰民。")
    cs.case_accept(actor=clerk, case_id=cid)
    _dispatched(cid, clerk=clerk, department=city, handler=fuzzer)
    ha.case_sign_for(actor=fuzzer, case_id=cid)
    ha.case_submit_for_approval(actor=fuzzer, case_id=cid, proposal="拟答复：已责令整改。", outcome="resolved")
    world.cases["replied"] = cid = register(text="道路破损。")
    cs.case_accept(actor=clerk, case_id=cid)
    _dispatched(cid, clerk=clerk, department=city, handler=fuzzer)
    ha.case_sign_for(actor=fuzzer, case_id=cid)
    ha.case_submit_for_approval(actor=fuzzer, case_id=cid, proposal="拟答复：已修复。", outcome="resolved")
    from huiyin.cases.models import Case
    from huiyin.handling.records import approval_chain

    for role in approval_chain(Case.objects.get(pk=cid)):
        ha.case_approve(actor=staff["head"] if role == "dept_head" else leader, case_id=cid, comments="同意。")
    cs.case_reply(actor=fuzzer, case_id=cid, reply="已修复。", method="letter")
    # The answer as a letter to the complainant: the portal's case page links to its PDF.
    hs.document_issue(actor=fuzzer, case_id=cid, kind="reply_letter")
    case_suspend(actor=fuzzer, case_id=world.cases["in_progress"], reason="等待反映人补充材料。")
    _reception(world, clerk=clerk, leader=leader)
    return world


def _reception(world: OrgWorld, *, clerk: Staff, leader: Staff) -> None:
    """The reception's records every page and form of it needs: a room with hours published two
    weeks ago, a leader day held yesterday-ish (a visit in it still booked: check-in, not come)
    and one to come (a visit booked in it), joint sessions held and to come."""
    fuzzer, org = world.fuzzer, world.org
    today = timezone.localdate()
    calendar = reception_schedule.calendar_of(org.pk)
    past = today - timedelta(days=1)
    while not calendar.is_workday(past) or past.weekday() >= 5:
        past -= timedelta(days=1)
    coming = today + timedelta(days=6)  # after the petition office's five days' notice for a leader day
    while not calendar.is_workday(coming) or coming.weekday() >= 5:
        coming += timedelta(days=1)

    def moment(day, hour: int):
        return timezone.make_aware(datetime.combine(day, time(hour)))

    def period(day, hour: int, topic: str):
        return reception.SessionInput(
            room_id=room.pk, date=day, starts=time(hour), ends=time(hour + 1), slot_minutes=30, capacity=3, topic=topic
        )

    set_up = moment(today - timedelta(days=14), 9)
    room = reception.room_save(actor=fuzzer, name="信访接待室", location="一楼", at=set_up)
    world.ids["room"] = room.pk
    hours = reception.hours_add(
        actor=fuzzer,
        room_id=room.pk,
        weekdays=[0, 1, 2, 3, 4, 7],
        starts=time(9),
        ends=time(11),
        slot_minutes=60,
        capacity=3,
        valid_from=set_up.date(),
        at=set_up,
    )
    world.ids["hours"] = hours[0].pk
    held = reception.leader_day_schedule(
        actor=fuzzer, leader_id=leader.pk, data=period(past, 14, "物业管理"), at=set_up
    )
    to_come = reception.leader_day_schedule(actor=fuzzer, leader_id=leader.pk, data=period(coming, 14, "拆迁补偿"))
    world.ids.update(leader_day=held.pk, coming_leader_day=to_come.pk)
    visitor = dict(name="张伟", phone="13812345678", purpose="小区楼道堆放杂物。")
    world.ids["past_visit"] = reception.appointment_book(
        actor=clerk,
        organization=org,
        data=reception.Booking(slot=f"l.{held.pk}.{past:%Y%m%d}1400", **visitor),
        at=moment(past, 8),
    ).pk
    world.ids["visit"] = reception.appointment_book(
        actor=clerk, organization=org, data=reception.Booking(slot=f"l.{to_come.pk}.{coming:%Y%m%d}1400", **visitor)
    ).pk
    case_ids = [world.cases["in_progress"]]
    world.ids["joint_session"] = reception.joint_convene(
        actor=clerk, case_ids=case_ids, data=period(coming, 15, "违建处置"), at=set_up
    ).pk
    world.ids["held_joint_session"] = reception.joint_convene(
        actor=clerk, case_ids=case_ids, data=period(past, 15, "违建处置"), at=set_up
    ).pk


def build_construction(prefix: str = "c_") -> OrgWorld:
    """The construction station: the responsible unit's rectification plan."""
    org = Organization.objects.create(code=f"{prefix}station", name="示范市建设工程质量监督站")
    activate(org, "construction_station")
    departments, staff = _people(org, prefix)
    clerk, fuzzer, leader = staff["clerk"], staff["fuzzer"], staff["leader"]
    world = OrgWorld(org=org, fuzzer=fuzzer, staff=staff)
    case, _code = cs.case_register(actor=clerk, data=intake(category_id=_category(org).pk, text="工地夜间施工。"))
    world.cases["approved"] = cid = case.pk
    cs.case_accept(actor=clerk, case_id=cid)
    _dispatched(cid, clerk=clerk, department=departments["city"], handler=fuzzer)
    hs.investigation_add(  # signed by the interviewee before the proposal goes to approval (seeds/000 行 9)
        actor=fuzzer, case_id=cid, kind="interview", text="询问施工方。", interviewee="李工", signature_drawn=_png()
    )
    ha.case_submit_for_approval(
        actor=fuzzer, case_id=cid, proposal="责令施工单位整改。", outcome="resolved", responsible_unit="某建筑公司"
    )
    ha.case_approve(actor=leader, case_id=cid, comments="同意。")
    world.ids["rectification"] = hs.rectification_notify(actor=fuzzer, case_id=cid, method="letter").pk
    return world
