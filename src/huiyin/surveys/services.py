"""Survey campaigns, answers, rectification items (F42) and engagement activities (F43).

Every write checks its input first and changes nothing when refused: an answer out of
range names the area, a paper questionnaire typed in twice is refused by its number,
an invitation link answers once.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases import services as case_services
from huiyin.cases.inputs import IntakeInput, PartyInput
from huiyin.core import reminders
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.core.notify import desk_notify
from huiyin.core.tokens import new_token, token_hash
from huiyin.core.validators import When, checked_text, clean_text, day_error, happened_at
from huiyin.core.versions import check_fingerprint, check_version, fingerprint
from huiyin.deadlines.notify import Directory
from huiyin.orgs.models import Department, Staff
from huiyin.policy.services import current_policy

from . import permissions
from .errors import SurveysError
from .models import (
    CAMPAIGN_STATUSES,
    ITEM_STATUSES,
    Activity,
    ActivityOpinion,
    Answer,
    Campaign,
    CampaignStatus,
    Invitation,
    ItemStatus,
    RectificationItem,
    ResponseChannel,
    SurveyResponse,
)

OPINION_MAX = 1000
MINUTES_MAX = 20000
AUDIENCE_MAX = 1_000_000
AREA_LABEL_MAX = 40
LINKS_AT_ONCE = 1000
EXTRA_AREAS_MAX = 30


def _require_runner(actor: Staff) -> None:
    if not permissions.may_run_surveys(actor):
        raise PermissionDeniedError(_("只有客服中心、领导或管理员可以组织调查和走访。"))


def _gather(errors: dict[str, list[str]], value: str | None, field: str, **rules) -> str:
    """``checked_text`` for one field of a form whose messages are all shown together
    (blank when refused: the caller raises the gathered errors before using it)."""
    try:
        return checked_text(value, field, **rules)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return ""


def preset_areas(organization_id: int) -> tuple[list[dict], str]:
    """The survey areas and report addressee of the organisation's preset (none: empty)."""
    policy = current_policy(organization_id)
    survey = policy.preset().survey if policy is not None else None
    if survey is None:
        return [], ""
    return [{"code": a.code, "label": a.label} for a in survey.areas], survey.report_to


# --- campaigns ---------------------------------------------------------------------------------


def campaign_create(
    *,
    actor: Staff,
    title: str,
    starts_on: date | None,
    ends_on: date | None,
    audience: str,
    audience_size: int | None,
    extra_areas: str = "",
    report_to: str | None = None,
    at: datetime | None = None,
) -> Campaign:
    """A campaign asks the preset's areas, plus any extra ones (one per line). ``at`` (here and
    in the other writes): when it happened, where history is recreated (``validators.happened_at``)."""
    _require_runner(actor)
    now = happened_at(at)
    errors: dict[str, list[str]] = {}
    title = _gather(errors, title, "title", missing=_("请填写调查名称。"), limit=120)
    audience = _gather(errors, audience, "audience", missing=_("请填写调查对象（如：全体业主）。"), limit=200)
    if starts_on is None:
        errors["starts_on"] = [_("请填写开始日期。")]
    elif message := day_error(starts_on, When.PLANNED, _("开始日期")):
        errors["starts_on"] = [message]
    if ends_on is None:
        errors["ends_on"] = [_("请填写截止日期。")]
    elif message := day_error(ends_on, When.PLANNED, _("截止日期")):
        errors["ends_on"] = [message]
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = [_("截止日期不能早于开始日期。")]
    if audience_size is None or not 1 <= audience_size <= AUDIENCE_MAX:
        errors["audience_size"] = [_("请填写发放份数（1 至 %(max)d 份），用于计算回收率。") % {"max": AUDIENCE_MAX}]
    areas, default_report_to = preset_areas(actor.org_id)
    lines = [line for line in clean_text(extra_areas).splitlines() if line.strip()]
    if len(lines) > EXTRA_AREAS_MAX:
        errors["extra_areas"] = [_("调查项目最多再加 %(max)d 项（每行一项）。") % {"max": EXTRA_AREAS_MAX}]
        lines = []
    for line in lines:
        label = line.strip()
        if len(label) > AREA_LABEL_MAX:
            errors["extra_areas"] = [
                _("调查项目“%(label)s…”过长：每项最多 %(max)d 字。") % {"label": label[:10], "max": AREA_LABEL_MAX}
            ]
        elif label and label not in {a["label"] for a in areas}:
            areas.append({"code": f"extra_{len(areas) + 1}", "label": label})
    report_to = _gather(errors, report_to if report_to is not None else default_report_to, "report_to", limit=60)
    if not areas and "extra_areas" not in errors:
        errors["extra_areas"] = [_("本单位政策未规定调查项目：请逐行填写要调查的项目。")]
    if errors:
        raise ValidationFailed(errors)
    assert starts_on is not None and ends_on is not None and audience_size is not None  # each missing one is an error
    return Campaign.objects.create(
        organization_id=actor.org_id,
        title=title,
        starts_on=starts_on,
        ends_on=ends_on,
        audience=audience,
        audience_size=audience_size,
        areas=areas,
        report_to=report_to,
        created_by=actor,
        created_at=now,
    )


