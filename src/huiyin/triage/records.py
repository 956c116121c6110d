"""What triage suggested at intake against what the clerk chose: the keystroke that takes a
suggestion, the registration, a later edit of the category, the dispatch (the corrections
the next training learns from). Light on purpose: the subscriber table and the intake
pages import it, and none of it needs the machine-learning libraries."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.core.errors import NotFound, ValidationFailed

from .models import Suggestion
from .suggest import Suggestions


def valid_token(token: str) -> bool:
    return 8 <= len(token) <= 64 and all(ch in "0123456789abcdef" for ch in token)


def suggestion_record(*, actor: Any, intake_token: str, result: Suggestions) -> Suggestion | None:
    """Keep what was last suggested for this intake form (no text: only ids and confidences)."""
    if not valid_token(intake_token) or result.status != "ok":
        return None
    values = {
        "staff": actor,
        "model_version": result.model_version,
        "categories": [{"id": c.id, "p": c.confidence} for c in result.categories],
        "departments": [{"id": d.id, "p": d.confidence} for d in result.departments],
        "urgency": result.urgency.level,
    }
    with transaction.atomic():
        row = (
            Suggestion.objects.select_for_update()
            .filter(organization_id=actor.org_id, intake_token=intake_token)
            .first()
        )
        if row is not None and row.case_id is not None:
            return row  # registered already: what was suggested then stays
        if row is None:
            return Suggestion.objects.create(organization_id=actor.org_id, intake_token=intake_token, **values)
        for key, value in values.items():
            setattr(row, key, value)
        row.save()
        return row


def suggestion_accept(*, actor: Any, intake_token: str, category_id: int) -> Suggestion:
    """The clerk took a suggested category with the keystroke."""
    if not valid_token(intake_token):
        raise ValidationFailed({"intake_token": [_("登记表单标识无效。")]})
    row = Suggestion.objects.filter(organization_id=actor.org_id, intake_token=intake_token, case=None).first()
    if row is None:
        raise NotFound(_("没有这张登记表的分类建议。"))
    if category_id not in {c["id"] for c in row.categories}:
        raise ValidationFailed({"category": [_("所选分类不在建议之中。")]})
    row.accepted_category_id = category_id
    row.save(update_fields=["accepted_category", "updated_at"])
    return row


def choice_on_registered(*, event: Any) -> None:
    """After a registration: the case's category is what the clerk chose."""
    case = event.case
    if not case.intake_token:
        return
    Suggestion.objects.filter(organization_id=case.organization_id, intake_token=case.intake_token, case=None).update(
        case=case, chosen_category_id=case.category_id, updated_at=timezone.now()
    )


def choice_on_updated(*, event: Any) -> None:
    """A later edit of the category is the clerk's (or a colleague's) correction."""
    if "category_id" not in ((event.data or {}).get("after") or {}):
        return
    case = event.case
    Suggestion.objects.filter(case=case).update(chosen_category_id=case.category_id, updated_at=timezone.now())


def choice_on_dispatch(*, event: Any) -> None:
    """The department the case was dispatched to, against the departments suggested."""
    case = event.case
    Suggestion.objects.filter(case=case).update(chosen_department_id=case.lead_department_id, updated_at=timezone.now())


def acceptance_rate(organization_id: int) -> dict[str, Any]:
    """How often the first suggestion was the category chosen (registered cases only)."""
    rows = Suggestion.objects.filter(organization_id=organization_id, case__isnull=False).exclude(chosen_category=None)
    total = rows.count()
    top = sum(1 for r in rows.only("categories", "chosen_category") if not r.corrected)
    return {"total": total, "top_chosen": top, "rate": round(top / total, 3) if total else None}
