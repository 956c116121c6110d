"""The world the authorisation matrix requests every URL against.

One organisation (``hotline``) with a department that leads the cases (city), one that
assists (housing) and one that has nothing to do with them (traffic); one person per role
and the people the matrix names as actors; cases in every state of the lifecycle under the
shipped presets, each with the records its pages and forms need; and a second
organisation whose member holds every role. Everything is made through the services,
except the few rows the services only make as a side effect of chance (a sampled callback,
a callback's rectification task), which are made as the service would make them.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from huiyin.cases import services as cs
from huiyin.cases.models import Attachment, Case, Category
from huiyin.cases.workflow import CaseState, required_step
from huiyin.core import export_jobs
from huiyin.core.models import Notification
from huiyin.core.notify import desk_notify
from huiyin.deadlines.models import Clock, ClockState, Extension
from huiyin.deadlines.services.handling import case_suspend, extension_request
from huiyin.followup.models import Callback, CallbackReason, HeadDecision, PromisedAnswer, RectificationTask
from huiyin.followup.services import rating_link_issue
from huiyin.frontoffice import services as fo
from huiyin.frontoffice.models import Arrangement, Expense, GuestReception, Visitor
from huiyin.handling import actions as ha
from huiyin.handling import documents
from huiyin.handling import services as hs
from huiyin.handling.models import Document, Investigation, JointHandling, Rectification
from huiyin.knowledge.services import entry_create
from huiyin.notifications.models import InboundMail, MailStatus, Message, MessageStatus
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Role
from huiyin.policy.models import CalendarDay, CalendarDayKind, PolicyVersion
from huiyin.policy.presets import load_preset
from huiyin.policy.services import policy_activate, presets_dir
from huiyin.reception import schedule as rs
from huiyin.reception import services as rsv
from huiyin.reports import services as reports
from huiyin.supervision import services as supervision
from huiyin.surveys import services as surveys
from huiyin.triage.links import case_link
from tests.conftest import intake

S = CaseState
PASSWORD = "pw-authz-matrix"

# The actors every URL is requested as. "head" heads the department that leads the cases,
# "assist_head" one that only assists on them, "stranger" a department with no part in them;
# "org2" holds every role in another organisation; "operator" is the platform's superuser
# (no organisation: the Django admin is theirs, the desk is not).
ROLE_ACTORS: dict[str, tuple[str, ...]] = {
    "clerk": (Role.INTAKE_CLERK,),
    "reception": (Role.RECEPTION,),
    "handler": (Role.HANDLER,),
    "head": (Role.DEPT_HEAD,),
    "leader": (Role.LEADER,),
    "supervisor": (Role.SUPERVISOR,),
    "callback": (Role.CALLBACK_OFFICER,),
    "analyst": (Role.ANALYST,),
    "admin": (Role.ADMIN,),
}
ACTORS: tuple[str, ...] = (
    "anon",
    *ROLE_ACTORS,
    "assist_head",
    "stranger",
    "org2",
    "operator",
)


def png_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("L", (4, 2), color=0).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def upload(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), color=(200, 0, 0)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@dataclass
class World:
    org: Organization
    org2: Organization
    departments: dict[str, Department]
    staff: dict[str, Staff | None]  # actor name -> the person (anon: None)
    cases: dict[str, Case] = field(default_factory=dict)
    things: dict[str, Any] = field(default_factory=dict)

    def case(self, key: str) -> int:
        return self.cases[key].pk

    def __getitem__(self, key: str) -> Any:
        return self.things[key]


def _activate(org: Organization, name: str) -> PolicyVersion:
    version, _created = policy_activate(
        organization=org, preset=load_preset(presets_dir() / f"{name}.yaml"), actor=None
    )
    return version


def _staff(org, username: str, roles, department=None, **extra) -> Staff:
    return Staff.objects.create_user(
        username=username,
        password=PASSWORD,
        organization=org,
        department=department,
        roles=list(roles),
        full_name=username,
        **extra,
    )


def _fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


class _Driver:
    """Takes a case along the main path with the world's people."""

    def __init__(self, world: World) -> None:
        self.w = world
        p = world.staff
        self.clerk, self.handler, self.head, self.leader = p["clerk"], p["handler"], p["head"], p["leader"]

    def register(self, key: str, **overrides) -> Case:
        case, _code = cs.case_register(actor=self.clerk, data=intake(**overrides))
        self.w.cases[key] = case
        return case

    def accepted(self, case: Case) -> Case:
        cs.case_accept(actor=self.clerk, case_id=case.pk)
        return _fresh(case)

    def dispatched(self, case: Case, *, handler: Staff | None = None) -> Case:
        if case.state == S.REGISTERED and _fresh(case).stage_switches.get("acceptance_decision"):
            case = self.accepted(case)
        w = self.w
        if handler is None and required_step(case.stage_switches, "handler_named_at_dispatch"):
            handler = self.handler  # the construction station hands the materials to a named handler
        ha.case_dispatch(
            actor=self.clerk,
            case_id=case.pk,
            department_id=w.departments["city"].pk,
            assisting_ids=[w.departments["housing"].pk],
            handler_id=handler.pk if handler else None,
        )
        return _fresh(case)

    def in_progress(self, case: Case) -> Case:
        case = self.dispatched(case)
        if case.state == S.DISPATCHED:
            ha.case_sign_for(actor=self.handler, case_id=case.pk, handler_id=self.handler.pk)
        elif case.handler_id is None:
            hs.handler_assign(actor=self.head, case_id=case.pk, handler_id=self.handler.pk)
        case = _fresh(case)
        assert case.state == S.IN_PROGRESS, case.state
        return case

    def pending(self, case: Case, *, responsible_unit: str = "") -> Case:
        case = self.in_progress(case)
        if required_step(case.stage_switches, "signed_investigation"):  # the construction station's (行 9)
            hs.investigation_add(
                actor=self.handler,
                case_id=case.pk,
                kind="interview",
                text="询问施工方",
                interviewee="李工",
                signature_drawn=png_data_url(),
            )
        ha.case_submit_for_approval(
            actor=self.handler,
            case_id=case.pk,
            proposal="拟责成物业限期维修",
            outcome="resolved",
            responsible_unit=responsible_unit,
        )
        return _fresh(case)

    def approved(self, case: Case, **kwargs) -> Case:
        from huiyin.handling import records

        case = self.pending(case, **kwargs)
        proposal = records.pending_proposal(case)
        assert proposal is not None
        for role in proposal.chain[proposal.next_level :]:
            ha.case_approve(actor=self.head if role == "dept_head" else self.leader, case_id=case.pk, comments="同意")
        case = _fresh(case)
        assert case.state == S.APPROVED, case.state
        return case

    def replied(self, case: Case) -> Case:
        case = self.approved(case) if case.stage_switches.get("approval") else self.in_progress(case)
        cs.case_reply(
            actor=self.handler, case_id=case.pk, reply="物业已于今日修复漏水点。", method="letter", remedy="更换水管"
        )
        case = _fresh(case)
        assert case.state == S.REPLIED, case.state
        return case