def _campaign(actor: Staff, campaign_id: int, *, lock: bool = False) -> Campaign:
    rows = Campaign.objects.filter(pk=campaign_id, organization_id=actor.org_id)
    campaign = (rows.select_for_update() if lock else rows).first()
    if campaign is None:
        raise PermissionDeniedError()
    return campaign


def campaign_close(*, actor: Staff, campaign_id: int) -> Campaign:
    _require_runner(actor)
    with transaction.atomic():
        campaign = _campaign(actor, campaign_id, lock=True)
        CAMPAIGN_STATUSES.move(campaign, CampaignStatus.CLOSED, message=_("该调查已结束。"), code=SurveysError.CLOSED)
        campaign.save(update_fields=["status"])
    return campaign


def handed_out(campaign: Campaign) -> int:
    """Questionnaires known to be handed out: online links issued plus paper ones entered."""
    return campaign.invitations.count() + campaign.responses.filter(channel=ResponseChannel.PAPER).count()


def _within_audience(campaign: Campaign, more: int, field: str) -> None:
    """The response rate divides by 发放份数: links and papers never exceed it."""
    used = handed_out(campaign)
    if campaign.audience_size is None:
        raise ValidationFailed({field: [_("请先填写发放份数（用于计算回收率），再发放问卷。")]})
    if used + more > campaign.audience_size:
        raise ValidationFailed(
            {
                field: [
                    _(
                        "发放份数为 %(size)d 份，已发出链接和录入纸质问卷共 %(used)d 份，最多还可增加 %(left)d 份；"
                        "如实际发放更多，请先修改发放份数。"
                    )
                    % {"size": campaign.audience_size, "used": used, "left": max(campaign.audience_size - used, 0)}
                ]
            }
        )


def audience_version(campaign: Campaign) -> str:
    """The version of the 发放份数 and 调查对象 a page shows (``core.versions.fingerprint``)."""
    return fingerprint(campaign.audience, campaign.audience_size)


def campaign_set_audience_size(
    *,
    actor: Staff,
    campaign_id: int,
    audience_size: int | None,
    audience: str | None = None,
    expected_version: str | None = None,
) -> Campaign:
    """Correct 发放份数 (more handed out than planned); never below what is already out.
    ``audience``: the 调查对象 too (a round the preset's schedule opened has none yet).
    ``expected_version``: ``audience_version`` when the page was made; a change saved by
    someone else since then is refused (``StaleObject``), never overwritten."""
    _require_runner(actor)
    if audience is not None:
        audience = checked_text(audience, "audience", missing=_("请填写调查对象（如：全体业主）。"), limit=200)
    with transaction.atomic():
        campaign = _campaign(actor, campaign_id, lock=True)
        check_fingerprint(audience_version(campaign), expected_version, what=_("该调查的发放份数"))
        used = handed_out(campaign)
        if audience_size is None or not max(used, 1) <= audience_size <= AUDIENCE_MAX:
            raise ValidationFailed(
                {
                    "audience_size": [
                        _("发放份数应在 %(min)d 至 %(max)d 份之间（已发出链接和录入纸质问卷共 %(used)d 份）。")
                        % {"min": max(used, 1), "max": AUDIENCE_MAX, "used": used}
                    ]
                }
            )
        campaign.audience_size = audience_size
        campaign.audience = audience if audience is not None else campaign.audience
        campaign.save(update_fields=["audience_size", "audience"])
    return campaign


