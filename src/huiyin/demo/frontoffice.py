"""Demo front office and guest reception, for an organisation under the company front
office preset: a few visitors over the past weeks (announced the day before, checked in
with their ID card and a badge, checked out, most leaving a feedback form) and one guest
reception from its request to its reimbursement — all through the frontoffice services,
each write at the moment it happened (``at``), on working days in office hours.

The organisation gets an administrative office (综合办公室) and a finance department
(财务科) with one person each, named in the reception settings, if it has none."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from huiyin.core.validators import id_check_digit
from huiyin.frontoffice import services as fo
from huiyin.frontoffice.models import GuestReception, Visitor
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Role

from .days import on as _on
from .days import weekday_from
from .generator import DEMO_PASSWORD

VISITORS = (
    # name, affiliation, purpose, feedback (None: none left)
    ("陈志明", "示范电梯维保有限公司", "电梯年度维保合同洽谈", "satisfied"),
    ("刘芳", "示范市消防救援支队", "消防安全检查", "satisfied"),
    ("黄伟", "示范物业管理协会", "行业交流", "basically_satisfied"),
    ("周静", "示范保洁服务公司", "保洁服务续约", None),
    ("吴强", "示范市住房和城乡建设局", "物业服务质量调研", "satisfied"),
    ("郑丽", "示范科技有限公司", "智慧社区系统演示", "dissatisfied"),
    ("王磊", "示范银行社区支行", "代缴物业费业务对接", "basically_satisfied"),
)


@dataclass
class FrontOfficeDemo:
    visitors: int
    reception: GuestReception | None
    logins: list[tuple[str, str, str]]


def _working_day(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _working_days_before(day: date, n: int) -> date:
    for _i in range(n):
        day = _working_day(day - timedelta(days=1))
    return day


def _working_days_after(day: date, n: int) -> date:
    for _i in range(n):
        day = weekday_from(day + timedelta(days=1))
    return day


def _id_card(rng: random.Random) -> str:
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(12000))
    first17 = f"110105{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_digit(first17)


def _receipt(name: str) -> SimpleUploadedFile:
    body = b"%PDF-1.4\n% demo receipt\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def _department(org: Organization, code: str, name: str) -> Department:
    department, _created = Department.objects.get_or_create(
        organization=org, code=code, defaults={"name": name, "handles_cases": False, "sort_order": 90}
    )
    return department


def _person(org: Organization, username: str, full_name: str, roles: list[str], department: Department) -> Staff:
    person = Staff.objects.filter(username=username).first()
    if person is None:
        person = Staff.objects.create(
            username=username,
            full_name=full_name,
            organization=org,
            department=department,
            roles=roles,
            password=make_password(DEMO_PASSWORD),
        )
    return person


def seed_front_office(org: Organization, staff: dict[str, Staff], *, now: datetime | None = None) -> FrontOfficeDemo:
    """Once per organisation (nothing when it already has visitors)."""
    if Visitor.objects.filter(organization=org).exists():
        return FrontOfficeDemo(visitors=0, reception=None, logins=[])
    now = now or timezone.now()
    rng = random.Random(17)
    office = _department(org, "office", "综合办公室")
    finance = _department(org, "finance", "财务科")
    office_head = _person(org, "office_head", "秦丽华", [Role.DEPT_HEAD], office)
    accountant = _person(org, "finance", "钱晓燕", [], finance)
    admin, desk, leader = staff["admin"], staff["reception"], staff["leader"]
    fo.setup_save(actor=admin, office_department_id=office.pk, finance_department_id=finance.pk)
    hosts = [s for key, s in staff.items() if key.startswith(("head_", "handler_"))][:6] or [leader]
    today = timezone.localdate(now)

    # Visitors over the past three weeks, one every two or three working days.
    count = 0
    day = _working_day(today - timedelta(days=21))
    for i, (name, affiliation, purpose, feedback) in enumerate(VISITORS):
        if day >= today:
            break
        host = hosts[i % len(hosts)]
        announced = _on(_working_day(day - timedelta(days=1)), 16, 10 + i)
        visitor = fo.visitor_expect(
            actor=host,
            expected_on=day,
            expected_time=time(9 + i % 6, 30),
            name=name,
            affiliation=affiliation,
            phone=f"139{rng.randrange(10**8):08d}",
            purpose=purpose,
            at=announced,
        )
        arrived = _on(day, 9 + i % 6, 25 + rng.randrange(10))
        fo.visitor_check_in(
            actor=desk,
            visitor_id=visitor.pk,
            data=fo.CheckIn(
                id_type="resident_id",
                id_number=_id_card(rng),
                badge=f"V-{i + 1:02d}",
                security_notes="已告知安全须知" if i % 2 else "携带笔记本电脑一台",
            ),
            at=arrived,
        )
        left = arrived + timedelta(minutes=50 + rng.randrange(70))
        fo.visitor_check_out(actor=desk, visitor_id=visitor.pk, at=left)
        if feedback:
            fo.visitor_feedback_record(
                actor=desk,
                visitor_id=visitor.pk,
                overall=feedback,
                answers=[feedback, "satisfied", feedback],
                comment="等候区可以增加几份宣传资料" if feedback == "dissatisfied" else "",
                at=left + timedelta(minutes=5),
            )
        count += 1
        day = _working_day(day + timedelta(days=2 + i % 2))

    # One guest reception, from the request to the reimbursement.
    requester = next((s for s in hosts if s.department_id is not None), None)
    reception = None
    start = _working_day(today - timedelta(days=12))
    if requester is not None:
        asked = _on(_working_days_before(start, 4), 10)
        reception = fo.reception_request(
            actor=requester,
            purpose="市住建局调研物业服务标准化工作",
            guests="吴强，示范市住房和城乡建设局，副局长\n孙敏，示范市住房和城乡建设局，物业科科长",
            starts_on=start,
            ends_on=start,
            expected_outcome="介绍服务标准化做法，争取列入全市试点",
            budget={"room": "300", "transport": "200", "meals": "800", "gifts": "300"},
            at=asked,
        )
        fo.reception_decide(
            actor=office_head,
            reception_id=reception.pk,
            decision="approved",
            opinion="同意，注意节约",
            at=asked + timedelta(hours=3),
        )
        approved_at = _on(_working_days_before(start, 3), 9, 40)
        fo.reception_decide(actor=leader, reception_id=reception.pk, decision="approved", at=approved_at)
        for arrangement in reception.arrangements.all():
            fo.arrangement_done(actor=office_head, arrangement_id=arrangement.pk, at=approved_at + timedelta(hours=2))
        fo.expense_record(
            actor=requester,
            reception_id=reception.pk,
            item="gifts",
            amount="280",
            spent_on=_working_days_before(start, 1),
            description="纪念册两份",
            receipt=_receipt("gifts.pdf"),
            at=_on(start, 8, 30),
        )
        overrun = fo.overrun_request(
            actor=requester,
            reception_id=reception.pk,
            item="meals",
            amount="200",
            reason="来宾临时增加随行人员两名",
            at=_on(start, 10, 15),
        )
        fo.overrun_decide(
            actor=leader, overrun_id=overrun.pk, decision="approved", opinion="同意", at=_on(start, 10, 40)
        )
        for item, amount, description in (
            ("room", "300", "三楼会议室半天"),
            ("transport", "180", "接送用车"),
            ("meals", "960", "工作午餐六人"),
        ):
            fo.expense_record(
                actor=requester,
                reception_id=reception.pk,
                item=item,
                amount=amount,
                spent_on=start,
                description=description,
                receipt=_receipt(f"{item}.pdf"),
                at=_on(start, 15),
            )
        closed = _on(start, 17, 20)
        fo.reception_close(
            actor=requester,
            reception_id=reception.pk,
            summary="调研顺利，来宾肯定了服务标准化做法，建议补充夜间巡逻记录。",
            feedback="satisfied",
            feedback_comment="安排周到、节约",
            at=closed,
        )
        fo.reimbursement_submit(
            actor=requester, reception_id=reception.pk, at=_on(_working_days_after(start, 1), 9, 30)
        )
        paid = _on(_working_days_after(start, 3), 11)
        if paid < now:
            fo.reimbursement_decide(
                actor=accountant, reception_id=reception.pk, decision="reimbursed", note="已转账", at=paid
            )
        reception.refresh_from_db()
    logins = [
        ("office_head", "部门负责人（综合办公室，审核接待申请）", office.name),
        ("finance", "财务人员（办理接待报销）", finance.name),
    ]
    return FrontOfficeDemo(visitors=count, reception=reception, logins=logins)
