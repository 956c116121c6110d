"""Who may read and edit the knowledge base: pure predicates of the staff member."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap


def may_read_knowledge(actor: Staff) -> bool:
    """Every staff member of an organisation looks things up (the standard answers, the
    policies, past answers); the platform operator has no organisation and no desk."""
    return actor.is_authenticated and actor.organization_id is not None


def may_edit_knowledge(actor: Staff) -> bool:
    """The organisation's administrators keep the knowledge base, as they keep its policies
    and templates: what staff tell the public must rest on the rules in force."""
    return actor.organization_id is not None and actor.can(Cap.ADMINISTER)
