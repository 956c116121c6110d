"""Who may edit the message templates, see a case's messages, record a complainant's
contact preference and handle parked mail: pure predicates of the staff member."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyin.cases.permissions import may_view_case
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

if TYPE_CHECKING:
    from huiyin.cases.models import Case


def may_edit_templates(actor: Staff) -> bool:
    """The organisation's administrator: message texts and what goes out."""
    return actor.can(Cap.ADMINISTER)


def may_see_messages(actor: Staff, case: Case) -> bool:
    """Whoever sees the case sees what it told whom (recipients masked, no query code)."""
    return may_view_case(actor, case)


def may_set_sms_opt_out(actor: Staff, case: Case) -> bool:
    """The desk that talks to complainants records their wish not to be texted."""
    return actor.can(Cap.REGISTER) and may_view_case(actor, case)


def may_resend(actor: Staff) -> bool:
    return actor.can(Cap.ADMINISTER)


def may_handle_mail(actor: Staff) -> bool:
    """Intake clerks (and whoever registers cases) decide what parked mail becomes."""
    return actor.can(Cap.REGISTER)


def may_set_own_contact(actor: Staff) -> bool:
    """Every desk user chooses where their own notices go (not the platform operator)."""
    return actor.organization_id is not None