def _callback(case: Case, **fields) -> Callback:
    """The round's callback (planning may have drawn one already), due, for the given role."""
    values = {"reason": CallbackReason.SAMPLE, "planned_at": timezone.now(), "status": "due", **fields}
    row, _created = Callback.objects.update_or_create(case=case, round=_fresh(case).round, defaults=values)
    return row


def _front_office(w: World) -> None:
    """The administrative office is housing (its head, ``assist_head``, reviews requests),
    finance is traffic (its head, ``stranger``, reimburses); the handler hosts visitors
    expected today, inside and gone, and requested receptions in every step."""
    p = w.staff
    handler, leader = p["handler"], p["leader"]
    fo.setup_save(
        actor=p["admin"],
        office_department_id=w.departments["housing"].pk,
        finance_department_id=w.departments["traffic"].pk,
    )
    today = timezone.localdate()

    def visitor(name: str) -> Visitor:
        return fo.visitor_expect(actor=handler, expected_on=today, name=name, purpose="洽谈合作")

    checked = fo.CheckIn(id_type="resident_id", id_number="11010519491231002X")
    w.things["visitor_expected"] = visitor("李建国")
    inside = visitor("王芳")
    fo.visitor_check_in(actor=p["reception"], visitor_id=inside.pk, data=checked)
    w.things["visitor_in"] = inside
    gone = visitor("赵强")
    fo.visitor_check_in(actor=p["reception"], visitor_id=gone.pk, data=checked)
    fo.visitor_check_out(actor=p["reception"], visitor_id=gone.pk)
    w.things["visitor_out"] = gone

    def reception(purpose: str) -> GuestReception:
        return fo.reception_request(
            actor=handler,
            purpose=purpose,
            guests="张明，示范市住建局，副局长",
            starts_on=today,
            ends_on=today,
            expected_outcome="交流经验",
            budget={"room": "500", "meals": "1000", "gifts": "300"},
        )

    def approved(purpose: str) -> GuestReception:
        r = reception(purpose)
        fo.reception_decide(actor=p["assist_head"], reception_id=r.pk, decision="approved")
        fo.reception_decide(actor=leader, reception_id=r.pk, decision="approved")
        fo.expense_record(
            actor=handler,
            reception_id=r.pk,
            item="meals",
            amount="100",
            spent_on=today,
            description="工作午餐",
            receipt=upload("receipt.png"),
        )
        return r

    w.things["reception_pending"] = reception("待审批的接待")
    running = approved("已批准的接待")
    w.things["reception_approved"] = running
    w.things["arrangement"] = Arrangement.objects.filter(reception=running).first()
    w.things["expense"] = Expense.objects.get(reception=running)
    w.things["overrun"] = fo.overrun_request(
        actor=handler, reception_id=running.pk, item="meals", amount="200", reason="来宾增加"
    )
    closed = approved("已总结的接待")
    fo.reception_close(actor=handler, reception_id=closed.pk, summary="接待顺利")
    w.things["reception_closed"] = closed
    claimed = approved("已提交报销的接待")
    fo.reception_close(actor=handler, reception_id=claimed.pk, summary="接待顺利")
    fo.reimbursement_submit(actor=handler, reception_id=claimed.pk)
    w.things["reception_submitted"] = claimed


