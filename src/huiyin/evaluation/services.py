"""Writes for the evaluation (F35): recording an escalation deduction (越级投诉扣分).

A matter that went over the handling unit's head (to the company's leaders, a county
or city body, the media) costs the people the case's preset names (its ``deductions``
rule: ``applies_to`` roles, points per level). Charged are, per role:

* ``dept_head`` — the heads of the case's lead department;
* ``handler`` — the case's handler (after a reopening that has no handler yet, the
  handler of the latest round that had one);
* any other role — the organisation's active staff holding it.

A person named by two roles is charged once (as the first role listed). A role with
nobody is skipped; with nobody at all, one entry charges the lead department alone.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from huiyin.cases import services as case_services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, CaseRound
from huiyin.cases.selectors import case_locked
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.core.validators import NOTE_MAX, checked_text, happened_at
from huiyin.deadlines.notify import Directory
from huiyin.handling.records import preset_of, role_label
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role

from . import permissions
from .errors import EvaluationError
from .models import DeductionEntry


def _latest_round_value(case: Case, field: str) -> int | None:
    """The case's handler / lead department, or where the current round has none yet
    (reopened, sent back), the latest round's that had one."""
    current = getattr(case, f"{field}_id")
    if current is not None:
        return current
    return (
        CaseRound.objects.filter(case=case, **{f"{field}__isnull": False})
        .order_by("-number")
        .values_list(f"{field}_id", flat=True)
        .first()
    )


def _charged(case: Case, roles: tuple[str, ...], department_id: int) -> list[tuple[Staff, str]]:
    directory = Directory()
    org = case.organization_id
    people: list[tuple[Staff, str]] = []
    seen: set[int] = set()
    for role in roles:
        if role == Role.DEPT_HEAD:
            found = directory.dept_heads(org, department_id)
        elif role == Role.HANDLER:
            handler_id = _latest_round_value(case, "handler")
            handler = Staff.objects.filter(pk=handler_id).first() if handler_id else None
            found = [handler] if handler is not None else []
        else:
            found = directory.with_role(org, role)
        for person in found:
            if person.pk not in seen:
                seen.add(person.pk)
                people.append((person, role))
    return people


def deduction_record(
    *, actor: Staff, case_id: int, rule: str, level: str, note: str = "", at: datetime | None = None
) -> list[DeductionEntry]:
    """Record that the case was escalated to ``level`` under the preset's ``rule``:
    one entry per charged person, points copied from the case's preset. Recording the
    same (case, rule, level) again is refused. ``at``: when, where history is recreated."""
    now = happened_at(at)
    if not permissions.may_record_deductions(actor):
        raise PermissionDeniedError(_("只有督办员、领导或系统管理员可以登记越级投诉扣分。"))
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("说明"))

    with transaction.atomic():
        case = case_locked(actor=actor, case_id=case_id)
        if case is None:
            raise ValidationFailed({"case": [_("找不到该案件。")]})
        preset = preset_of(case)
        rules = {d.code: d for d in (preset.deductions if preset is not None else ())}
        if not rules:
            raise ValidationFailed({"rule": [_("该件适用的政策未设扣分规则。")]})
        deduction = rules.get(rule)
        if deduction is None:
            raise ValidationFailed({"rule": [_("扣分规则“%(rule)s”不存在，请从列表中选择。") % {"rule": rule}]})
        chosen = next((lv for lv in deduction.levels if lv.code == level), None)
        if chosen is None:
            raise ValidationFailed(
                {
                    "level": [
                        _("越级级别“%(level)s”不属于“%(rule)s”，请从列表中选择。")
                        % {"level": level, "rule": deduction.label}
                    ]
                }
            )
        if DeductionEntry.objects.filter(case=case, rule=rule, level=level).exists():
            raise ApplicationError(
                _("%(number)s 已登记过“%(level)s”扣分，未重复扣分。") % {"number": case.number, "level": chosen.label},
                code=EvaluationError.DEDUCTION_RECORDED,
                field="level",
            )
        department_id = _latest_round_value(case, "lead_department")
        if department_id is None:
            raise ValidationFailed({"case": [_("该件尚未交办主办部门，无法确定扣分的部门和人员。")]})
        common = dict(
            organization_id=case.organization_id,
            case=case,
            rule=rule,
            rule_label=deduction.label,
            level=level,
            level_label=chosen.label,
            points=chosen.points,
            department_id=department_id,
            recorded_by=actor,
            recorded_at=now,
            note=note,
        )
        people = _charged(case, deduction.applies_to, department_id)
        try:
            with transaction.atomic():
                if people:
                    entries = [DeductionEntry.objects.create(staff=p, charged_as=role, **common) for p, role in people]
                else:
                    entries = [DeductionEntry.objects.create(staff=None, charged_as="", **common)]
        except IntegrityError as exc:  # the check above runs under the case lock; this is the backstop
            raise ApplicationError(
                _("%(number)s 已登记过该扣分，未重复扣分。") % {"number": case.number},
                code=EvaluationError.DEDUCTION_RECORDED,
                field="level",
            ) from exc
        charged = [{"staff": e.staff_id, "name": str(e.staff), "as": e.charged_as} for e in entries if e.staff_id]
        who = "、".join(f"{role_label(e.charged_as)} {e.staff}" for e in entries if e.staff_id) or _(
            "部门（无对应人员）"
        )
        case_services.case_record_event(
            case,
            kind=EventKind.NOTE,
            actor=actor,
            data={
                "deduction": {
                    "rule": rule,
                    "level": level,
                    "points": chosen.points,
                    "department": department_id,
                    "charged": charged,
                    "entries": [e.pk for e in entries],
                },
                "text": _("越级投诉扣分：%(level)s，扣 %(points)d 分（%(who)s）%(note)s")
                % {
                    "level": chosen.label,
                    "points": chosen.points,
                    "who": who,
                    "note": f"：{note[:200]}" if note else "",
                },
            },
            at=at,
        )
    return entries
