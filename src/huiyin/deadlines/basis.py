"""How a deadline is counted, in words, for the case page and the API: the preset rule's
amount, unit, start and holiday rolling with its source, and a warning where the count runs
through a year the holiday calendar does not know."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case
from huiyin.policy.labels import CLOCK_FROM_LABELS
from huiyin.policy.services.calendars import years_counted_monday_to_friday
from huiyin.policy.sources import shown as source_shown

from .forms import UNIT_LABELS
from .models import ClockState
from .selectors import ClockView

# Units a holiday calendar changes (presets say "days" with or without rolling a last holiday).
_CALENDAR_UNITS = ("workdays", "working_hours")


def rule_basis(rule: dict[str, Any]) -> str:
    """The limit as the preset counts it and its source: "15 自然日，自收到诉求起，次日起算；
    遇节假日顺延 · 依据：信访工作条例（2022）……". Empty for a clock without a counted rule."""
    amount, unit = rule.get("amount"), rule.get("unit")
    if amount is None or not unit or rule.get("manual_due_at"):
        return ""
    limit = f"{amount} {UNIT_LABELS.get(unit, unit)}"
    start = rule.get("clock_from")
    if start:
        text = _("%(limit)s，自%(event)s起") % {"limit": limit, "event": CLOCK_FROM_LABELS.get(start, start)}
        if rule.get("start") == "next_day":
            text += _("，次日起算")
    else:
        text = limit
    if rule.get("roll") == "forward":
        text += _("；遇节假日顺延")
    if rule.get("source"):
        text += " · " + _("依据：%(source)s") % {"source": source_shown(str(rule["source"]))}
    return text


def calendar_note(case: Case, view: ClockView) -> str:
    """Said of a running or paused clock counted across a year the holiday package does not
    know and administrators supplied no days for: it may be wrong until they do."""
    if view.state == ClockState.STOPPED:
        return ""
    rule = view.clock.rule
    if rule.get("unit") not in _CALENDAR_UNITS and rule.get("roll") != "forward":
        return ""
    first, last = timezone.localdate(view.started_at), timezone.localdate(view.due_at)
    years = years_counted_monday_to_friday(first=first, last=last, organization_id=case.organization_id)
    if not years:
        return ""
    return _(
        "内置节假日日历未收录 %(years)s 年：此时限暂按周一至周五计算工作日，可能不准；"
        "管理员在“工作日历”中补充节假日和调休后自动重算。"
    ) % {"years": "、".join(str(y) for y in years)}