def invitations_issue(*, actor: Staff, campaign_id: int, count: int | None, at: datetime | None = None) -> list[str]:
    """``count`` one-use links to answer online (returned once: only their hashes are kept)."""
    _require_runner(actor)
    now = happened_at(at)
    if count is None or not 1 <= count <= LINKS_AT_ONCE:
        raise ValidationFailed({"count": [_("一次可生成 1 至 %(max)d 个链接。") % {"max": LINKS_AT_ONCE}]})
    with transaction.atomic():
        campaign = _campaign(actor, campaign_id, lock=True)
        if campaign.status != CampaignStatus.OPEN:
            raise ApplicationError(_("调查已结束，不能再发放链接。"), code=SurveysError.CLOSED)
        _within_audience(campaign, count, "count")
        tokens = [new_token(18) for _i in range(count)]
        Invitation.objects.bulk_create(
            Invitation(campaign=campaign, token_hash=token_hash(t), issued_at=now) for t in tokens
        )
    base = settings.HUIYIN_PUBLIC_URL.rstrip("/")
    return [f"{base}/survey/{t}/" for t in tokens]


def _clean_answers(campaign: Campaign, answers: dict[str, str], opinion: str) -> tuple[dict[str, str], str]:
    """Every value on the scale or blank, only the campaign's areas, at least one answered."""
    labels = campaign.area_labels
    unknown = sorted(set(answers) - set(labels))
    if unknown:
        raise ValidationFailed({"answers": [_("问卷中没有调查项目“%(code)s”。") % {"code": unknown[0]}]})
    clean = {}
    for code, label in labels.items():
        value = (answers.get(code) or "").strip()
        if value and value not in Answer.values:
            raise ValidationFailed(
                {
                    f"area_{code}": [
                        _("“%(area)s”的回答只能是满意、基本满意或不满意（收到：%(value)s）。")
                        % {"area": label, "value": value[:20]}
                    ]
                }
            )
        if value:
            clean[code] = value
    opinion = clean_text(opinion).strip()
    if len(opinion) > OPINION_MAX:
        raise ValidationFailed(
            {"opinion": [_("意见和建议最多 %(max)d 字，当前 %(n)d 字。") % {"max": OPINION_MAX, "n": len(opinion)}]}
        )
    if not clean and not opinion:
        raise ValidationFailed({"answers": [_("问卷是空的：请至少回答一项或填写意见。")]})
    return clean, opinion


def _require_open(campaign: Campaign, on: date) -> None:
    if campaign.status != CampaignStatus.OPEN:
        raise ApplicationError(_("该调查已结束，不再收集问卷。"), code=SurveysError.CLOSED)
    if on < campaign.starts_on:
        raise ApplicationError(
            _("该调查 %(d)s 开始，尚未开放。") % {"d": campaign.starts_on}, code=SurveysError.NOT_STARTED
        )


def response_enter(
    *,
    actor: Staff,
    campaign_id: int,
    paper_number: str,
    answers: dict[str, str],
    opinion: str = "",
    at: datetime | None = None,
) -> SurveyResponse:
    """A paper questionnaire typed in by staff; its number makes a second entry a refusal.
    Papers collected by the deadline may be entered after it, while the campaign is open."""
    _require_runner(actor)
    now = happened_at(at)
    paper_number = checked_text(
        paper_number, "paper_number", missing=_("请填写问卷编号（纸质问卷上的编号）。"), limit=30
    )
    with transaction.atomic():
        campaign = _campaign(actor, campaign_id, lock=True)
        _require_open(campaign, timezone.localdate(now))
        clean, opinion = _clean_answers(campaign, answers, opinion)
        if SurveyResponse.objects.filter(campaign=campaign, paper_number=paper_number).exists():
            raise ValidationFailed(
                {"paper_number": [_("问卷编号 %(n)s 已经录入过，未重复计入。") % {"n": paper_number}]}
            )
        _within_audience(campaign, 1, "paper_number")
        try:
            with transaction.atomic():
                return SurveyResponse.objects.create(
                    campaign=campaign,
                    channel=ResponseChannel.PAPER,
                    paper_number=paper_number,
                    answers=clean,
                    opinion=opinion,
                    entered_by=actor,
                    submitted_at=now,
                )
        except IntegrityError as exc:  # entered at the same moment by someone else
            raise ValidationFailed(
                {"paper_number": [_("问卷编号 %(n)s 已经录入过，未重复计入。") % {"n": paper_number}]}
            ) from exc


