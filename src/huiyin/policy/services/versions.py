"""Which policy an organisation runs (the policy a case lives by is ``deadlines.services``).

A policy is a validated preset snapshot stored as a PolicyVersion row. Activating a
preset validates it first (``load_preset``/``load_preset_text`` raise PresetError
naming file, line and key) and only then writes, in one transaction, so an invalid
preset never replaces the running policy.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _

import huiyin
from huiyin.core.errors import PermissionDeniedError
from huiyin.core.versions import check_fingerprint, fingerprint
from huiyin.orgs.models import Department, Organization
from huiyin.orgs.roles import Cap

from .. import checks
from ..models import PolicyVersion, preset_of
from ..presets import Preset, PresetError, line_of, load_preset, load_preset_text
from .calendars import STAMP_FIELDS, Stamp, stamp_annotations, stamp_of

if TYPE_CHECKING:
    from huiyin.orgs.models import Staff

DEFAULT_REPLY_DAYS = 15


def presets_dir() -> Path:
    """``settings.HUIYIN_PRESETS_DIR`` when set, else the repository's ``presets/``."""
    configured = getattr(settings, "HUIYIN_PRESETS_DIR", None)
    if configured:
        return Path(configured)
    return Path(huiyin.__file__).resolve().parents[2] / "presets"


def find_preset_file(name_or_path: str) -> Path:
    """A preset by name (``petition_office``) from the presets directory, or a file path."""
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return Path(name_or_path)
    return presets_dir() / f"{name_or_path}.yaml"


def current_policy(organization: Organization | int) -> PolicyVersion | None:
    """The organisation's running policy: its newest active PolicyVersion.

    Its snapshot (the whole preset, about 12 kB of JSON) is not read: the parsed preset is
    cached by version (``preset_of``), so most callers never need it, and decoding it cost
    more than the rest of the statement. Reading ``.snapshot`` loads it."""
    org_id = organization if isinstance(organization, int) else organization.pk
    return (
        PolicyVersion.objects.filter(organization_id=org_id, active=True).defer("snapshot").order_by("-version").first()
    )


_HELD = "_held_running_policy"


@functools.lru_cache(maxsize=1024)
def _running_query(organization_id: int) -> QuerySet[PolicyVersion]:
    """The statement ``running_policy`` sends, built once per organisation and process.

    It is only the query, never its answer: ``first()`` clones it and reads the database
    each time. Building its three stamp subqueries cost about as much as running them."""
    return (
        PolicyVersion.objects.filter(organization_id=organization_id, active=True)
        .defer("snapshot")
        .annotate(**stamp_annotations(organization_id))
        .order_by("-version")
    )


def running_policy(organization: Organization, *, hold: bool = False) -> tuple[PolicyVersion | None, Stamp | None]:
    """``current_policy`` and the business calendar's stamp (``calendars.calendar_for``), read
    in one statement: what a registration needs to know is current.

    ``hold``: the answer is kept on the organisation object and given back to later calls
    with the same object, for a caller whose object lives as long as one request and that
    asks more than once (the portal's form, then its registration). Nothing else is held:
    a policy activated since is read by the next request (the stamp is None without a
    running policy: no calendar is needed then)."""
    if _HELD in organization.__dict__:
        held: tuple[PolicyVersion | None, Stamp | None] = organization.__dict__[_HELD]
        return held
    row = _running_query(organization.pk).first()
    found = (row, stamp_of(*(getattr(row, f) for f in STAMP_FIELDS)) if row is not None else None)
    if hold:
        organization.__dict__[_HELD] = found
    return found


def missing_departments(organization_id: int, preset: Preset) -> list[tuple[str, str]]:
    """The department codes the preset relies on that no department of the organisation has:
    until one is created, what it is there for cannot happen (an online complaint accepted, a
    kind of complainant's case received)."""
    named = preset.departments_named()
    present = set(
        Department.objects.filter(organization_id=organization_id, code__in=[c for c, _w in named]).values_list(
            "code", flat=True
        )
    )
    return [(code, what) for code, what in named if code not in present]


def policy_version_by_code(*, organization_id: int, code: str) -> PolicyVersion | None:
    """The PolicyVersion whose ``code`` ("petition_office:3") an organisation's case stores
    (None: blank or not a version code, e.g. registered without a preset)."""
    name, sep, number = (code or "").rpartition(":")
    if not sep or not number.isdigit():
        return None
    return PolicyVersion.objects.filter(organization_id=organization_id, version=int(number), preset_name=name).first()


def _check_admin(actor: Staff | None, organization: Organization) -> None:
    if actor is not None and (actor.organization_id != organization.pk or not actor.can(Cap.ADMINISTER)):
        raise PermissionDeniedError()


def check_against_organization(organization_id: int, preset: Preset, *, filename: str, text: str = "") -> None:
    """Refuse (PresetError naming the rule, and its line in ``text``) a preset that does not
    fit the organisation's own data: a rule keyed on a category none of its categories
    answers to, and whatever else the apps install (``policy.checks``)."""
    found = checks.problems(organization_id, preset)
    if found:
        first = found[0]
        raise PresetError(filename, line_of(text, first.path) if text else 1, first.path, first.message)


