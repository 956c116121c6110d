"""The policy a case lives by: the version a new case is registered under (with the time
limit promised on its receipt), and the version an existing case was registered under.

Here, not in ``policy``, because both read case data; ``policy`` is configuration only.
``cases.services`` imports ``policy_for_new_case`` from ``deadlines.services``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from huiyin.policy.calendar import BusinessCalendar
from huiyin.policy.models import PolicyVersion
from huiyin.policy.services.calendars import calendar_for
from huiyin.policy.services.versions import DEFAULT_REPLY_DAYS, policy_version_by_code, running_policy
from huiyin.policy.stages import stages_with_defaults

if TYPE_CHECKING:
    from huiyin.cases.models import Case
    from huiyin.orgs.models import Organization
    from huiyin.policy.presets import Preset


def policy_version_for_case(case: Case) -> PolicyVersion | None:
    """The PolicyVersion a case was registered under (None: registered without a preset).
    Kept on the case object for the request: the case page's panels each ask (the rows are
    immutable; the key is the code the case holds, so a case re-read under another code asks again)."""
    held = case.__dict__.get("_policy_version_row")
    if held is not None and held[0] == case.policy_version:
        return held[1]
    version = policy_version_by_code(organization_id=case.organization_id, code=case.policy_version)
    case.__dict__["_policy_version_row"] = (case.policy_version, version)
    return version


def held_calendar(case: Case) -> BusinessCalendar | None:
    """The calendar the case's registration read, for its own subscribers (``hold_for``)."""
    held = case.__dict__.get("_calendar_row")
    return held[1] if held is not None and held[0] == case.policy_version else None


@dataclass
class CasePolicy:
    """What ``case_register`` needs from the policy engine."""

    version: str  # PolicyVersion.code, or the organisation's preset name without one
    stage_switches: dict[str, Any] = field(default_factory=dict)  # stages, and the required steps
    reply_days: int = DEFAULT_REPLY_DAYS
    policy_version: PolicyVersion | None = None
    calendar: BusinessCalendar | None = None

    @property
    def preset(self) -> Preset | None:
        return self.policy_version.preset() if self.policy_version is not None else None

    def hold_for(self, case: Case) -> None:
        """Keep the version and calendar just read on the new case, so that its registration's
        subscribers in the same transaction (clocks, urgency, receipt) do not read them again."""
        case.__dict__["_policy_version_row"] = (case.policy_version, self.policy_version)
        if self.calendar is not None:
            case.__dict__["_calendar_row"] = (case.policy_version, self.calendar)

    def promised_due_at(self, case: Case) -> datetime | None:
        """The time limit printed on the receipt.

        With a preset: the due time of the case's ``overall`` rule, else its ``reply``
        rule, as matched for this case; a rule whose clock starts later (at acceptance
        or dispatch) is estimated from receipt and corrected when its clock starts.
        None when the preset sets no such limit. Without a preset: the end of the
        ``reply_days``-th calendar day after receipt.
        """
        if self.policy_version is None or self.calendar is None:
            day = timezone.localtime(case.received_at).date() + timedelta(days=self.reply_days)
            return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
        from .clocks import promised_estimate  # cycle: clocks imports policy_version_for_case from here

        return promised_estimate(case, self.policy_version, self.calendar)


def policy_for_new_case(org: Organization) -> CasePolicy:
    running, stamp = running_policy(org)  # one statement: the version and the calendar's stamp
    if running is None:
        switches = stages_with_defaults(org.stage_switches)
        reply_days = int((org.stage_switches or {}).get("reply_days", DEFAULT_REPLY_DAYS))
        return CasePolicy(version=org.preset or "default", stage_switches=switches, reply_days=reply_days)
    return CasePolicy(
        version=running.code,
        stage_switches=running.preset().switches(),
        policy_version=running,
        calendar=calendar_for(organization_id=org.pk, policy_version=running, stamp=stamp),
    )
