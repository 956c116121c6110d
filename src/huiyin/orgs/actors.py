"""Who acts on a case: a staff member, a member of the public, or another system.

Services take an ``Actor``. Staff are ``Staff`` rows; the public (a portal submitter)
and registered systems (API clients) are ``ExternalActor`` values carrying the
``ExternalSystem`` they came through. Both answer ``can(cap)``, ``org_id`` and
``organization``, so a service such as ``case_register`` applies the same rules,
numbering and events whoever registers; where a row needs to name who acted, it keeps
the staff member in its staff column and the kind and system beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import ExternalSystem, Organization, Staff
from .roles import Cap


class ActorKind(models.TextChoices):
    STAFF = "staff", _("工作人员")
    PUBLIC = "public", _("公众")
    SYSTEM = "system", _("外部系统")


PORTAL_CODE = "portal"


@dataclass(frozen=True, eq=False)
class ExternalActor:
    """Someone acting from outside the staff, through ``system``."""

    kind: str  # ActorKind.PUBLIC or ActorKind.SYSTEM
    system: ExternalSystem
    caps: frozenset[str] = field(default_factory=frozenset)
    # The one case a member of the public has shown they hold (its number and query code, or
    # a signed link): what ``cases.permissions.may_take`` lets them act on. None: no case.
    case_id: int | None = None
    # Staff-shaped attributes that permission predicates read: an outsider has none.
    pk: None = None
    department_id: None = None
    roles: tuple[str, ...] = ()
    is_dept_head: bool = False

    @property
    def organization(self) -> Organization:
        return self.system.organization

    @property
    def org_id(self) -> int:
        return self.system.organization_id

    @property
    def organization_id(self) -> int:
        return self.system.organization_id

    def can(self, cap: str) -> bool:
        return self.system.active and cap in self.caps

    def __str__(self) -> str:
        return outside_label(self.kind, self.system)


Actor = Staff | ExternalActor
OUTSIDE_KINDS = (ActorKind.PUBLIC, ActorKind.SYSTEM)


def outside_label(kind: str, system: ExternalSystem | None) -> str:
    """How the case page names the public or a system: "公众（网上平台）", "省信访信息系统"."""
    if kind == ActorKind.PUBLIC:
        return f"{ActorKind.PUBLIC.label}（{system.name}）" if system else str(ActorKind.PUBLIC.label)
    return system.name if system else str(ActorKind.SYSTEM.label)


def actor_kind(actor: Actor | None) -> str:
    """The kind recorded beside an event; "" for the system itself (sweeper, timers)."""
    if actor is None:
        return ""
    return actor.kind if isinstance(actor, ExternalActor) else ActorKind.STAFF


def staff_of(actor: Actor | None) -> Staff | None:
    return actor if isinstance(actor, Staff) else None


def system_of(actor: Actor | None) -> ExternalSystem | None:
    return actor.system if isinstance(actor, ExternalActor) else None


def portal_system(organization: Organization) -> ExternalSystem:
    """The organisation's public portal as a way in (created on first use)."""
    system, _created = ExternalSystem.objects.get_or_create(
        organization=organization,
        code=PORTAL_CODE,
        defaults={"name": str(_("网上平台")), "kind": ExternalSystem.Kind.PORTAL, "caps": [Cap.REGISTER]},
    )
    system.organization = organization  # the caller's object: not read again through the system
    return system


MAILBOX_CODE = "mailbox"


def mailbox_system(organization: Organization) -> ExternalSystem:
    """The organisation's complaint mailbox (the e-mail channel) as a way in (created on first use)."""
    system, _created = ExternalSystem.objects.get_or_create(
        organization=organization,
        code=MAILBOX_CODE,
        defaults={"name": str(_("电子邮箱")), "kind": ExternalSystem.Kind.MAILBOX, "caps": [Cap.REGISTER]},
    )
    system.organization = organization  # the caller's object: not read again through the system
    return system


def mailbox_actor(organization: Organization) -> ExternalActor:
    """A member of the public writing to the organisation's mailbox: may register a matter
    or add to one, nothing else."""
    system = mailbox_system(organization)
    return ExternalActor(kind=ActorKind.PUBLIC, system=system, caps=frozenset(system.caps) & {Cap.REGISTER})


def public_actor(organization: Organization, *, case_id: int | None = None) -> ExternalActor:
    """A member of the public submitting through the portal: may register, nothing else; with
    ``case_id``, the holder of that case (shown by its query code or a signed link), who may
    also take the few steps ``cases.permissions.may_take`` leaves to the complainant."""
    system = portal_system(organization)
    return ExternalActor(
        kind=ActorKind.PUBLIC, system=system, caps=frozenset(system.caps) & {Cap.REGISTER}, case_id=case_id
    )


def system_actor(system: ExternalSystem) -> ExternalActor:
    """A registered system (API client) acting with the capabilities it was granted."""
    return ExternalActor(kind=ActorKind.SYSTEM, system=system, caps=frozenset(system.caps))
