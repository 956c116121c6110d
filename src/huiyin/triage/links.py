"""Related cases (关联) and the merge of a duplicate (合并), issue 19.

A link marks two cases of one organisation as related: stored once (``CaseLink``, the lower
id first) with who, when and why, an event on both cases' timelines, and taken away the same
way. A merge is the lifecycle's ``merge`` edge on the duplicate (registered or accepted: no
department has taken it yet), an action spec of this app (``actions.py``); what it does to
the case the duplicate goes into is written here, in the same transaction:

* every contact of the duplicate is copied onto the target (``Contact.copied_from`` names
  the original; the duplicate keeps its own contacts and its whole event chain),
* the duplicate's complainant (and its other representatives) become co-parties of the
  target where they are not its complainant,
* the link between the two becomes a ``merged`` one,
* the target gets a ``merged_in`` event naming the duplicate; the duplicate's own move is a
  ``state_changed`` event, to which the deadline engine answers by stopping its clocks.

Locks: both case rows, in id order, before either is changed (two merges the other way
round wait for each other instead of deadlocking).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case, Contact
from huiyin.cases.services import case_record_event, required_text
from huiyin.cases.workflow import OPEN_STATES, state_label
from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError, ValidationFailed
from huiyin.core.validators import LINE_MAX, NOTE_MAX, checked_text, happened_at
from huiyin.orgs.actors import Actor
from huiyin.orgs.models import Staff

from .errors import TriageError
from .events import TriageEvent
from .models import CaseLink, IntakeLink, LinkKind
from .permissions import may_link, may_merge_into
from .records import valid_token

NUMBER_FIELD = "into_number"


def lock_cases(organization_id: int | None, ids: Iterable[int]) -> dict[int, Case]:
    """Lock the cases' rows in id order (the caller is in a transaction)."""
    if organization_id is None:  # the platform operator: no organisation, no cases
        return {}
    rows = Case.objects.select_for_update().filter(pk__in=sorted(set(ids)), organization_id=organization_id)
    return {case.pk: case for case in rows.order_by("pk")}


def find_by_number(actor: Actor, raw: str, field: str, label: str) -> Case:
    """The case of the actor's organisation with this number, one the actor may see; an
    unknown number, or one of a case the actor does not see, is the same field error."""
    number = checked_text(raw, field, limit=LINE_MAX, label=label).strip()
    if not number:
        raise ValidationFailed({field: [_("%(label)s：请填写案件编号。") % {"label": label}]})
    case = Case.objects.filter(organization_id=actor.org_id, number=number).first()
    if case is None or not may_merge_into(actor, case):
        raise ValidationFailed(
            {field: [_("%(label)s：本单位没有编号为 %(number)s 的案件。") % {"label": label, "number": number}]}
        )
    return case


def link_between(a: int, b: int) -> CaseLink | None:
    low, high = sorted((a, b))
    return CaseLink.objects.filter(low_id=low, high_id=high).first()


def links_of(case: Case) -> list[CaseLink]:
    return list(
        CaseLink.objects.filter(Q(low=case) | Q(high=case))
        .select_related("low", "high", "created_by")
        .order_by("-created_at", "-id")
    )


# --- link and unlink ----------------------------------------------------------------------------------


