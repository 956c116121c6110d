"""The policy a new case is registered under: which stages apply, which version,
and the time limit promised on its receipt."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from huiyin.cases.workflow import stages_with_defaults

if TYPE_CHECKING:
    from huiyin.cases.models import Case
    from huiyin.orgs.models import Organization

DEFAULT_REPLY_DAYS = 15


@dataclass
class CasePolicy:
    version: str
    stage_switches: dict[str, bool] = field(default_factory=dict)
    reply_days: int = DEFAULT_REPLY_DAYS

    def promised_due_at(self, case: Case) -> datetime:
        """End of the reply_days-th calendar day after receipt (the day of receipt not counted)."""
        day = timezone.localtime(case.received_at).date() + timedelta(days=self.reply_days)
        return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def policy_for_new_case(org: Organization) -> CasePolicy:
    switches = stages_with_defaults(org.stage_switches)
    return CasePolicy(version=org.preset or "default", stage_switches=switches,
                      reply_days=int((org.stage_switches or {}).get("reply_days", DEFAULT_REPLY_DAYS)))