def invitation_find(token: str, *, today: date | None = None) -> Invitation:
    invitation = Invitation.objects.select_related("campaign").filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise ApplicationError(_("问卷链接无效。"), code=SurveysError.LINK_UNKNOWN)
    if invitation.used_at is not None:
        raise ApplicationError(_("该问卷链接已经提交过，每个链接只能填写一次。"), code=SurveysError.LINK_USED)
    campaign = invitation.campaign
    today = today or timezone.localdate()
    if campaign.status != CampaignStatus.OPEN or today > campaign.ends_on:
        raise ApplicationError(
            _("该调查已于 %(d)s 截止，感谢您的关注。") % {"d": campaign.ends_on}, code=SurveysError.CLOSED
        )
    if today < campaign.starts_on:
        raise ApplicationError(
            _("该调查 %(d)s 开始，尚未开放。") % {"d": campaign.starts_on}, code=SurveysError.NOT_STARTED
        )
    return invitation


def response_submit(
    *, token: str, answers: dict[str, str], opinion: str = "", at: datetime | None = None
) -> SurveyResponse:
    """An owner's answers through their link: counted once, however often it is sent."""
    now = happened_at(at)
    today = timezone.localdate(now)
    with transaction.atomic():
        invitation = invitation_find(token, today=today)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation_find(token, today=today)  # again under the lock: a double submit counts once
        clean, opinion = _clean_answers(invitation.campaign, answers, opinion)
        invitation.used_at = now
        invitation.save(update_fields=["used_at"])
        return SurveyResponse.objects.create(
            campaign=invitation.campaign,
            channel=ResponseChannel.ONLINE,
            invitation=invitation,
            answers=clean,
            opinion=opinion,
            submitted_at=now,
        )


# --- rectification items (整改意见，责成有关部门限期解决) ---------------------------------------------


def item_add(
    *,
    actor: Staff,
    campaign_id: int,
    problem: str,
    department_id: int | None,
    due_on: date | None,
    area: str = "",
    measure: str = "",
    at: datetime | None = None,
) -> RectificationItem:
    now = happened_at(at)
    if not permissions.may_add_rectification_item(actor):
        raise PermissionDeniedError(_("整改意见由主任（领导）提出。"))
    errors: dict[str, list[str]] = {}
    problem = _gather(errors, problem, "problem", missing=_("请填写存在的问题。"), limit=2000)
    measure = _gather(errors, measure, "measure", limit=2000)
    department = Department.objects.filter(pk=department_id or 0, organization_id=actor.org_id).first()
    if department is None:
        errors["department"] = [_("请选择负责整改的部门。")]
    if due_on is None:
        errors["due_on"] = [_("请填写整改期限。")]
    elif message := day_error(due_on, When.DUE, _("整改期限"), today=timezone.localdate(now)):
        errors["due_on"] = [message]
    campaign = _campaign(actor, campaign_id)
    if area and area not in campaign.area_labels:
        errors["area"] = [_("请选择问卷中的调查项目。")]
    if errors:
        raise ValidationFailed(errors)
    assert department is not None and due_on is not None  # each missing one is an error
    item = RectificationItem.objects.create(
        campaign=campaign,
        area=area,
        problem=problem,
        measure=measure,
        department=department,
        due_on=due_on,
        created_by=actor,
        created_at=now,
    )

    desk_notify(
        recipients=Directory().dept_heads(actor.org_id, department.pk),
        case=None,
        key=f"survey-item:{item.pk}",
        text=reminders.SURVEY_ITEM(title=campaign.title, due=f"{due_on:%Y-%m-%d}", p=problem[:100]),
        at=now,
    )
    return item


def item_done(*, actor: Staff, item_id: int, note: str, at: datetime | None = None) -> RectificationItem:
    now = happened_at(at)
    note = checked_text(note, "note", missing=_("请填写整改情况。"), limit=2000)
    with transaction.atomic():
        item = (
            RectificationItem.objects.select_for_update()
            .filter(pk=item_id, campaign__organization_id=actor.org_id)
            .first()
        )
        if item is None:
            raise PermissionDeniedError()
        if not permissions.may_record_item_done(actor, item):
            raise PermissionDeniedError(_("只有负责整改的部门可以登记整改情况。"))
        ITEM_STATUSES.move(item, ItemStatus.DONE, message=_("该整改事项已完成。"), code=SurveysError.ITEM_DONE)
        item.done_by, item.done_at, item.done_note = actor, now, note
        item.save(update_fields=["status", "done_by", "done_at", "done_note"])
    return item