def policy_activate(
    *,
    organization: Organization,
    preset: Preset,
    actor: Staff | None,
    source: str = "",
    note: str = "",
    text: str = "",
    expected: str | None = None,
) -> tuple[PolicyVersion, bool]:
    """Make ``preset`` (already validated) the organisation's running policy.

    Returns the PolicyVersion and whether a new one was written: activating the same
    snapshot as the running policy again changes nothing. Cases registered before keep
    their own version. ``actor=None`` is the operator at the command line. ``text``: the
    preset's YAML, for the line of a refusal. ``expected``: ``running_fingerprint`` when the
    edit page was made; a policy another administrator activated since is never replaced
    unseen (``StaleObject``).
    """
    _check_admin(actor, organization)
    snapshot = preset.to_dict()
    # Checked again with every bound, whatever built the Preset: an older version stored
    # before a bound existed (read back leniently) is not activated again unchecked.
    filename = source or f"{preset.name}.yaml"
    load_preset_text(json.dumps(snapshot, ensure_ascii=False), filename)
    check_against_organization(organization.pk, preset, filename=filename, text=text)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        running = current_policy(org)
        check_fingerprint(running_fingerprint(running), expected, what=_("本单位的现行政策"))
        if running is not None and running.preset_name == preset.name and running.snapshot == snapshot:
            return running, False
        last = PolicyVersion.objects.filter(organization=org).aggregate(n=Max("version"))["n"] or 0
        version = PolicyVersion.objects.create(
            organization=org,
            version=last + 1,
            preset_name=preset.name,
            preset_version=preset.version,
            label=preset.label,
            snapshot=snapshot,
            source=source[:255],
            note=note[:255],
            created_by=actor,
        )
        # The lifecycle reads the stage switches from the organisation (cases.workflow).
        org.preset = preset.name
        org.stage_switches = preset.switches()
        org.save(update_fields=["preset", "stage_switches"])
    organization.preset, organization.stage_switches = org.preset, org.stage_switches
    return version, True


def running_fingerprint(running: PolicyVersion | None) -> str:
    """The version of the running policy as the edit page shows it (``core.versions``): which
    version runs (none at first, so no integer version of its own)."""
    return fingerprint(running.version if running is not None else None)


def policy_activate_text(
    *,
    organization: Organization,
    text: str,
    filename: str,
    actor: Staff | None,
) -> tuple[PolicyVersion, bool]:
    """Validate preset text (an administrator's edit) and activate it; PresetError on bad input,
    with nothing changed."""
    preset = load_preset_text(text, filename)
    return policy_activate(organization=organization, preset=preset, actor=actor, source=filename, text=text)


def policy_deactivate(*, organization: Organization, version: int, actor: Staff | None) -> PolicyVersion | None:
    """Withdraw a version (roll back): the newest remaining active version runs again.
    Returns the policy now running."""
    _check_admin(actor, organization)
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        PolicyVersion.objects.filter(organization=organization, version=version).update(active=False)
        running = current_policy(organization)
        if running is not None:
            Organization.objects.filter(pk=organization.pk).update(
                preset=running.preset_name, stage_switches=running.preset().switches()
            )
    return running


@dataclass(frozen=True)
class InitResult:
    organization: Organization
    policy_version: PolicyVersion
    organization_created: bool
    version_created: bool


def organization_init(
    *,
    preset_name: str,
    code: str | None = None,
    name: str | None = None,
    actor: Staff | None = None,
) -> InitResult:
    """``huiyin init``: create or update an organisation and activate a preset file.

    The preset is read and validated before anything is written. Without ``code``, the
    only organisation is used, or one is created named after the preset.
    Raises PresetError (bad preset), FileNotFoundError, or ValueError (ambiguous target).
    """
    path = find_preset_file(preset_name)
    if not path.is_file():
        raise FileNotFoundError(f"no preset {preset_name!r} (looked for {path})")
    preset = load_preset(path)
    with transaction.atomic():
        if code:
            org, created = Organization.objects.get_or_create(code=code, defaults={"name": name or preset.label})
        else:
            orgs = list(Organization.objects.order_by("pk")[:2])
            if len(orgs) > 1:
                raise ValueError("several organisations exist: say which with --org CODE")
            if orgs:
                org, created = orgs[0], False
            else:
                org = Organization.objects.create(code=preset.name.replace("_", "-"), name=name or preset.label)
                created = True
        if name and not created and org.name != name:
            org.name = name
            org.save(update_fields=["name"])
        version, new = policy_activate(
            organization=org, preset=preset, actor=actor, source=path.name, text=path.read_text(encoding="utf-8")
        )
    return InitResult(organization=org, policy_version=version, organization_created=created, version_created=new)


__all__ = [
    "InitResult",
    "check_against_organization",
    "PresetError",
    "current_policy",
    "find_preset_file",
    "organization_init",
    "policy_activate",
    "policy_activate_text",
    "policy_deactivate",
    "policy_version_by_code",
    "preset_of",
    "presets_dir",
]