def case_link(*, actor: Actor, case_id: int, other_number: str, reason: str, at: datetime | None = None) -> CaseLink:
    """关联: mark the case and the one numbered ``other_number`` as related (both the actor's
    organisation's, both ones the actor may link); an event on each."""
    label = _("关联案件编号")
    reason = required_text(
        reason, "reason", _("关联理由：请填写为什么关联这两件。"), limit=NOTE_MAX, label=_("关联理由")
    )
    now = happened_at(at)
    with transaction.atomic():
        case = Case.objects.filter(pk=case_id, organization_id=actor.org_id).first()
        if case is None:
            raise NotFound()
        other = find_by_number(actor, other_number, "other_number", label)
        if other.pk == case.pk:
            raise ValidationFailed({"other_number": [_("关联案件编号：不能把一件与它自己关联。")]})
        locked = lock_cases(actor.org_id, (case.pk, other.pk))
        case, other = locked[case.pk], locked[other.pk]
        if not (may_link(actor, case) and may_link(actor, other)):
            raise PermissionDeniedError()
        if link_between(case.pk, other.pk) is not None:
            raise ApplicationError(
                _("关联案件编号：%(number)s 已与本件关联。") % {"number": other.number},
                field="other_number",
                code=TriageError.ALREADY_LINKED,
            )
        low, high = sorted((case, other), key=lambda c: c.pk)
        link = CaseLink.objects.create(
            organization_id=actor.org_id,
            low=low,
            high=high,
            reason=reason,
            created_by=actor if isinstance(actor, Staff) else None,
            created_at=now,
        )
        for one, two in ((case, other), (other, case)):
            case_record_event(
                one,
                kind=TriageEvent.CASE_LINKED,
                actor=actor,
                data={"link_id": link.pk, "other_case_id": two.pk, "other_number": two.number, "reason": reason},
                at=at,
            )
    return link


def case_unlink(*, actor: Actor, case_id: int, link_id: int, reason: str = "", at: datetime | None = None) -> None:
    """Take a link away (取消关联); an event on both cases keeps who linked them and who unlinked.
    The link a merge left stays: it is the record of where the duplicate went."""
    reason = checked_text(reason, "reason", limit=NOTE_MAX, label=_("理由"))
    happened_at(at)
    with transaction.atomic():
        link = (
            CaseLink.objects.filter(pk=link_id, organization_id=actor.org_id)
            .filter(Q(low_id=case_id) | Q(high_id=case_id))
            .first()
        )
        if link is None:
            raise NotFound(_("找不到该关联：它已被取消，或不属于本件。"))
        locked = lock_cases(actor.org_id, (link.low_id, link.high_id))
        if len(locked) != 2:
            raise NotFound()
        low, high = locked[link.low_id], locked[link.high_id]
        if not (may_link(actor, low) and may_link(actor, high)):
            raise PermissionDeniedError()
        link = CaseLink.objects.select_for_update().filter(pk=link.pk).first()
        if link is None:
            raise NotFound(_("找不到该关联：它已被取消，或不属于本件。"))
        if link.kind == LinkKind.MERGED:
            raise ApplicationError(
                _("合并留下的关联不能取消：它记录重复件并入了哪一件。"), code=TriageError.LINK_IS_MERGE
            )
        first = {
            "link_id": link.pk,
            "linked_by": str(link.created_by) if link.created_by_id else "",
            "linked_at": link.created_at,
            "linked_reason": link.reason,
        }
        link.delete()
        for one, two in ((low, high), (high, low)):
            data: dict[str, Any] = {**first, "other_case_id": two.pk, "other_number": two.number}
            if reason:
                data["reason"] = reason
            case_record_event(one, kind=TriageEvent.CASE_UNLINKED, actor=actor, data=data, at=at)


# --- what a merge does to the target (called inside the duplicate's transition) -----------------------


def merge_check(actor: Actor, duplicate: Case, target: Case | None) -> Case:
    """The target as the merge needs it: there, not the duplicate itself, seen by the actor,
    still being handled. Field errors on ``into_number``; the row is locked by the caller."""
    label = _("并入案件编号")
    if target is None or not may_merge_into(actor, target):
        raise ValidationFailed({NUMBER_FIELD: [_("%(label)s：本单位没有这个编号的案件。") % {"label": label}]})
    if target.pk == duplicate.pk:
        raise ValidationFailed({NUMBER_FIELD: [_("并入案件编号：不能把一件并入它自己，请填写另一件的编号。")]})
    if target.organization_id != duplicate.organization_id:  # pragma: no cover - the look-up is by organisation
        raise ValidationFailed({NUMBER_FIELD: [_("并入案件编号：只能并入本单位的案件。")]})
    if target.state not in OPEN_STATES:
        raise ValidationFailed(
            {
                NUMBER_FIELD: [
                    _("并入案件编号：案件 %(number)s 当前状态为“%(state)s”，已不在办理中，不能再并入；可改用“关联”。")
                    % {"number": target.number, "state": state_label(target.state)}
                ]
            }
        )
    return target


