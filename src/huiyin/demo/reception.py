"""Demo reception (来访接待): a reception room with hours published eight weeks ago, visits over
the past three weeks — booked a few days ahead, then arrived (each checked in, so a visit
case was registered at that moment, and answered in the talk that followed), not come or
cancelled — and visits booked for the coming two weeks, a leader reception day held two
weeks ago and one to come, and a joint reception session for two open cases. Everything
goes through ``huiyin.reception.services``, each step stamped with the moment it happened
(``at``): nothing is dated after it was done, and nothing said to have happened lies in the
future."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from huiyin.cases.models import Case, Nature
from huiyin.cases.services import case_answer_on_spot, case_close
from huiyin.cases.workflow import OPEN_STATES
from huiyin.demo.days import on as _at
from huiyin.followup import services as followup
from huiyin.followup.models import AttemptOutcome, Callback, CallbackStatus
from huiyin.orgs.models import Department, Staff
from huiyin.reception import schedule, services
from huiyin.reception.models import BookedVia, LeaderDay, Room, SlotKind, Weekday

from .generator import _id_number, _mobile, _name
from .history import Story, play

CALLBACK_FINDINGS = "电话回访，来访人对接谈答复表示满意。"

# What visitors come about: the matter, its nature (a question is a consultation, not a
# complaint) and the answer given in the talk, fitting the matter.
PURPOSES: tuple[tuple[str, str, str], ...] = (
    (
        "小区电梯长期故障，物业一直不修",
        Nature.COMPLAINT,
        "接谈时已联系物业监管科，责成物业服务企业三个工作日内完成电梯维修并书面反馈，来访人表示同意。",
    ),
    (
        "楼上装修噪音扰民，多次协调无果",
        Nature.COMPLAINT,
        "接谈时已告知装修作业时间规定，并通知社区和物业上门劝导、督促整改，来访人表示理解。",
    ),
    (
        "拆迁补偿标准有异议，希望当面反映",
        Nature.COMPLAINT,
        "接谈时已当面解释征收补偿标准和评估程序，告知对评估结果有异议可申请复核评估，来访人表示理解。",
    ),
    (
        "单位拖欠工资三个月，想咨询如何维权",
        Nature.HELP,
        "接谈时已告知可向劳动保障监察机构投诉或申请劳动仲裁，并说明所需材料和办理地点，来访人表示清楚。",
    ),
    (
        "小区门口占道经营，影响出行",
        Nature.REPORT,
        "接谈时已将线索转城市管理局核查处理，告知处理结果将电话反馈，来访人表示同意。",
    ),
    (
        "孩子入学片区划分问题咨询",
        Nature.CONSULTATION,
        "接谈时已说明今年义务教育学区划分方案和报名时间，告知可在教育局网站查询所属学区，来访人表示清楚。",
    ),
    (
        "老旧小区加装电梯意见不统一",
        Nature.HELP,
        "接谈时已介绍加装电梯的政策和补助标准，告知由社区组织业主协商，来访人表示理解。",
    ),
    (
        "邻居违建遮挡采光",
        Nature.REPORT,
        "接谈时已将线索转属地街道和城市管理局核查，依法处理后电话反馈，来访人表示同意。",
    ),
)


def _visitor(rng: random.Random) -> tuple[str, str, tuple[str, str, str], bool]:
    name, male = _name(rng)
    return name, _mobile(rng), rng.choice(PURPOSES), male


def _workdays(calendar, first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if calendar.is_workday(day) and day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def called_back(officer: Staff, case_id: int, at: datetime, now: datetime) -> None:
    """The callback desk calls the visitor back at ``at`` (the next working day; where that is
    before ``now``) and the case closes, satisfied: its callback clock does not run on for weeks."""
    if at >= now:
        return
    row = Callback.objects.filter(case_id=case_id, status=CallbackStatus.DUE).first()
    if row is not None:
        followup.callback_record(
            actor=officer,
            callback_id=row.pk,
            outcome=AttemptOutcome.REACHED,
            satisfaction="satisfied",
            findings=CALLBACK_FINDINGS,
            at=at,
        )
    else:
        case_close(
            actor=officer,
            case_id=case_id,
            satisfaction="satisfied",
            callback_note=CALLBACK_FINDINGS,
            confirmed=True,
            confirmation_note="来访人电话确认处理结果。",
            at=at,
        )


@dataclass
class ReceptionPlan:
    """The reception set up and its visits booked (``plan_reception``); ``arrivals``: the
    check-ins, stories to play in time order with the other cases (``history.populate``), so
    that each visit's case takes its place in the day's numbering; then ``finish_reception``."""

    counts: dict[str, int]
    arrivals: list[Story] = field(default_factory=list)
    held: LeaderDay | None = None
    held_on: date | None = None
    leader_room_id: int | None = None


def seed_reception(
    org_id: int, staff: dict[str, Staff], *, seed: int = 11, now: datetime | None = None
) -> dict[str, int]:
    """The demo's reception, once (the caller checks there is no room yet), its check-ins
    played on their own in time order. Returns counts."""
    now = now or timezone.now()
    plan = plan_reception(org_id, staff, seed=seed, now=now)
    play(plan.arrivals, now=now)
    return finish_reception(org_id, staff, plan, now=now)


def _arrival(
    staff: dict[str, Staff], appointment_id: int, data: services.CheckIn, reply: str, at: datetime, calendar
) -> Story:
    """The visitor checks in at ``at`` (a visit case registered then), is answered in the talk
    that follows, and is called back the next working day."""
    at = yield at
    desk = staff["reception"]
    _appointment, case, _code = services.appointment_check_in(
        actor=desk, appointment_id=appointment_id, data=data, at=at
    )
    # 接谈后可直接答复的，当场答复 (seeds/002 行 17): the visit's case does not sit
    # registered, its clocks running, for the weeks since.
    at = yield at + timedelta(minutes=25 + appointment_id % 20)
    case_answer_on_spot(actor=desk, case_id=case.pk, reply=reply, method="in_person", at=at)
    at = yield calendar.add_working_hours(timezone.localtime(at), timedelta(hours=8))
    called_back(staff["callback"], case.pk, at, at + timedelta(seconds=1))


def plan_reception(
    org_id: int, staff: dict[str, Staff], *, seed: int = 11, now: datetime | None = None
) -> ReceptionPlan:
    """Rooms, hours, leader days and the visits booked, not come or cancelled; the check-ins
    are left to play (``ReceptionPlan.arrivals``)."""
    rng = random.Random(seed)
    now = now or timezone.now()
    today = timezone.localdate(now)
    admin, leader, desk = staff["admin"], staff["leader"], staff["reception"]
    organization = desk.organization
    assert organization is not None
    set_up = _at(today - timedelta(days=56), 9)
    room = services.room_save(actor=admin, name="来访接待室", location="市民服务中心一楼东侧", at=set_up)
    services.room_save(actor=admin, name="领导接待室", location="市民服务中心二楼", at=set_up)
    for starts, ends in ((time(9), time(11, 30)), (time(14), time(16, 30))):
        services.hours_add(
            actor=admin,
            room_id=room.pk,
            weekdays=[*range(5), Weekday.SWAPPED_WORKDAY],
            starts=starts,
            ends=ends,
            slot_minutes=30,
            capacity=2,
            valid_from=set_up.date(),
            at=set_up,
        )
    leader_room = Room.objects.get(organization_id=org_id, name="领导接待室")
    departments = list(Department.objects.filter(organization_id=org_id, handles_cases=True).order_by("code"))
    calendar = schedule.calendar_of(org_id)
    counts = {"visits": 0, "arrived": 0, "no_show": 0, "cancelled": 0, "coming": 0, "sessions": 0}
    plan = ReceptionPlan(counts=counts, leader_room_id=leader_room.pk)

    def session(day: date, starts: int, topic: str, room_id: int) -> services.SessionInput:
        return services.SessionInput(
            room_id=room_id,
            date=day,
            starts=time(starts),
            ends=time(starts + 2),
            slot_minutes=30,
            capacity=2,
            topic=topic,
            department_ids=[d.pk for d in departments[:2]],
        )

    # A leader day held two weeks ago (published a week before it), and one to come.
    past_days = _workdays(calendar, today - timedelta(days=21), today - timedelta(days=1))
    held_on = past_days[len(past_days) // 3] if past_days else None
    held = None
    if held_on is not None:
        held = services.leader_day_schedule(
            actor=admin,
            leader_id=leader.pk,
            data=session(held_on, 14, "物业服务与老旧小区改造", leader_room.pk),
            at=_at(held_on - timedelta(days=7), 10),
        )
        counts["sessions"] += 1
    rules = schedule.reception_rules(org_id)
    coming_days = _workdays(
        calendar, today + timedelta(days=rules.leader_day_notice_days + 1), today + timedelta(days=13)
    )
    coming = None
    if coming_days:
        coming = services.leader_day_schedule(
            actor=admin,
            leader_id=leader.pk,
            data=session(coming_days[0], 14, "城市管理与市容环境", leader_room.pk),
            at=now - timedelta(hours=2),
        )
        counts["sessions"] += 1

    # Visits of the past three weeks: booked one to four days ahead, then their outcome.
    for day in past_days:
        for _n in range(rng.choice((0, 1, 1, 2))):
            offers = [
                s
                for s in schedule.offered(org_id, day, day)
                if s.left > 0 and (s.kind == SlotKind.HOURS or (held is not None and s.leader_day == held))
            ]
            if not offers:
                continue
            offer = rng.choice(offers)
            booked_at = min(offer.starts_at - timedelta(hours=2), _at(day - timedelta(days=rng.randint(1, 4)), 10))
            name, phone, (purpose, nature, reply), male = _visitor(rng)
            appointment = services.appointment_book(
                actor=desk,
                organization=organization,
                data=services.Booking(
                    slot=offer.key,
                    name=name,
                    phone=phone,
                    purpose=purpose,
                    via=rng.choice((BookedVia.PHONE, BookedVia.ON_SITE)),
                ),
                at=booked_at,
            )
            counts["visits"] += 1
            fate = rng.random()
            if fate < 0.7:
                arrived = offer.starts_at + timedelta(minutes=rng.randint(-10, 10))
                checked_in = max(arrived, _at(day, 0, 1))
                data = services.CheckIn(
                    id_number=_id_number(rng, male),
                    name=name,
                    phone=phone,
                    gender="male" if male else "female",
                    age=rng.randint(25, 75),
                    affiliation="无",  # the visit register asks for the work unit (intake.visit_fields)
                    nature=nature,
                    text=purpose + "。",
                    headcount=1,
                    new_matter=True,
                )
                plan.arrivals.append(_arrival(staff, appointment.pk, data, reply, checked_in, calendar))
                counts["arrived"] += 1
            elif fate < 0.85:
                services.appointment_no_show(
                    actor=desk, appointment_id=appointment.pk, at=offer.starts_at + timedelta(minutes=40)
                )
                counts["no_show"] += 1
            else:
                services.appointment_cancel(
                    actor=desk,
                    appointment_id=appointment.pk,
                    reason="来访人来电取消，改为电话反映",
                    at=booked_at + timedelta(hours=1),
                )
                counts["cancelled"] += 1
    plan.held, plan.held_on = held, held_on

    # Visits booked for the coming two weeks (some from the portal, one in the coming leader day).
    for day in _workdays(calendar, today, today + timedelta(days=13)):
        offers = [s for s in schedule.offered(org_id, day, day) if s.starts_at > now and s.left > 0]
        if coming is not None and day == coming.date:
            offers = [s for s in offers if s.leader_day == coming] or offers
        for _n in range(rng.choice((0, 1, 1, 2))):
            if not offers:
                break
            offer = offers.pop(rng.randrange(len(offers)))
            name, phone, (purpose, _nature, _reply), _male = _visitor(rng)
            portal = rng.random() < 0.3
            # Booked after the period was published: the coming leader day two hours ago.
            recent = portal or offer.leader_day is not None
            services.appointment_book(
                actor=None if portal else desk,
                organization=organization,
                data=services.Booking(slot=offer.key, name=name, phone=phone, purpose=purpose),
                at=now - (timedelta(minutes=30) if recent else timedelta(hours=rng.randint(1, 20))),
            )
            counts["coming"] += 1

    return plan


def finish_reception(
    org_id: int, staff: dict[str, Staff], plan: ReceptionPlan, *, now: datetime | None = None
) -> dict[str, int]:
    """After the check-ins: the held leader day's record, and a joint reception session for
    two open cases handled by different departments. Returns the counts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts, held, held_on = plan.counts, plan.held, plan.held_on
    if held is not None and held_on is not None:
        services.leader_day_record(
            actor=staff["leader"],
            day_id=held.pk,
            summary="接待来访群众，涉及物业服务、加装电梯等问题，当场答复 1 件，其余交办相关部门限期办理。",
            at=_at(held_on, 17),
        )
    calendar = schedule.calendar_of(org_id)
    departments = list(Department.objects.filter(organization_id=org_id, handles_cases=True).order_by("code"))
    # A joint reception session for two open cases handled by different departments.
    open_cases = list(
        Case.objects.filter(organization_id=org_id, state__in=OPEN_STATES, lead_department__isnull=False).order_by(
            "-received_at"
        )[:20]
    )
    pair: list[Case] = []
    for case in open_cases:
        if not pair or case.lead_department_id != pair[0].lead_department_id:
            pair.append(case)
        if len(pair) == 2:
            break
    joint_days = _workdays(calendar, today + timedelta(days=2), today + timedelta(days=13))
    if len(pair) == 2 and joint_days:
        services.joint_convene(
            actor=staff["clerk"],
            case_ids=[c.pk for c in pair],
            data=services.SessionInput(
                room_id=plan.leader_room_id or 0,
                date=joint_days[-1],
                starts=time(9),
                ends=time(11),
                slot_minutes=30,
                capacity=2,
                topic="多部门联合接待",
                department_ids=[d.pk for d in departments[:2]],
            ),
            at=now - timedelta(hours=1),
        )
        counts["sessions"] += 1
    return counts
