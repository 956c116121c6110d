"""Every write of the front office (visitor log, F70) and of company guest reception (F71).

Each service checks the actor's permission (``permissions``), validates what it is given
(Chinese messages naming the field: nothing is half-saved), locks the row it changes, and
writes an append-only ``Record`` with who and when. Where history is recreated (the demo)
a service takes the moment a step happened as ``at``.

Concurrency: a form posts the ``version`` of the visitor or reception it was made for (of the
setup, a fingerprint of what it names); a stale one is refused (``core.versions``, a
``StaleObject``) instead of overwriting what someone else did. The
budget check of an expense runs with the reception row locked, so two expenses entered at
once cannot both spend the last of an item's budget. A badge is unique among the visitors
checked in (a partial unique index backs the check against two desks at once).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiyin.cases.validation import attachment_errors
from huiyin.core.errors import (
    ApplicationError,
    InvalidStatus,
    NotFound,
    PermissionDeniedError,
    ValidationFailed,
)
from huiyin.core.validators import (
    ANSWER_MAX,
    LINE_MAX,
    NOTE_MAX,
    When,
    checked_text,
    clean_text,
    day_error,
    happened_at,
    id_number_error,
    normalize_id_number,
    normalize_phone,
    phone_error,
)
from huiyin.core.versions import check_fingerprint, check_version
from huiyin.orgs.models import Department, Staff

from . import hooks, permissions
from .errors import FrontOfficeError
from .models import (
    OVERRUN_STATES,
    RECEPTION_STATES,
    REIMBURSEMENT_STATES,
    VISIT_STATES,
    Approval,
    Approver,
    Arrangement,
    BudgetItem,
    BudgetLine,
    Decision,
    Expense,
    FrontOfficeSetup,
    Guest,
    GuestReception,
    IdType,
    Overrun,
    OverrunStatus,
    Rating,
    ReceptionStatus,
    Record,
    RecordAction,
    Reimbursement,
    Visitor,
    VisitorFeedback,
    VisitOrigin,
    VisitStatus,
    approver_label,
)
from .money import ZERO, parse_money, yuan
from .rules import feedback_questions, front_office_rules, guest_rules, setup_fingerprint, setup_of

NAME_MAX = 60
BADGE_MAX = 20
GUESTS_MAX = 100
RECEPTION_DAYS_MAX = 30  # a reception lasting longer than a month is a typo in a date
RECEIPT_TYPES = ("pdf", "png", "jpg", "jpeg")  # a receipt is a scan or a photo: type checked by content
_OTHER_ID = re.compile(r"^[A-Z0-9-]{5,20}$")
_GUEST_SPLIT = re.compile(r"\s*[，,、|｜\t]\s*")
# What a stale form was about, in the refusal (core.versions.stale).
VISITOR = gettext_lazy("该访客登记")
RECEPTION = gettext_lazy("该接待申请")


def _record(
    organization_id: int,
    actor: Staff,
    action: str,
    at: datetime,
    *,
    visitor: Visitor | None = None,
    reception: GuestReception | None = None,
    **data: Any,
) -> Record:
    return Record.objects.create(
        organization_id=organization_id,
        actor=actor,
        action=action,
        at=at,
        visitor=visitor,
        reception=reception,
        data=data,
    )


def _gather(errors: dict[str, list[str]], value: str | None, field: str, **rules: Any) -> str:
    """``checked_text`` for one field of a form whose messages are shown together."""
    try:
        return checked_text(value, field, **rules)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return ""


def _staff_of(actor: Staff, staff_id: int | None, field: str, label: str) -> Staff | None:
    if staff_id is None:
        return None
    person = Staff.objects.filter(pk=staff_id, organization_id=actor.org_id, is_active=True).first()
    if person is None:
        raise ValidationFailed({field: [_("%(label)s不是本单位在职的工作人员。") % {"label": label}]})
    return person


def _local_day(at: datetime) -> date:
    return timezone.localtime(at).date()


# --- the visitor log --------------------------------------------------------------------------------


def _visitor_locked(actor: Staff, visitor_id: int) -> Visitor:
    visitor = Visitor.objects.select_for_update().filter(pk=visitor_id, organization_id=actor.org_id).first()
    if visitor is None:
        raise NotFound(_("找不到该访客登记。"))
    return visitor


def _visitor_fields(
    errors: dict[str, list[str]], *, name: str, affiliation: str, phone: str, purpose: str
) -> tuple[str, str, str, str]:
    name = _gather(errors, name, "name", missing=_("请填写访客姓名。"), limit=NAME_MAX, label=_("访客姓名"))
    affiliation = _gather(errors, affiliation, "affiliation", limit=120, label=_("单位"))
    purpose = _gather(errors, purpose, "purpose", missing=_("请填写来访事由。"), limit=LINE_MAX, label=_("来访事由"))
    phone = normalize_phone(clean_text(phone))
    message = phone_error(phone)
    if message:
        errors["phone"] = [message]
    return name, affiliation, phone, purpose


def visitor_expect(
    *,
    actor: Staff,
    expected_on: date | None,
    name: str,
    purpose: str,
    host_id: int | None = None,
    expected_time: time | None = None,
    affiliation: str = "",
    phone: str = "",
    origin: str = VisitOrigin.ANNOUNCED,
    at: datetime | None = None,
) -> Visitor:
    """A visitor expected on a day (预约确认), announced by their host — or by the front desk
    for a host (a call, an e-mail, another app's appointment: ``origin``). The host is the
    actor unless the front desk names another."""
    now = happened_at(at)
    if not permissions.may_use_visitor_log(actor):
        raise PermissionDeniedError()
    if host_id is not None and host_id != actor.pk and not permissions.may_announce_for_others(actor):
        raise PermissionDeniedError(_("只有前台接待人员可以替其他同事登记访客。"))
    errors: dict[str, list[str]] = {}
    name, affiliation, phone, purpose = _visitor_fields(
        errors, name=name, affiliation=affiliation, phone=phone, purpose=purpose
    )
    if expected_on is None:
        errors["expected_on"] = [_("请填写来访日期。")]
    elif message := day_error(expected_on, When.DUE, _("来访日期"), today=_local_day(now)):
        errors["expected_on"] = [message]
    if origin not in VisitOrigin.values or origin == VisitOrigin.WALK_IN:
        errors["origin"] = [_("来源无效。")]
    if errors:
        raise ValidationFailed(errors)
    host = _staff_of(actor, host_id, "host", _("被访人")) or actor
    assert expected_on is not None  # refused above otherwise
    with transaction.atomic():
        visitor = Visitor.objects.create(
            organization_id=actor.org_id,
            expected_on=expected_on,
            expected_time=expected_time,
            name=name,
            phone=phone,
            affiliation=affiliation,
            purpose=purpose,
            origin=origin,
            host=host,
            host_department_id=host.department_id,
            announced_by=actor,
            announced_at=now,
        )
        _record(
            actor.org_id,
            actor,
            RecordAction.VISITOR_EXPECTED,
            now,
            visitor=visitor,
            expected_on=expected_on.isoformat(),
            host_id=host.pk,
            origin=origin,
        )
    return visitor


@dataclass(frozen=True)
class CheckIn:
    """What the front desk records at arrival (迎接引导: 安全检查和登记手续; 访问陪同)."""

    id_type: str = ""
    id_number: str = ""
    badge: str = ""
    escort_id: int | None = None
    security_notes: str = ""


def _check_in_fields(actor: Staff, data: CheckIn) -> tuple[str, str, str, Staff | None, str]:
    errors: dict[str, list[str]] = {}
    rules = front_office_rules(actor.org_id)
    id_type = clean_text(data.id_type).strip()
    id_number = normalize_id_number(clean_text(data.id_number)).replace(" ", "")
    if id_type and id_type not in IdType.values:
        errors["id_type"] = [_("证件类型无效。")]
    elif rules.id_check and not id_type:
        errors["id_type"] = [_("请选择访客出示的证件类型（本单位要求到访时核实身份证件）。")]
    if rules.id_check and not id_number:
        errors["id_number"] = [_("请填写证件号码（本单位要求到访时核实身份证件）。")]
    elif id_number and not id_type and "id_type" not in errors:
        errors["id_type"] = [_("请选择证件类型。")]
    elif id_number and id_type == IdType.RESIDENT:
        if message := id_number_error(id_number):
            errors["id_number"] = [message]
    elif id_number and not _OTHER_ID.match(id_number):
        errors["id_number"] = [_("证件号码应为 5 至 20 位字母、数字或连字符。")]
    badge = _gather(errors, data.badge, "badge", limit=BADGE_MAX, label=_("访客证号"))
    notes = _gather(errors, data.security_notes, "security_notes", limit=NOTE_MAX, label=_("安全检查记录"))
    escort = None
    try:
        escort = _staff_of(actor, data.escort_id, "escort", _("陪同人员"))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return id_type, id_number, badge, escort, notes


def _badge_taken(organization_id: int, badge: str, visitor_id: int | None) -> None:
    if not badge:
        return
    others = Visitor.objects.filter(organization_id=organization_id, status=VisitStatus.IN, badge=badge)
    if visitor_id is not None:
        others = others.exclude(pk=visitor_id)
    if others.exists():
        raise _badge_error(badge)


def _badge_error(badge: str) -> ApplicationError:
    return ApplicationError(
        _("访客证“%(badge)s”正由另一位在访访客使用，请换一张。") % {"badge": badge},
        field="badge",
        code=FrontOfficeError.BADGE_IN_USE,
    )


def _save_checked_in(visitor: Visitor) -> None:
    """Save a visitor just checked in: a badge another desk handed out at the same moment
    is refused by the unique index, with the same message."""
    try:
        with transaction.atomic():
            visitor.save()
    except IntegrityError as exc:
        raise _badge_error(visitor.badge) from exc


def _check_in(visitor: Visitor, actor: Staff, data: CheckIn, now: datetime) -> None:
    id_type, id_number, badge, escort, notes = _check_in_fields(actor, data)
    _badge_taken(actor.org_id, badge, visitor.pk)
    VISIT_STATES.move(visitor, VisitStatus.IN)
    visitor.id_type, visitor.id_number, visitor.badge = id_type, id_number, badge
    visitor.escort, visitor.security_notes = escort or visitor.host, notes
    visitor.checked_in_at, visitor.checked_in_by = now, actor
    visitor.version += 1
    _save_checked_in(visitor)
    _record(
        actor.org_id,
        actor,
        RecordAction.VISITOR_CHECKED_IN,
        now,
        visitor=visitor,
        badge=badge,
        escort_id=visitor.escort_id,
        id_type=id_type,
    )
    hooks.after_check_in(visitor.pk)  # the host is told (huiyin.notifications), after commit


def visitor_check_in(
    *,
    actor: Staff,
    visitor_id: int,
    data: CheckIn,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Visitor:
    """An expected visitor arrives: identity document checked (an ID number by its check
    digit), badge, escort (the host unless someone else is named), security notes."""
    now = happened_at(at)
    with transaction.atomic():
        visitor = _visitor_locked(actor, visitor_id)
        if not permissions.may_check_in(actor, visitor):
            raise PermissionDeniedError(_("只有前台接待人员可以办理到访登记。"))
        check_version(visitor, expected_version, what=VISITOR)
        VISIT_STATES.check(visitor, VisitStatus.IN)
        if visitor.expected_on != _local_day(now):
            raise ApplicationError(
                _("该访客预约的来访日期是 %(day)s，不是今天：请按临时来访登记。")
                % {"day": visitor.expected_on.isoformat()},
                field="expected_on",
            )
        _check_in(visitor, actor, data, now)
    return visitor


def visitor_walk_in(
    *,
    actor: Staff,
    host_id: int | None,
    name: str,
    purpose: str,
    data: CheckIn,
    affiliation: str = "",
    phone: str = "",
    at: datetime | None = None,
) -> Visitor:
    """A visitor nobody announced, registered and checked in at the desk at once."""
    now = happened_at(at)
    if not permissions.is_front_desk(actor):
        raise PermissionDeniedError(_("只有前台接待人员可以办理到访登记。"))
    errors: dict[str, list[str]] = {}
    name, affiliation, phone, purpose = _visitor_fields(
        errors, name=name, affiliation=affiliation, phone=phone, purpose=purpose
    )
    if host_id is None:
        errors["host"] = [_("请选择被访人。")]
    try:
        _check_in_fields(actor, data)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    host = _staff_of(actor, host_id, "host", _("被访人"))
    assert host is not None
    with transaction.atomic():
        visitor = Visitor(
            organization_id=actor.org_id,
            expected_on=_local_day(now),
            expected_time=timezone.localtime(now).time().replace(second=0, microsecond=0),
            name=name,
            phone=phone,
            affiliation=affiliation,
            purpose=purpose,
            origin=VisitOrigin.WALK_IN,
            host=host,
            host_department_id=host.department_id,
            announced_by=actor,
            announced_at=now,
        )
        visitor.save()
        _record(
            actor.org_id,
            actor,
            RecordAction.VISITOR_EXPECTED,
            now,
            visitor=visitor,
            expected_on=visitor.expected_on.isoformat(),
            host_id=host.pk,
            origin=VisitOrigin.WALK_IN,
        )
        _check_in(visitor, actor, data, now)
    return visitor


def visitor_check_out(
    *, actor: Staff, visitor_id: int, expected_version: int | None = None, at: datetime | None = None
) -> Visitor:
    now = happened_at(at)
    with transaction.atomic():
        visitor = _visitor_locked(actor, visitor_id)
        if not permissions.may_check_in(actor, visitor):
            raise PermissionDeniedError(_("只有前台接待人员可以办理离开登记。"))
        check_version(visitor, expected_version, what=VISITOR)
        VISIT_STATES.move(visitor, VisitStatus.OUT)
        if visitor.checked_in_at is not None and now < visitor.checked_in_at:
            raise ValidationFailed({"at": [_("离开时间不能早于到达时间。")]})
        visitor.checked_out_at, visitor.checked_out_by = now, actor
        visitor.version += 1
        visitor.save()
        _record(actor.org_id, actor, RecordAction.VISITOR_CHECKED_OUT, now, visitor=visitor, badge=visitor.badge)
    return visitor


def visitor_cancel(
    *,
    actor: Staff,
    visitor_id: int,
    reason: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Visitor:
    now = happened_at(at)
    reason = checked_text(reason, "reason", limit=NOTE_MAX, label=_("取消原因"))
    with transaction.atomic():
        visitor = _visitor_locked(actor, visitor_id)
        if not permissions.may_cancel_visit(actor, visitor):
            raise PermissionDeniedError()
        check_version(visitor, expected_version, what=VISITOR)
        VISIT_STATES.move(visitor, VisitStatus.CANCELLED)
        visitor.version += 1
        visitor.save()
        _record(actor.org_id, actor, RecordAction.VISITOR_CANCELLED, now, visitor=visitor, reason=reason)
    return visitor


def visitor_feedback_record(
    *,
    actor: Staff,
    visitor_id: int,
    overall: str,
    answers: Sequence[str] = (),
    comment: str = "",
    at: datetime | None = None,
) -> VisitorFeedback:
    """The feedback form handed to the visitor at the end (访问结束时提供反馈表), as they
    filled it in: the overall answer (counted by the satisfaction figures), an answer to
    each question of the form (``answers[i]`` for question i; blank: not answered), a
    comment. Once per visit, after check-out."""
    now = happened_at(at)
    questions = feedback_questions(actor.org_id)
    errors: dict[str, list[str]] = {}
    if overall not in Rating.values:
        errors["overall"] = [_("请选择访客的总体评价（满意、基本满意或不满意）。")]
    given = list(answers)
    if len(given) > len(questions):
        errors["answers"] = [_("反馈表的题目与本单位的反馈表不一致，请刷新页面后重新录入。")]
    rows = []
    for i, question in enumerate(questions):
        rating = clean_text(given[i]).strip() if i < len(given) else ""
        if rating and rating not in Rating.values:
            errors[f"q{i + 1}"] = [_("第 %(n)d 题的评价无效。") % {"n": i + 1}]
        elif rating:
            rows.append({"question": question, "rating": rating})
    comment = _gather(errors, comment, "comment", limit=NOTE_MAX, label=_("意见和建议"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        visitor = _visitor_locked(actor, visitor_id)
        if not permissions.may_check_in(actor, visitor):
            raise PermissionDeniedError(_("只有前台接待人员可以录入访客反馈表。"))
        if visitor.status != VisitStatus.OUT:
            raise ApplicationError(_("访客离开时才填写反馈表：请先办理离开登记。"), field="overall")
        if VisitorFeedback.objects.filter(visitor=visitor).exists():
            raise ApplicationError(_("这位访客的反馈表已经录入。"), field="overall")
        feedback = VisitorFeedback.objects.create(
            visitor=visitor, overall=overall, answers=rows, comment=comment, entered_by=actor, entered_at=now
        )
        visitor.version += 1
        visitor.save(update_fields=["version"])
        _record(actor.org_id, actor, RecordAction.VISITOR_FEEDBACK, now, visitor=visitor, overall=overall)
    return feedback


def visitor_reveal(*, actor: Staff, visitor_id: int) -> dict[str, str]:
    """A visitor's full name, phone and document number: for the front desk with the
    personal-data right, always logged (like ``cases.services.party_reveal``)."""
    now = timezone.now()
    with transaction.atomic():
        visitor = _visitor_locked(actor, visitor_id)
        if not permissions.may_reveal_visitor(actor, visitor):
            raise PermissionDeniedError(_("您没有查看完整个人信息的权限。"))
        _record(actor.org_id, actor, RecordAction.VISITOR_VIEWED, now, visitor=visitor)
    return {"name": visitor.name, "phone": visitor.phone, "id_number": visitor.id_number}


# --- the setup ---------------------------------------------------------------------------------------


def setup_save(
    *,
    actor: Staff,
    office_department_id: int | None,
    finance_department_id: int | None,
    expected_version: str | None = None,
) -> FrontOfficeSetup:
    """Name the administrative office and the finance department (the administrator).
    ``expected_version``: ``rules.setup_fingerprint`` of the setup the page showed; another
    administrator's save since then is refused (``StaleObject``), never overwritten."""
    if not permissions.may_set_up(actor):
        raise PermissionDeniedError()
    chosen: dict[str, Department | None] = {}
    wanted = (("office_department", office_department_id), ("finance_department", finance_department_id))
    for field, department_id in wanted:
        if department_id is None:
            chosen[field] = None
            continue
        department = Department.objects.filter(pk=department_id, organization_id=actor.org_id).first()
        if department is None:
            raise ValidationFailed({field: [_("所选部门不存在或不属于本单位。")]})
        chosen[field] = department
    now = timezone.now()
    with transaction.atomic():
        row, _created = FrontOfficeSetup.objects.select_for_update().get_or_create(organization_id=actor.org_id)
        check_fingerprint(setup_fingerprint(setup_of(actor.org_id)), expected_version, what=_("本单位的接待设置"))
        before = {"office": row.office_department_id, "finance": row.finance_department_id}
        row.office_department = chosen["office_department"]
        row.finance_department = chosen["finance_department"]
        row.updated_at, row.updated_by = now, actor
        row.save()
        _record(
            actor.org_id,
            actor,
            RecordAction.SETUP_CHANGED,
            now,
            before=before,
            after={"office": row.office_department_id, "finance": row.finance_department_id},
        )
    return row


# --- guest reception: the request and its approval -----------------------------------------------


def _reception_locked(actor: Staff, reception_id: int) -> GuestReception:
    reception = GuestReception.objects.select_for_update().filter(pk=reception_id, organization_id=actor.org_id).first()
    if reception is None:
        raise NotFound(_("找不到该接待申请。"))
    return reception


def parse_guests(text: str | Sequence[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The guests, one a line: 姓名，单位，职务 (separated by ，,、| or a tab; the title may
    be left out). Refused, naming the field and the line, when a line lacks a name or an
    organisation or a part is too long."""
    if isinstance(text, str):
        lines = [line for line in clean_text(text).splitlines() if line.strip()]
        rows = [tuple((_GUEST_SPLIT.split(line.strip()) + ["", ""])[:3]) for line in lines]
        extra = [i for i, line in enumerate(lines, 1) if len(_GUEST_SPLIT.split(line.strip())) > 3]
    else:
        rows = [tuple(clean_text(part).strip() for part in row) for row in text]
        extra = []
    errors: list[str] = []
    if not rows:
        errors.append(_("请填写来宾：每行一位，格式为“姓名，单位，职务”。"))
    if len(rows) > GUESTS_MAX:
        errors.append(_("来宾最多 %(n)d 位。") % {"n": GUESTS_MAX})
    guests = []
    for n, (name, org, title) in enumerate(rows, 1):
        name, org, title = name.strip(), org.strip(), title.strip()
        if n in extra:
            errors.append(_("第 %(n)d 行分隔符过多：格式为“姓名，单位，职务”。") % {"n": n})
        elif not name or not org:
            errors.append(_("第 %(n)d 行缺少来宾姓名或单位：格式为“姓名，单位，职务”。") % {"n": n})
        elif len(name) > NAME_MAX or len(org) > 120 or len(title) > 60:
            errors.append(_("第 %(n)d 行过长：姓名最多 60 字，单位 120 字，职务 60 字。") % {"n": n})
        else:
            guests.append((name, org, title))
    if errors:
        raise ValidationFailed({"guests": errors[:5]})
    return guests


def _budget(raw: Mapping[str, Any]) -> dict[str, Decimal]:
    errors: dict[str, list[str]] = {}
    amounts: dict[str, Decimal] = {}
    unknown = set(raw) - set(BudgetItem.values)
    if unknown:
        raise ValueError(f"unknown budget items: {sorted(unknown)}")
    for item in BudgetItem:
        field = f"budget_{item.value}"
        try:
            label = _("%(item)s预算") % {"item": item.label}
            amounts[item.value] = parse_money(raw.get(item.value), field, label, required=False) or ZERO
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return amounts


def _reception_dates(starts_on: date | None, ends_on: date | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if starts_on is None:
        errors["starts_on"] = [_("请填写接待开始日期。")]
    elif message := day_error(starts_on, When.PLANNED, _("开始日期")):
        errors["starts_on"] = [message]
    if ends_on is None:
        errors["ends_on"] = [_("请填写接待结束日期。")]
    elif message := day_error(ends_on, When.PLANNED, _("结束日期")):
        errors["ends_on"] = [message]
    if not errors and starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            errors["ends_on"] = [_("结束日期不能早于开始日期。")]
        elif (ends_on - starts_on).days + 1 > RECEPTION_DAYS_MAX:
            errors["ends_on"] = [_("一次接待最长 %(n)d 天，请核对日期。") % {"n": RECEPTION_DAYS_MAX}]
    return errors


def _needs_office(approvers: Sequence[str]) -> bool:
    return Approver.OFFICE_HEAD in approvers


DEFAULT_ARRANGEMENTS = (
    (BudgetItem.ROOM, _("落实接待场所（会议室、接待室）")),
    (BudgetItem.TRANSPORT, _("安排交通工具")),
    (BudgetItem.MEALS, _("安排餐饮服务")),
    (BudgetItem.ACCOMMODATION, _("预订住宿")),
    (BudgetItem.GIFTS, _("准备礼品")),
)


def reception_request(
    *,
    actor: Staff,
    purpose: str,
    guests: str | Sequence[tuple[str, str, str]],
    starts_on: date | None,
    ends_on: date | None,
    expected_outcome: str,
    budget: Mapping[str, Any],
    hosting_department_id: int | None = None,
    at: datetime | None = None,
) -> GuestReception:
    """接待申请: purpose, guests and their organisations, dates, hosting department (the
    requester's own; the front desk and leaders may name another), expected outcome and the
    budget asked for by item. It goes to the approval chain of the running preset (Huiyin's
    default without one: ``rules.DEFAULT_GUEST_RECEPTION``), kept on the request."""
    now = happened_at(at)
    if not permissions.may_request(actor) and not (
        permissions.is_front_desk(actor) and hosting_department_id is not None
    ):
        raise PermissionDeniedError(_("接待申请由接待部门提出：您的账号不属于任何部门。"))
    rules = guest_rules(actor.org_id)
    setup = setup_of(actor.org_id)
    if _needs_office((*rules.chain, rules.overrun_approver)) and setup.office_department_id is None:
        raise ApplicationError(
            _("审批流程需要行政部门审核，但本单位尚未指定行政部门：请系统管理员在“接待设置”中指定。"),
            code=FrontOfficeError.NOT_CONFIGURED,
        )
    errors: dict[str, list[str]] = {}
    purpose = _gather(errors, purpose, "purpose", missing=_("请填写接待事由。"), limit=LINE_MAX, label=_("接待事由"))
    outcome = _gather(
        errors, expected_outcome, "expected_outcome", missing=_("请填写预期成果。"), limit=NOTE_MAX, label=_("预期成果")
    )
    errors.update(_reception_dates(starts_on, ends_on))
    guest_rows: list[tuple[str, str, str]] = []
    amounts: dict[str, Decimal] = {}
    try:
        guest_rows = parse_guests(guests)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        amounts = _budget(budget)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    department_id = hosting_department_id or actor.department_id or 0
    if department_id != actor.department_id and not permissions.is_front_desk(actor):
        errors["hosting_department"] = [_("接待申请由本部门提出：只有领导和前台可以替其他部门申请。")]
    elif not Department.objects.filter(pk=department_id, organization_id=actor.org_id).exists():
        errors["hosting_department"] = [_("所选部门不存在或不属于本单位。")]
    if errors:
        raise ValidationFailed(errors)
    assert starts_on is not None and ends_on is not None
    with transaction.atomic():
        reception = GuestReception.objects.create(
            organization_id=actor.org_id,
            purpose=purpose,
            starts_on=starts_on,
            ends_on=ends_on,
            hosting_department_id=department_id,
            expected_outcome=outcome,
            requested_by=actor,
            requested_at=now,
            chain=list(rules.chain),
            overrun_approver=rules.overrun_approver,
            receipt_required=rules.receipt_required,
        )
        Guest.objects.bulk_create(
            Guest(reception=reception, name=name, organization_name=org, title=title, position=i)
            for i, (name, org, title) in enumerate(guest_rows)
        )
        BudgetLine.objects.bulk_create(
            BudgetLine(reception=reception, item=item, requested=amount) for item, amount in amounts.items()
        )
        _record(
            actor.org_id,
            actor,
            RecordAction.REQUESTED,
            now,
            reception=reception,
            budget={item: str(amount) for item, amount in amounts.items()},
            chain=list(rules.chain),
        )
    return reception


def reception_decide(
    *,
    actor: Staff,
    reception_id: int,
    decision: str,
    opinion: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> GuestReception:
    """One step of the approval chain, in order: only the approver due now signs (the
    hosting department's head, the administrative office's head, a leader — never the
    requester). The last signature approves the budget as requested; a refusal (with its
    reason) ends the request."""
    now = happened_at(at)
    if decision not in Decision.values:
        raise ValidationFailed({"decision": [_("请选择同意或不同意。")]})
    opinion = checked_text(
        opinion,
        "opinion",
        missing=_("不同意时请写明理由。") if decision == Decision.REFUSED else None,
        limit=NOTE_MAX,
        label=_("审批意见"),
    )
    with transaction.atomic():
        reception = _reception_locked(actor, reception_id)
        setup = setup_of(actor.org_id)
        check_version(reception, expected_version, what=RECEPTION)
        RECEPTION_STATES.check(reception, ReceptionStatus.APPROVED)
        due = reception.due_approver
        if not permissions.holds(actor, due, reception, setup):
            if actor.pk == reception.requested_by_id:
                message = _("申请人不能审批自己的接待申请。")
            else:
                message = _("现在应由%(who)s审批（第 %(n)d 步，共 %(total)d 步），不是您。") % {
                    "who": approver_label(due),
                    "n": reception.signed_steps + 1,
                    "total": len(reception.chain),
                }
            raise PermissionDeniedError(message)
        if now < reception.requested_at:
            raise ValidationFailed({"at": [_("审批时间不能早于申请时间。")]})
        step = reception.signed_steps + 1
        Approval.objects.create(
            reception=reception, step=step, approver=due, decision=decision, actor=actor, at=now, opinion=opinion
        )
        if decision == Decision.REFUSED:
            RECEPTION_STATES.move(reception, ReceptionStatus.REFUSED)
        else:
            reception.signed_steps = step
            if step == len(reception.chain):
                RECEPTION_STATES.move(reception, ReceptionStatus.APPROVED)
                reception.approved_at = now
                _approve_budget(reception)
        reception.version += 1
        reception.save()
        _record(
            actor.org_id,
            actor,
            RecordAction.APPROVED if decision == Decision.APPROVED else RecordAction.REFUSED,
            now,
            reception=reception,
            step=step,
            approver=due,
            opinion=opinion,
        )
    return reception


def _approve_budget(reception: GuestReception) -> None:
    lines = list(BudgetLine.objects.filter(reception=reception))
    for line in lines:
        line.approved = line.requested
    BudgetLine.objects.bulk_update(lines, ["approved"])
    asked = {line.item for line in lines if line.requested > 0}
    Arrangement.objects.bulk_create(
        Arrangement(reception=reception, label=str(label), position=i)
        for i, (item, label) in enumerate(DEFAULT_ARRANGEMENTS)
        if item in asked
    )
    Arrangement.objects.create(
        reception=reception, label=str(_("安排陪同人员，确定日程")), position=len(DEFAULT_ARRANGEMENTS)
    )


def reception_cancel(
    *,
    actor: Staff,
    reception_id: int,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> GuestReception:
    """Called off before anything was spent (with the reason)."""
    now = happened_at(at)
    reason = checked_text(reason, "reason", missing=_("请写明取消原因。"), limit=NOTE_MAX, label=_("取消原因"))
    with transaction.atomic():
        reception = _reception_locked(actor, reception_id)
        if not permissions.may_cancel_reception(actor, reception, setup_of(actor.org_id)):
            raise PermissionDeniedError()
        check_version(reception, expected_version, what=RECEPTION)
        RECEPTION_STATES.check(reception, ReceptionStatus.CANCELLED)
        if Expense.objects.filter(reception=reception).exists():
            raise ApplicationError(_("已有费用支出的接待不能取消：请写接待总结并报销。"), field="reason")
        RECEPTION_STATES.move(reception, ReceptionStatus.CANCELLED)
        reception.version += 1
        reception.save()
        _record(actor.org_id, actor, RecordAction.CANCELLED, now, reception=reception, reason=reason)
    return reception


# --- arrangements, expenses, more budget -------------------------------------------------------------


def _spending_open(reception: GuestReception, field: str) -> None:
    if reception.status not in (ReceptionStatus.APPROVED, ReceptionStatus.CLOSED):
        raise InvalidStatus(
            what=str(GuestReception._meta.verbose_name),
            src=str(ReceptionStatus(reception.status).label),
            dst=str(ReceptionStatus.APPROVED.label),
            message=_("接待申请批准后才能安排和支出（当前：%(status)s）。")
            % {"status": ReceptionStatus(reception.status).label},
        )
    if reception.reimbursement in (Reimbursement.SUBMITTED, Reimbursement.REIMBURSED):
        raise ApplicationError(
            _("费用已提交报销（%(status)s），不能再增加。") % {"status": Reimbursement(reception.reimbursement).label},
            field=field,
        )


def arrangement_add(*, actor: Staff, reception_id: int, label: str, at: datetime | None = None) -> Arrangement:
    now = happened_at(at)
    label = checked_text(label, "label", missing=_("请填写安排事项。"), limit=120, label=_("安排事项"))
    with transaction.atomic():
        reception = _reception_locked(actor, reception_id)
        if not permissions.may_arrange(actor, reception, setup_of(actor.org_id)):
            raise PermissionDeniedError()
        if reception.status != ReceptionStatus.APPROVED:
            raise ApplicationError(_("接待申请批准后、总结之前才能增加安排事项。"), field="label")
        position = Arrangement.objects.filter(reception=reception).count()
        row = Arrangement.objects.create(reception=reception, label=label, position=position)
        _record(actor.org_id, actor, RecordAction.ARRANGEMENT_ADDED, now, reception=reception, label=label)
    return row


def arrangement_done(*, actor: Staff, arrangement_id: int, note: str = "", at: datetime | None = None) -> Arrangement:
    """Tick one line of the checklist; the first to tick it is recorded (a second is told who)."""
    now = happened_at(at)
    note = checked_text(note, "note", limit=200, label=_("说明"))
    row = (
        Arrangement.objects.select_related("reception")
        .filter(pk=arrangement_id, reception__organization_id=actor.org_id)
        .first()
    )
    if row is None:
        raise NotFound(_("找不到该安排事项。"))
    with transaction.atomic():
        reception = _reception_locked(actor, row.reception_id)
        if not permissions.may_arrange(actor, reception, setup_of(actor.org_id)):
            raise PermissionDeniedError()
        if reception.status not in (ReceptionStatus.APPROVED, ReceptionStatus.CLOSED):
            raise ApplicationError(_("接待申请批准后才能落实安排事项。"), field="note")
        done = Arrangement.objects.filter(pk=row.pk, done=False).update(
            done=True, done_by=actor, done_at=now, note=note
        )
        row.refresh_from_db()
        if not done:
            raise ApplicationError(
                _("该事项已由 %(who)s 于 %(at)s 标记完成。")
                % {"who": row.done_by, "at": timezone.localtime(row.done_at).strftime("%Y-%m-%d %H:%M")},
                field="note",
            )
        _record(actor.org_id, actor, RecordAction.ARRANGEMENT_DONE, now, reception=reception, label=row.label)
    return row


@dataclass(frozen=True)
class ItemBudget:
    """One item's money as of a day: approved at the request's approval, increased by the
    increases approved on or before that day, spent so far."""

    item: str
    requested: Decimal
    approved: Decimal
    increases: Decimal
    spent: Decimal

    @property
    def available(self) -> Decimal:
        return self.approved + self.increases

    @property
    def remaining(self) -> Decimal:
        return self.available - self.spent


def item_budget(reception: GuestReception, item: str, *, on: date | None = None) -> ItemBudget:
    line = BudgetLine.objects.filter(reception=reception, item=item).first()
    increases = Overrun.objects.filter(reception=reception, item=item, status=OverrunStatus.APPROVED)
    if on is not None:
        # An increase covers money spent on or after the day it was approved (提前报批), not before.
        next_day = timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min))
        increases = increases.filter(decided_at__lt=next_day)
    spent = Expense.objects.filter(reception=reception, item=item).aggregate(s=Sum("amount"))["s"] or ZERO
    return ItemBudget(
        item=item,
        requested=line.requested if line else ZERO,
        approved=(line.approved or ZERO) if line else ZERO,
        increases=increases.aggregate(s=Sum("amount"))["s"] or ZERO,
        spent=spent,
    )


def _item(item: str, field: str = "item") -> str:
    if item not in BudgetItem.values:
        raise ValidationFailed({field: [_("请选择费用项目（场地、交通、餐饮、住宿、礼品）。")]})
    return item


def overrun_request(
    *, actor: Staff, reception_id: int, item: str, amount: Any, reason: str, at: datetime | None = None
) -> Overrun:
    """超预算报批: more money for an item, asked for before it is spent."""
    now = happened_at(at)
    errors: dict[str, list[str]] = {}
    value = None
    try:
        _item(item)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        value = parse_money(amount, "amount", _("追加金额"))
        if value is not None and value <= 0:
            errors["amount"] = [_("追加金额应大于 0。")]
    except ValidationFailed as exc:
        errors.update(exc.errors)
    reason = _gather(errors, reason, "reason", missing=_("请写明超出预算的理由。"), limit=NOTE_MAX, label=_("理由"))
    if errors:
        raise ValidationFailed(errors)
    assert value is not None
    with transaction.atomic():
        reception = _reception_locked(actor, reception_id)
        if not permissions.may_spend(actor, reception, setup_of(actor.org_id)):
            raise PermissionDeniedError()
        _spending_open(reception, "amount")
        if Overrun.objects.filter(reception=reception, item=item, status=OverrunStatus.PENDING).exists():
            raise ApplicationError(_("该项目已有一笔超预算报批待审批，请等待审批结果。"), field="item")
        overrun = Overrun.objects.create(
            reception=reception, item=item, amount=value, reason=reason, requested_by=actor, requested_at=now
        )
        _record(
            actor.org_id, actor, RecordAction.OVERRUN_REQUESTED, now, reception=reception, item=item, amount=str(value)
        )
    return overrun


def overrun_decide(
    *, actor: Staff, overrun_id: int, decision: str, opinion: str = "", at: datetime | None = None
) -> Overrun:
    now = happened_at(at)
    if decision not in Decision.values:
        raise ValidationFailed({"decision": [_("请选择同意或不同意。")]})
    opinion = checked_text(
        opinion,
        "opinion",
        missing=_("不同意时请写明理由。") if decision == Decision.REFUSED else None,
        limit=NOTE_MAX,
        label=_("审批意见"),
    )
    found = Overrun.objects.filter(pk=overrun_id, reception__organization_id=actor.org_id).first()
    if found is None:
        raise NotFound(_("找不到该超预算报批。"))
    with transaction.atomic():
        reception = _reception_locked(actor, found.reception_id)
        overrun = Overrun.objects.get(pk=found.pk)
        if not permissions.may_decide_overrun(actor, reception, setup_of(actor.org_id)):
            if actor.pk == reception.requested_by_id:
                raise PermissionDeniedError(_("申请人不能审批自己接待的超预算报批。"))
            raise PermissionDeniedError(
                _("超预算报批由%(who)s审批。") % {"who": approver_label(reception.overrun_approver)}
            )
        OVERRUN_STATES.move(overrun, OverrunStatus.APPROVED if decision == Decision.APPROVED else OverrunStatus.REFUSED)
        overrun.decided_by, overrun.decided_at, overrun.opinion = actor, now, opinion
        overrun.save()
        _record(
            actor.org_id,
            actor,
            RecordAction.OVERRUN_APPROVED if decision == Decision.APPROVED else RecordAction.OVERRUN_REFUSED,
            now,
            reception=reception,
            item=overrun.item,
            amount=str(overrun.amount),
            opinion=opinion,
        )
    return overrun


def _receipt_errors(receipt: UploadedFile) -> list[str]:
    errors = attachment_errors(receipt).get("attachment", [])
    extension = (receipt.name or "").rsplit(".", 1)[-1].lower() if "." in (receipt.name or "") else ""
    if not errors and extension not in RECEIPT_TYPES:
        errors = [
            _("票据“%(name)s”的类型不允许：请上传票据的扫描件或照片（%(types)s）。")
            % {"name": receipt.name, "types": "、".join(RECEIPT_TYPES)}
        ]
    return errors


def expense_record(
    *,
    actor: Staff,
    reception_id: int,
    item: str,
    amount: Any,
    spent_on: date | None,
    description: str,
    receipt: UploadedFile | None = None,
    at: datetime | None = None,
) -> Expense:
    """An expense with its receipt, against the approved budget: refused, naming the amount,
    when it would take the item beyond what was approved plus the increases approved on or
    before the day it was spent (超出预算需提前报批); refused, naming the receipt, without one
    where the reception's rules require it; never dated before the approval."""
    now = happened_at(at)
    errors: dict[str, list[str]] = {}
    try:
        _item(item)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    value = None
    try:
        value = parse_money(amount, "amount", _("金额"))
        if value is not None and value <= 0:
            errors["amount"] = [_("金额应大于 0。")]
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if spent_on is None:
        errors["spent_on"] = [_("请填写支出日期。")]
    elif message := day_error(spent_on, When.PAST, _("支出日期"), today=_local_day(now)):
        errors["spent_on"] = [message]
    description = _gather(
        errors, description, "description", missing=_("请填写费用说明。"), limit=LINE_MAX, label=_("费用说明")
    )
    if receipt is not None and (problems := _receipt_errors(receipt)):
        errors["receipt"] = problems
    if errors:
        raise ValidationFailed(errors)
    assert value is not None and spent_on is not None
    with transaction.atomic():
        reception = _reception_locked(actor, reception_id)
        if not permissions.may_spend(actor, reception, setup_of(actor.org_id)):
            raise PermissionDeniedError()
        _spending_open(reception, "amount")
        if receipt is None and reception.receipt_required:
            raise ApplicationError(
                _("请附上这笔费用的票据（发票、清单等凭证）：本单位规定报销须凭合法票据。"),
                field="receipt",
                code=FrontOfficeError.RECEIPT_REQUIRED,
            )
        if reception.approved_at is not None and spent_on < _local_day(reception.approved_at):
            raise ValidationFailed(
                {
                    "spent_on": [
                        _("支出日期不能早于接待申请批准的日期（%(day)s）：接待费用须在批准后支出。")
                        % {"day": _local_day(reception.approved_at).isoformat()}
                    ]
                }
            )
        budget = item_budget(reception, item, on=spent_on)
        if budget.spent + value > budget.available:
            raise ApplicationError(
                _(
                    "金额超出“%(item)s”的批准预算：已批准 %(available)s（含已批准的超预算报批），已支出 %(spent)s，"
                    "本笔 %(amount)s 将超出 %(over)s。超出预算须先提交超预算报批，获批准后再支出。"
                )
                % {
                    "item": BudgetItem(item).label,
                    "available": yuan(budget.available),
                    "spent": yuan(budget.spent),
                    "amount": yuan(value),
                    "over": yuan(budget.spent + value - budget.available),
                },
                field="amount",
                code=FrontOfficeError.OVER_BUDGET,
            )
        expense = Expense(
            reception=reception,
            item=item,
            amount=value,
            spent_on=spent_on,
            description=description,
            recorded_by=actor,
            recorded_at=now,
        )
        stored = False
        try:
            if receipt is not None:
                expense.receipt_name = (receipt.name or "")[:255]
                expense.receipt_size = receipt.size
                expense.receipt.save(receipt.name or "receipt", receipt, save=False)
                stored = True
            expense.save()
            _record(
                actor.org_id,
                actor,
                RecordAction.EXPENSE_RECORDED,
                now,
                reception=reception,
                item=item,
                amount=str(value),
                expense_id=expense.pk,
            )
        except BaseException:
            if stored:
                expense.receipt.delete(save=False)
            raise
    return expense


# --- closing and reimbursement ------------------------------------------------------------------------


def reception_close(
    *,
    actor: Staff,
    reception_id: int,
    summary: str,
    feedback: str = "",
    feedback_comment: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> GuestReception:
    """接待总结: what came of it, and the guests' feedback (满意 / 基本满意 / 不满意, blank
    when none was collected) with their comments."""
    now = happened_at(at)
    errors: dict[str, list[str]] = {}
    summary = _gather(errors, summary, "summary", missing=_("请填写接待总结。"), limit=ANSWER_MAX, label=_("接待总结"))
    if feedback and feedback not in Rating.values:
        errors["feedback"] = [_("来宾反馈无效。")]
    comment = _gather(errors, feedback_comment, "feedback_comment", limit=NOTE_MAX, label=_("反馈意见"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        reception = _reception_locked(actor, reception_id)
        if not permissions.may_close(actor, reception, setup_of(actor.org_id)):
            raise PermissionDeniedError()
        check_version(reception, expected_version, what=RECEPTION)
        RECEPTION_STATES.check(reception, ReceptionStatus.CLOSED)
        if _local_day(now) < reception.starts_on:
            raise ApplicationError(
                _("接待 %(day)s 才开始，结束后再写总结。") % {"day": reception.starts_on.isoformat()}, field="summary"
            )
        RECEPTION_STATES.move(reception, ReceptionStatus.CLOSED)
        reception.summary, reception.feedback, reception.feedback_comment = summary, feedback, comment
        reception.closed_at, reception.closed_by = now, actor
        reception.version += 1
        reception.save()
        _record(actor.org_id, actor, RecordAction.CLOSED, now, reception=reception, feedback=feedback)
    return reception


def reimbursement_submit(
    *, actor: Staff, reception_id: int, expected_version: int | None = None, at: datetime | None = None
) -> GuestReception:
    """接待结束后提交费用明细及合法票据: after the summary, with at least one expense."""
    now = happened_at(at)
    with transaction.atomic():
        reception = _reception_locked(actor, reception_id)
        if not permissions.may_submit_reimbursement(actor, reception, setup_of(actor.org_id)):
            raise PermissionDeniedError()
        check_version(reception, expected_version, what=RECEPTION)
        if reception.status != ReceptionStatus.CLOSED:
            raise ApplicationError(_("请先写接待总结，再提交报销。"), field="reimbursement")
        expenses = Expense.objects.filter(reception=reception)
        if not expenses.exists():
            raise ApplicationError(_("这次接待没有登记费用，无需报销。"), field="reimbursement")
        if reception.receipt_required and expenses.filter(receipt="").exists():
            raise ApplicationError(_("有费用没有票据：报销须凭合法票据。"), field="receipt")
        REIMBURSEMENT_STATES.move(reception, Reimbursement.SUBMITTED)
        reception.version += 1
        reception.save()
        total = expenses.aggregate(s=Sum("amount"))["s"] or ZERO
        _record(actor.org_id, actor, RecordAction.REIMBURSEMENT_SUBMITTED, now, reception=reception, total=str(total))
    return reception


def reimbursement_decide(
    *,
    actor: Staff,
    reception_id: int,
    decision: str,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> GuestReception:
    """The finance department reimburses (已报销) or returns the claim to be put right (退回补正, with why)."""
    now = happened_at(at)
    if decision not in (Reimbursement.REIMBURSED, Reimbursement.RETURNED):
        raise ValidationFailed({"decision": [_("请选择报销或退回。")]})
    note = checked_text(
        note,
        "note",
        missing=_("退回时请写明需要补正的内容。") if decision == Reimbursement.RETURNED else None,
        limit=NOTE_MAX,
        label=_("报销说明"),
    )
    with transaction.atomic():
        reception = _reception_locked(actor, reception_id)
        setup = setup_of(actor.org_id)
        if not permissions.may_reimburse(actor, reception, setup):
            if permissions.is_finance(actor, setup):
                raise PermissionDeniedError(_("不能为自己申请的接待办理报销。"))
            raise PermissionDeniedError(_("报销由财务部门办理。"))
        check_version(reception, expected_version, what=RECEPTION)
        REIMBURSEMENT_STATES.move(reception, decision)
        reception.reimbursement_note = note
        if decision == Reimbursement.REIMBURSED:
            reception.reimbursed_at, reception.reimbursed_by = now, actor
        reception.version += 1
        reception.save()
        total = Expense.objects.filter(reception=reception).aggregate(s=Sum("amount"))["s"] or ZERO
        _record(
            actor.org_id,
            actor,
            RecordAction.REIMBURSED if decision == Reimbursement.REIMBURSED else RecordAction.REIMBURSEMENT_RETURNED,
            now,
            reception=reception,
            total=str(total),
            note=note,
        )
    return reception