def build_world() -> World:
    org = Organization.objects.create(code="hotline", name="示范市12345热线中心")
    org2 = Organization.objects.create(code="elsewhere", name="另一单位")
    departments = {
        code: Department.objects.create(organization=org, code=code, name=name)
        for code, name in (("city", "市容环境科"), ("housing", "住房保障科"), ("traffic", "交通管理科"))
    }
    staff: dict[str, Staff | None] = {"anon": None}
    for actor, roles in ROLE_ACTORS.items():
        department = departments["city"] if actor in ("handler", "head") else None
        staff[actor] = _staff(org, actor, roles, department)
    staff["assist_head"] = _staff(org, "assist_head", [Role.DEPT_HEAD], departments["housing"])
    staff["stranger"] = _staff(org, "stranger", [Role.DEPT_HEAD], departments["traffic"])
    elsewhere = Department.objects.create(organization=org2, code="city", name="市容环境科")
    staff["org2"] = _staff(org2, "org2", Role.values, elsewhere)
    staff["operator"] = Staff.objects.create_superuser(username="operator", password=PASSWORD)
    # The operator's authenticator (django-otp): its admin pages need a device to show.
    TOTPDevice.objects.create(user=staff["operator"], name="operator", confirmed=True)
    w = World(org=org, org2=org2, departments=departments, staff=staff)
    drive = _Driver(w)

    root = Category.objects.create(organization=org, name="城乡建设", full_name="城乡建设")
    root.path = f"/{root.pk}/"
    root.save()
    w.things["category"] = root
    # The property preset's callback windows are keyed on these tags: a catalogue without
    # them is refused when the preset is applied.
    for name, tag in (("电梯故障", "safety_facility"), ("房屋漏水", "water_leak")):
        leaf = Category.objects.create(organization=org, parent=root, name=name, full_name=f"城乡建设/{name}", tags=tag)
        leaf.path = f"{root.path}{leaf.pk}/"
        leaf.save()

    # --- the construction station's rules: the rectification plan --------------------------
    versions = w.things["versions"] = {}
    versions["construction_station"] = _activate(org, "construction_station")
    rect = drive.register("rectification")
    rect = drive.approved(rect, responsible_unit="示范建筑工程有限公司")
    handler = staff["handler"]
    notified = hs.rectification_notify(actor=handler, case_id=rect.pk, unit="示范建筑工程有限公司", requirements="修复")
    planned = hs.rectification_notify(actor=handler, case_id=rect.pk, unit="安居物业", requirements="清理")
    hs.rectification_plan_receive(actor=handler, rectification_id=planned.pk, plan_text="三日内清理完毕")
    accepted = hs.rectification_notify(actor=handler, case_id=rect.pk, unit="绿城园林", requirements="补种")
    hs.rectification_plan_receive(actor=handler, rectification_id=accepted.pk, plan_text="一周内补种")
    hs.rectification_plan_check(actor=handler, rectification_id=accepted.pk, verdict="accepted")
    w.things.update(rect_notified=notified, rect_planned=planned, rect_accepted=accepted)
    assert Rectification.objects.filter(case=rect).count() == 3

    # --- the company front office: the head decides on a dissatisfied callback ---------------
    versions["company_front_office"] = _activate(org, "company_front_office")
    decided = drive.replied(drive.register("head_decides"))
    w.things["decision_callback"] = _callback(
        decided,
        role=Role.CALLBACK_OFFICER,
        status="done",
        satisfaction="dissatisfied",
        head_decision=HeadDecision.PENDING,
    )

    # --- the front office and guest reception, under the company preset's rules ---------------
    _front_office(w)

    # --- the property company: extensions approved by the lead department's head ----------------
    _activate(org, "property_management")
    extended = drive.in_progress(drive.register("extension"))
    overall = Clock.objects.get(case=extended, stage="overall", state=ClockState.RUNNING)
    w.things["extension"] = extension_request(
        actor=handler, case_id=extended.pk, clock_id=overall.pk, amount=1, reason="等待配件"
    )
    # One postponement per case (seeds/000 行 75), of the promised time only (行 342: the
    # answer's three days are not postponable): asked for on another case.
    ask = drive.in_progress(drive.register("extension_ask"))
    w.things["extendable_clock"] = Clock.objects.get(case=ask, stage="overall", state=ClockState.RUNNING)
    assert isinstance(w.things["extension"], Extension)

    # --- the petition office: every lifecycle state ------------------------------------------------
    versions["petition_office"] = _activate(org, "petition_office")
    drive.register("registered")
    drive.accepted(drive.register("accepted"))
    drive.dispatched(drive.register("dispatched"))
    progress = drive.in_progress(drive.register("in_progress"))
    drive.pending(drive.register("pending"))
    drive.approved(drive.register("approved"))
    replied = drive.replied(drive.register("replied"))
    closed = drive.replied(drive.register("closed"))
    cs.case_close(actor=staff["clerk"], case_id=closed.pk, satisfaction="satisfied")
    review = drive.replied(drive.register("under_review"))
    ha.case_request_review(actor=staff["clerk"], case_id=review.pk, reason="不服答复意见")
    reviewed = drive.replied(drive.register("reviewed"))
    ha.case_request_review(actor=staff["clerk"], case_id=reviewed.pk, reason="不服答复意见")
    ha.case_decide_review(actor=staff["leader"], case_id=reviewed.pk, decision="upheld", opinion="维持")
    rereview = drive.replied(drive.register("under_rereview"))
    ha.case_request_review(actor=staff["clerk"], case_id=rereview.pk, reason="不服答复意见")
    ha.case_decide_review(actor=staff["leader"], case_id=rereview.pk, decision="upheld", opinion="维持")
    ha.case_request_rereview(actor=staff["clerk"], case_id=rereview.pk, reason="不服复查意见")
    suspended = drive.in_progress(drive.register("suspended"))
    case_suspend(actor=handler, case_id=suspended.pk, reason="等待反映人补充材料")
    reported = drive.in_progress(drive.register("authority"))
    hs.authority_request_set(
        actor=staff["clerk"],
        case_id=reported.pk,
        authority="市信访局",
        reference="信交〔2026〕1号",
        due_at=timezone.now() + timedelta(days=20),
    )
    w.things["draft_report"] = hs.document_issue(actor=handler, case_id=reported.pk, kind="result_report")
    approved_report = hs.document_issue(actor=handler, case_id=reported.pk, kind="result_report")
    hs.document_approve(actor=staff["leader"], document_id=approved_report.pk)
    w.things["issued_report"] = approved_report
    w.things["letter"] = hs.document_issue(actor=handler, case_id=progress.pk, kind="acceptance_notice")
    assert isinstance(w.things["letter"], Document)

    # Records on the case in progress (led by city, housing assisting, the handler named).
    w.things["investigation"] = hs.investigation_add(
        actor=handler, case_id=progress.pk, kind="site_visit", text="现场查看，漏水属实"
    )
    assert isinstance(w.things["investigation"], Investigation)
    joint = hs.joint_convene(
        actor=staff["head"],
        case_id=progress.pk,
        topic="漏水责任划分",
        department_ids=[departments["city"].pk, departments["housing"].pk],
    )
    hs.joint_record_part(
        actor=staff["assist_head"], joint_id=joint.pk, department_id=departments["housing"].pk, text="配合"
    )
    hs.joint_record_part(actor=handler, joint_id=joint.pk, department_id=departments["city"].pk, text="主办")
    w.things["joint"] = joint
    assert isinstance(joint, JointHandling)
    # Two related cases (关联), the link's own page has none: its take-away button is on both.
    linked = drive.register("linked_a"), drive.register("linked_b")
    w.things["link"] = case_link(
        actor=staff["clerk"], case_id=linked[0].pk, other_number=linked[1].number, reason="同一事项"
    )
    w.things["attachment"] = cs.attachment_add(actor=staff["clerk"], case_id=progress.pk, upload=upload("scan.png"))
    assert isinstance(w.things["attachment"], Attachment)

    # Callbacks on the replied case: one for the callback desk's role, one for the department heads'.
    w.things["desk_callback"] = _callback(replied, role=Role.CALLBACK_OFFICER)
    w.things["head_callback"] = _callback(reviewed, role=Role.DEPT_HEAD)
    w.things["callback_task"] = RectificationTask.objects.create(
        callback=w.things["desk_callback"],
        case=replied,
        problem="楼道灯不亮",
        department_id=departments["city"].pk,
        created_by=staff["callback"],
        created_at=timezone.now(),
        due_at=timezone.now() + timedelta(days=1),
    )
    w.things["knowledge_entry"] = entry_create(
        actor=staff["admin"], title="物业费调整的答复口径", body="须经业主大会决定并公示。", source="《物业管理条例》"
    )
    w.things["promised_answer"] = PromisedAnswer.objects.create(
        callback=w.things["desk_callback"],
        case=replied,
        question="楼道灯以后由谁负责定期检查？",
        answer_by=timezone.now() + timedelta(days=2),
        department_id=departments["city"].pk,
        created_by=staff["callback"],
        created_at=timezone.now(),
    )
    _link, url = rating_link_issue(actor=staff["callback"], callback_id=w.things["desk_callback"].pk)
    w.things["rating_token"] = url.rstrip("/").rsplit("/", 1)[-1]

    # Supervision: a notice to the lead department on the case in progress.
    w.things["notice"] = supervision.supervision_issue(
        actor=staff["supervisor"],
        case_id=progress.pk,
        kind="routine",
        department_id=departments["city"].pk,
        requirement="请于三日内办结",
        due_at=timezone.now() + timedelta(days=3),
    )

    # Surveys and activities run under the property company's rules (areas, engagement kinds).
    _activate(org, "property_management")
    today = timezone.localdate()
    campaign = surveys.campaign_create(
        actor=staff["leader"],
        title="2026 年度业主意见调查",
        starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=10),
        audience="全体业主",
        audience_size=50,
    )
    w.things["campaign"] = campaign
    w.things["survey_token"] = (
        surveys.invitations_issue(actor=staff["leader"], campaign_id=campaign.pk, count=1)[0]
        .rstrip("/")
        .rsplit("/", 1)[-1]
    )
    w.things["item"] = surveys.item_add(
        actor=staff["leader"],
        campaign_id=campaign.pk,
        area="sanitation",
        problem="卫生清扫不及时",
        measure="增加一次午间清扫",
        department_id=departments["city"].pk,
        due_on=today + timedelta(days=30),
    )
    w.things["planned_activity"] = surveys.activity_plan(
        actor=staff["leader"], kind="residents_meeting", planned_on=today, place="会所二楼"
    )
    held = surveys.activity_plan(actor=staff["leader"], kind="building_heads_meeting", planned_on=today, place="会所")
    surveys.activity_record(
        actor=staff["leader"], activity_id=held.pk, held_on=today, attendance=12, minutes="听取意见 3 条"
    )
    w.things["held_activity"] = held

    # A monthly analysis report, generated (its task run here).
    report = reports.report_request(actor=staff["analyst"], kind="month", on=today)
    w.things["report"] = reports.report_generate(report_id=report.pk)

    # The ledger exported by the clerk in the background (its task run here).
    job = export_jobs.job_start(actor=staff["clerk"], source="ledger", fmt="csv", query="")
    w.things["export_job"] = export_jobs.job_run(job_id=job.pk)

    # The other organisation runs the property company's rules too, has its own calendar day and
    # a case in progress (the matrix requests every case URL of this organisation with its id).
    _activate(org2, "property_management")
    theirs, _code = cs.case_register(actor=staff["org2"], data=intake())
    ha.case_dispatch(actor=staff["org2"], case_id=theirs.pk, department_id=elsewhere.pk)
    ha.case_sign_for(actor=staff["org2"], case_id=theirs.pk)
    w.cases["org2"] = theirs
    CalendarDay.objects.create(
        organization=org2, date=today + timedelta(days=40), kind=CalendarDayKind.HOLIDAY, name="停业整顿"
    )

    # Policy administration: the versions activated above, a day of the organisation's calendar.
    w.things["hospital_yaml"] = (presets_dir() / "hospital.yaml").read_text(encoding="utf-8")
    w.things["template"] = documents.template_for(org.pk, "handling_notice")
    w.things["calendar_day"] = CalendarDay.objects.create(
        organization=org, date=today + timedelta(days=40), kind=CalendarDayKind.HOLIDAY, name="停业整顿"
    )
    # Notifications: a message that failed on the case in progress, a mail parked for a clerk.
    w.things["failed_message"] = Message.objects.create(
        organization=org,
        case=progress,
        key="authz:failed-reply",
        purpose="reply",
        medium="sms",
        audience="complainant",
        recipient="13812345678",
        recipient_masked="138****5678",
        body="您反映的问题已答复。",
        status=MessageStatus.FAILED,
        attempts=5,
    )
    w.things["parked_mail"] = InboundMail.objects.create(
        organization=org,
        message_id="<parked@example.org>",
        status=MailStatus.PARKED,
        sender="zhao@example.org",
        sender_masked="z***@example.org",
        subject="楼道堆放杂物",
        text="楼道里堆满了杂物，存在消防隐患。",
        reason="附件“a.exe”的类型不允许",
        received_at=timezone.now(),
    )
    # A desk reminder of the handler's (marked done from the desk by its recipient only).
    desk_notify(
        recipients=[staff["handler"]],
        case=w.cases["in_progress"],
        key="authz:reminder",
        text="新派遣案件",
        kind="dispatched",
    )
    w.things["reminder"] = Notification.objects.get(recipient=staff["handler"], key="authz:reminder")
    _reception(w)
    w.cases = {key: _fresh(c) for key, c in w.cases.items()}
    return w