def merge_into(
    actor: Actor, duplicate: Case, target: Case, *, note: str = "", at: datetime | None = None
) -> dict[str, Any]:
    """Copy the duplicate's contacts and parties onto the target, link them as merged and
    write the target's ``merged_in`` event. Returns what the duplicate's own event records."""
    copies = []
    originals = list(duplicate.contacts.order_by("occurred_at", "id"))
    for contact in originals:
        copies.append(
            Contact(
                case=target,
                channel=contact.channel,
                party_id=contact.party_id,
                occurred_at=contact.occurred_at,
                staff_id=contact.staff_id,
                text=contact.text,
                is_initial=False,
                copied_from=contact,
            )
        )
    Contact.objects.bulk_create(copies)
    parties = {p for p in [duplicate.party_id, *duplicate.co_parties.values_list("pk", flat=True)] if p}
    parties.discard(target.party_id)
    parties -= set(target.co_parties.values_list("pk", flat=True))
    if parties:
        target.co_parties.add(*parties)
    low, high = sorted((duplicate, target), key=lambda c: c.pk)
    link = link_between(low.pk, high.pk)
    now = at or timezone.now()
    if link is None:
        link = CaseLink.objects.create(
            organization_id=duplicate.organization_id,
            low=low,
            high=high,
            kind=LinkKind.MERGED,
            merged_into=target,
            reason=note,
            created_by=actor if isinstance(actor, Staff) else None,
            created_at=now,
        )
    else:
        link.kind, link.merged_into = LinkKind.MERGED, target
        link.save(update_fields=["kind", "merged_into"])
    data: dict[str, Any] = {
        "other_case_id": duplicate.pk,
        "other_number": duplicate.number,
        "contacts": [c.pk for c in copies],
        "copied_from": [c.pk for c in originals],
        "co_parties_added": len(parties),
        "link_id": link.pk,
    }
    if note:
        data["note"] = note
    case_record_event(target, kind=TriageEvent.MERGED_IN, actor=actor, data=data, at=at)
    return {"other_case_id": target.pk, "other_number": target.number, "contacts_copied": len(copies)}


# --- 关联 from the intake form: linked once the form's case is registered ------------------------------


def intake_link_mark(*, actor: Staff, intake_token: str, case_id: int) -> IntakeLink:
    """The clerk marked a repeat candidate 关联 on an intake form not yet submitted."""
    if not valid_token(intake_token):
        raise ValidationFailed({"intake_token": [_("登记表单标识无效。")]})
    case = Case.objects.filter(pk=case_id, organization_id=actor.org_id).first()
    if case is None:
        raise NotFound()
    if not may_link(actor, case):
        raise PermissionDeniedError()
    row, _created = IntakeLink.objects.get_or_create(
        organization_id=actor.org_id, intake_token=intake_token, case=case, defaults={"staff": actor}
    )
    return row


def links_on_registered(*, event: Any) -> None:
    """After a registration: link the new case to the candidates marked on its intake form, as
    the clerk who marked them (a candidate they may no longer link, or one already linked, is
    left out)."""
    case = event.case
    if not case.intake_token:
        return
    marks = IntakeLink.objects.filter(organization_id=case.organization_id, intake_token=case.intake_token)
    for mark in marks.select_related("case", "staff"):
        if mark.case_id == case.pk or link_between(case.pk, mark.case_id) is not None:
            continue
        try:
            case_link(
                actor=mark.staff,
                case_id=case.pk,
                other_number=mark.case.number,
                reason=_("登记时在“可能重复的诉求”中标为关联"),
            )
        except ApplicationError:
            continue  # refused now (the candidate left the clerk's view): nothing linked
    marks.delete()
