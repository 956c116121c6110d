"""Who may use triage: pure predicates of the actor."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap


def may_get_suggestions(actor: Staff) -> bool:
    """Whoever registers matters sees the suggestions on the intake forms."""
    return actor.can(Cap.REGISTER)


def may_manage_models(actor: Staff) -> bool:
    """The organisation's administrator trains, watches and rolls back its model."""
    return actor.can(Cap.ADMINISTER)