def _reception(w: World) -> None:
    """The reception (huiyin.reception): a room with hours published two weeks ago, a visit on
    a past working day still booked (to check in, to mark not come), a visit to come, a leader
    day and a joint session to come and held ones in the past, all through the services (the
    past ones stamped with ``at``)."""
    staff = w.staff
    admin, leader, desk, clerk = staff["admin"], staff["leader"], staff["reception"], staff["clerk"]
    now = timezone.localtime()
    today = now.date()
    start = today - timedelta(days=14)
    calendar = rs.calendar_of(w.org.pk)
    past_day = today - timedelta(days=1)
    while not calendar.is_workday(past_day) or past_day.weekday() >= 5:
        past_day -= timedelta(days=1)
    coming = today + timedelta(days=4)  # after the property preset's three days' notice for a leader day
    while not calendar.is_workday(coming) or coming.weekday() >= 5:
        coming += timedelta(days=1)

    def moment(day, hour):
        return timezone.make_aware(datetime.combine(day, time(hour)))

    set_up = moment(start, 9)
    room = rsv.room_save(actor=admin, name="信访接待室", location="市民中心一楼", at=set_up)
    weekdays = [0, 1, 2, 3, 4, 7]
    rsv.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=weekdays,
        starts=time(9),
        ends=time(12),
        slot_minutes=60,
        capacity=5,
        valid_from=start,
        at=set_up,
    )
    [saturday] = rsv.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=[5],
        starts=time(9),
        ends=time(10),
        slot_minutes=60,
        capacity=1,
        valid_from=start,
        at=set_up,
    )

    def key(day, hour):
        return f"h.{room.pk}.{day:%Y%m%d}{hour:02d}00"

    def session(day, hour, topic):
        return rsv.SessionInput(
            room_id=room.pk, date=day, starts=time(hour), ends=time(hour + 1), slot_minutes=60, capacity=3, topic=topic
        )

    visitor = dict(name="张伟", phone="13812345678", purpose="小区楼道堆放杂物")
    past_visit = rsv.appointment_book(
        actor=desk,
        organization=w.org,
        data=rsv.Booking(slot=key(past_day, 10), **visitor),
        at=moment(past_day, 8),
    )
    visit = rsv.appointment_book(actor=desk, organization=w.org, data=rsv.Booking(slot=key(coming, 9), **visitor))
    leader_day = rsv.leader_day_schedule(
        actor=admin, leader_id=leader.pk, data=session(coming, 14, "物业管理"), at=set_up
    )
    held_day = rsv.leader_day_schedule(
        actor=admin, leader_id=leader.pk, data=session(past_day, 14, "老旧小区改造"), at=set_up
    )
    in_progress = w.cases["in_progress"]
    joint = rsv.joint_convene(actor=clerk, case_ids=[in_progress.pk], data=session(coming, 15, "漏水责任划分"))
    held_joint = rsv.joint_convene(
        actor=clerk, case_ids=[in_progress.pk], data=session(past_day, 15, "漏水责任划分"), at=set_up
    )
    w.things.update(
        room=room,
        saturday_hours=saturday,
        reception_coming=coming,
        reception_past=past_day,
        slot_key=key(coming, 10),
        other_slot_key=key(coming, 11),
        joint_slot_key=f"j.{joint.pk}.{coming:%Y%m%d}1500",
        past_visit=past_visit,
        visit=visit,
        leader_day=leader_day,
        held_leader_day=held_day,
        joint_session=joint,
        held_joint_session=held_joint,
    )
