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
    return system


def public_actor(organization: Organization) -> ExternalActor:
    """A member of the public submitting through the portal: may register, nothing else."""
    system = portal_system(organization)
    return ExternalActor(kind=ActorKind.PUBLIC, system=system, caps=frozenset(system.caps) & {Cap.REGISTER})


def system_actor(system: ExternalSystem) -> ExternalActor:
    """A registered system (API client) acting with the capabilities it was granted."""
    return ExternalActor(kind=ActorKind.SYSTEM, system=system, caps=frozenset(system.caps))
