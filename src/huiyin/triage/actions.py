"""Triage's verb on a case: merge a duplicate into the case that handles the matter (合并).

The duplicate takes the lifecycle's ``merge`` edge (from 已登记 or 已受理 only: once a
department has the matter, the clerk adds the call to the case being handled or links the
two instead), through the case core's one locking ``transition``; what the merge writes on
the target is ``links.merge_into``, in the same transaction. Registered in the subscriber
table's ``ACTIONS``, so the case page's button, the API's endpoint and the permission (the
edge's capability ``decide`` and the duplicate's scope) come from this one spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiyin.cases.actions import ActionSpec
from huiyin.cases.errors import InvalidTransition
from huiyin.cases.models import Case
from huiyin.cases.services import transition
from huiyin.cases.workflow import CaseState, find_edge
from huiyin.core.errors import ValidationFailed
from huiyin.core.validators import LINE_MAX, NOTE_MAX, checked_text, happened_at
from huiyin.orgs.actors import Actor

from . import links

MERGEABLE = frozenset({CaseState.REGISTERED, CaseState.ACCEPTED})


def case_merge(
    *,
    actor: Actor,
    case_id: int,
    into_number: str,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """Merge the case ``case_id`` (the duplicate) into the case numbered ``into_number``."""
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("备注"))
    number = checked_text(into_number, links.NUMBER_FIELD, limit=LINE_MAX, label=_("并入案件编号")).strip()
    happened_at(at)
    with transaction.atomic():
        duplicate = Case.objects.filter(pk=case_id, organization_id=actor.org_id).first()
        if duplicate is not None and find_edge(duplicate.state, "merge", duplicate.stage_switches) is None:
            raise InvalidTransition(
                src=duplicate.state,
                dst=CaseState.MERGED,
                reason=_(
                    "只有尚未派遣的件（已登记、已受理）可以合并；已交部门办理的，请把来电加为该件的联系记录，或把两件关联。"
                ),
            )
        if not number:
            raise ValidationFailed({links.NUMBER_FIELD: [_("并入案件编号：请填写要并入的案件编号。")]})
        target = Case.objects.filter(organization_id=actor.org_id, number=number).first()
        # Both rows locked in id order before the transition locks the duplicate again.
        locked = links.lock_cases(actor.org_id, [case_id] + ([target.pk] if target is not None else []))
        target = locked.get(target.pk) if target is not None else None

        def apply(case: Case) -> dict[str, Any]:
            checked = links.merge_check(actor, case, target)
            return links.merge_into(actor, case, checked, note=note, at=at)

        return transition(
            actor=actor,
            case_id=case_id,
            action="merge",
            note=note,
            apply=apply,
            expected_version=expected_version,
            at=at,
        )


@dataclass(frozen=True)
class MergeInput:
    into_number: str = ""
    note: str = ""


def merge_form(form: forms.Form, case: Case | None) -> None:
    """The workbench's action form gets the target's number (the case core's form has no such field)."""
    form.fields.setdefault(
        links.NUMBER_FIELD,
        forms.CharField(
            label=gettext_lazy("并入案件编号"),
            required=False,
            max_length=40,
            help_text=gettext_lazy("本件作为重复件并入该件：联系记录和反映人转入该件，本件终止办理。"),
        ),
    )


SPECS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "merge", MergeInput, case_merge, (links.NUMBER_FIELD, "note"), customize_form=merge_form, owner="triage"
    ),
)