# --- engagement activities (F43) ---------------------------------------------------------------


def activity_plan(
    *,
    actor: Staff,
    kind: str,
    planned_on: date | None,
    place: str = "",
    led_by_id: int | None = None,
    at: datetime | None = None,
) -> Activity:
    _require_runner(actor)
    now = happened_at(at)
    policy = current_policy(actor.org_id)
    kinds = {k.code: k for k in (policy.preset().engagement if policy is not None else ())}
    errors: dict[str, list[str]] = {}
    if kind not in kinds:
        errors["kind"] = [_("请选择活动类型。")]
    if planned_on is None:
        errors["planned_on"] = [_("请填写计划日期。")]
    elif message := day_error(planned_on, When.PLANNED, _("计划日期")):
        errors["planned_on"] = [message]
    place = _gather(errors, place, "place", limit=120)
    leader = None
    if led_by_id:
        leader = Staff.objects.filter(pk=led_by_id, organization_id=actor.org_id, is_active=True).first()
        if leader is None:
            errors["led_by"] = [_("请选择本单位在职人员。")]
    if errors:
        raise ValidationFailed(errors)
    assert planned_on is not None  # a missing one is an error
    return Activity.objects.create(
        organization_id=actor.org_id,
        kind=kind,
        label=kinds[kind].label,
        planned_on=planned_on,
        place=place,
        led_by=leader,
        created_by=actor,
        created_at=now,
    )


def activity_record(
    *,
    actor: Staff,
    activity_id: int,
    held_on: date | None,
    attendance: int | None,
    attendees: str = "",
    minutes: str,
    expected_version: int | None = None,
) -> Activity:
    """The record of a held activity: date, attendance, who came, what was said."""
    _require_runner(actor)
    errors: dict[str, list[str]] = {}
    if held_on is None:
        errors["held_on"] = [_("请填写举行日期。")]
    elif message := day_error(held_on, When.PAST, _("举行日期")):
        errors["held_on"] = [message]
    if attendance is None or attendance < 1:
        errors["attendance"] = [_("请填写参加人数（至少 1 人）。")]
    minutes = _gather(errors, minutes, "minutes", missing=_("请填写活动记录（听取的意见和答复）。"), limit=MINUTES_MAX)
    attendees = _gather(errors, attendees, "attendees", limit=4000)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().filter(pk=activity_id, organization_id=actor.org_id).first()
        if activity is None:
            raise PermissionDeniedError()
        check_version(activity, expected_version, what=_("该活动的记录"))
        activity.held_on, activity.attendance, activity.attendees = held_on, attendance, attendees
        activity.minutes, activity.recorded_by = minutes, actor
        activity.version += 1
        activity.save()
    return activity


def activity_opinion_to_case(
    *,
    actor: Staff,
    activity_id: int,
    text: str,
    nature: str = "suggestion",
    name: str = "",
    phone: str = "",
    location: str = "",
    intake_token: str | None = None,
    at: datetime | None = None,
):
    """An opinion raised at a meeting or visit becomes a case in the ledger (channel 来访),
    linked to the activity; the case's own rules take it from there."""
    activity = Activity.objects.filter(pk=activity_id, organization_id=actor.org_id).first()
    if activity is None:
        raise PermissionDeniedError()
    if activity.held_on is None:
        raise ApplicationError(_("请先登记活动记录，再把意见转为案件。"), field="activity", code=SurveysError.NOT_HELD)
    prefix = _("【%(label)s %(date)s】") % {"label": activity.label, "date": activity.held_on}
    data = IntakeInput(
        channel="visit",
        nature=nature,
        title="",
        text=f"{prefix}{(text or '').strip()}" if (text or "").strip() else "",
        party=PartyInput(name=name.strip(), phone=phone.strip(), anonymous=not name.strip()),
        location=location,
        received_at=None,
        intake_token=intake_token or None,
    )
    with transaction.atomic():
        case, _code = case_services.case_register(actor=actor, data=data, at=at)
        ActivityOpinion.objects.create(activity=activity, case=case)
    return case
