"""Demo surveys and engagement activities: a running satisfaction campaign with paper
and online answers, rectification items, and each engagement kind of the preset held
last period and planned in this one — all through the surveys services, each write at
the moment it happened (``at``): the campaign set up before it opened, answers coming in
day by day since, the meeting recorded the day it was held."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from huiyin.cases.models import Case
from huiyin.cases.services import case_answer_on_spot
from huiyin.core.periods import period_of
from huiyin.deadlines.notify import Directory
from huiyin.demo.days import on as _on
from huiyin.demo.days import weekday_from
from huiyin.demo.reception import called_back
from huiyin.evaluation.services import deduction_record
from huiyin.orgs.models import Department, Staff
from huiyin.policy.services import current_policy
from huiyin.surveys import services

OPINIONS = (
    "电梯经常坏，希望尽快修好",
    "楼道灯不亮，晚上出入不方便",
    "电梯经常坏，老人上下楼困难",
    "小区绿化维护得不错",
    "地下车库积水，下雨天没法走",
    "保洁人员很负责",
    "楼道灯不亮，报修好几次了",
    "希望增加夜间巡逻",
    "维修师傅上门准时，态度好",
    "垃圾清运不及时，夏天有异味",
    "打热线很快有人接，处理也及时",
    "办理时间太长，希望加快",
    "回复内容太简单，没有说清楚原因",
)
OPINION_REPLY = "已安排工程部在地下车库加装照明灯具，本月底前完工，完工后在业主群通知。"
# How likely each area is answered 满意 / 基本满意 (the rest 不满意), to look like a real survey.
LEANING = (0.55, 0.3)


def _office(moment: datetime) -> datetime:
    """The same day's office hours (09:00–17:59): papers are typed in at a desk."""
    local = timezone.localtime(moment)
    if local.hour < 9:
        return local.replace(hour=9)
    return local.replace(hour=17) if local.hour >= 18 else local


def seed_outreach(
    org_id: int, staff: dict[str, Staff], *, seed: int = 7, now: datetime | None = None
) -> dict[str, int]:
    rng = random.Random(seed)
    leader = staff["leader"]
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"responses": 0, "activities": 0}
    areas, _report_to = services.preset_areas(org_id)
    if areas:
        starts_on = today - timedelta(days=20)
        campaign = services.campaign_create(
            actor=leader,
            title=f"{today.year} 年度满意度调查",
            starts_on=starts_on,
            ends_on=today + timedelta(days=10),
            audience="近三个月反映问题的群众及服务范围内住户",
            audience_size=120,
            at=_on(starts_on - timedelta(days=3), 10),
        )
        opened = _on(starts_on, 9)
        for n in range(1, 61):
            # Answers arrive day by day since the campaign opened, never after now.
            at = min(now, _office(opened + (now - opened) * (n - rng.random()) / 60))
            answers = {}
            for area in campaign.areas:
                if rng.random() < 0.08:
                    continue  # left blank
                x = rng.random()
                answers[area["code"]] = (
                    "satisfied" if x < LEANING[0] else "basically_satisfied" if x < sum(LEANING) else "dissatisfied"
                )
            opinion = rng.choice(OPINIONS) if rng.random() < 0.5 else ""
            if n <= 40:
                services.response_enter(
                    actor=leader,
                    campaign_id=campaign.pk,
                    paper_number=f"{today.year}-{n:03d}",
                    answers=answers,
                    opinion=opinion,
                    at=at,
                )
            else:
                token = services.invitations_issue(actor=leader, campaign_id=campaign.pk, count=1, at=at)[0]
                services.response_submit(
                    token=token.rstrip("/").rsplit("/", 1)[-1], answers=answers, opinion=opinion, at=at
                )
            counts["responses"] += 1
        departments = list(Department.objects.filter(organization_id=org_id).order_by("code")[:2])
        for i, (problem, measure) in enumerate(
            (
                ("楼道照明报修后修复慢", "建立照明巡查台账，报修 24 小时内修复"),
                ("答复内容过于简单", "答复须写明原因、依据和结果，负责人审核"),
            )
        ):
            item = services.item_add(
                actor=leader,
                campaign_id=campaign.pk,
                problem=problem,
                measure=measure,
                department_id=departments[i % len(departments)].pk,
                due_on=today + timedelta(days=15 + 15 * i),
                at=min(now, _on(today - timedelta(days=6 - i), 15)),
            )
            if i == 0:
                heads = Directory().dept_heads(org_id, item.department_id)
                head = heads[0] if heads else leader
                services.item_done(
                    actor=head,
                    item_id=item.pk,
                    note="已建立巡查台账，本月报修均在 24 小时内修复",
                    at=min(now, _on(today - timedelta(days=1), 16)),
                )

    policy = current_policy(org_id)
    for kind in policy.preset().engagement if policy is not None else ():
        start, end = period_of(kind.every, today)
        held_on = start - timedelta(days=20)
        held = services.activity_plan(
            actor=leader,
            kind=kind.code,
            planned_on=held_on,
            place="管理处会议室",
            led_by_id=leader.pk,
            at=_on(held_on - timedelta(days=10), 10),
        )
        services.activity_record(
            actor=leader,
            activity_id=held.pk,
            held_on=held.planned_on,
            attendance=rng.randint(8, 30),
            attendees="业主代表、楼长",
            minutes="听取意见 5 条：电梯维保、车库照明、绿化修剪等，当场答复 3 条，其余约定一周内答复。",
        )
        opinion = services.activity_opinion_to_case(
            actor=leader,
            activity_id=held.pk,
            text="地下车库照明不足，晚上看不清",
            nature="suggestion",
            name="王芳",
            phone="13900001111",
            at=_on(held_on + timedelta(days=1), 10),
        )
        # 其余约定一周内答复 (the minutes): the office answers the owner by phone within the
        # week, and the callback desk confirms it the next working day.
        answered = _on(weekday_from(held_on + timedelta(days=4)), 15)
        if answered < now:
            case_answer_on_spot(actor=leader, case_id=opinion.pk, reply=OPINION_REPLY, method="phone", at=answered)
            called_back(staff["callback"], opinion.pk, _on(weekday_from(answered.date() + timedelta(days=1)), 10), now)
        next_on = min(today + timedelta(days=7), end - timedelta(days=1))  # still in this period
        services.activity_plan(
            actor=leader, kind=kind.code, planned_on=next_on, place="管理处会议室", led_by_id=leader.pk, at=now
        )
        counts["activities"] += 2
    counts["deductions"] = _escalated(org_id, staff, policy.preset() if policy is not None else None, now)
    return counts


def _escalated(org_id: int, staff: dict[str, Staff], preset, now: datetime) -> int:
    """A couple of complaints that went over the handler's head (越级投诉), recorded by the
    supervisor where the preset deducts points for them."""
    if preset is None or not preset.deductions:
        return 0
    rule = preset.deductions[0]
    cases = Case.objects.filter(organization_id=org_id, state="closed", lead_department__isnull=False).order_by(
        "-received_at"
    )[: len(rule.levels)]
    recorded = 0
    for case, level in zip(cases, rule.levels, strict=False):
        # The supervisor records it the working day after the complaint went over the handler's head.
        last = case.events.aggregate(m=Max("at"))["m"] or now
        at = min(now, max(last, (case.closed_at or last) + timedelta(days=1)))
        recorded += len(
            deduction_record(
                actor=staff["supervisor"],
                case_id=case.pk,
                rule=rule.code,
                level=level.code,
                note=f"反映人{level.label}",
                at=at,
            )
        )
    return recorded
