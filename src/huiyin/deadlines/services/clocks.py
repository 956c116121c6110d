"""Deadline clocks: which rule applies to a case, starting, stopping, pausing, resuming
and rescheduling clocks, and the next step the sweeper must take on each.

Called inside the transaction of the case event that causes them (``deadlines.subscribers``) or
of a policy service, with the case row locked.

Matching a case to a preset rule (``Preset.match_deadline``):
* ``channel``, ``nature``: the case's.
* ``urgency``: the *effective* urgency: the clerk's choice, raised to ``urgent`` or
  ``major`` when the title or text contains one of the preset's urgency keywords
  (F13). The case's own field is not changed; the clock's snapshot records the keyword.
* ``category``: the case category's name, its full name ("城乡建设/物业管理"), its
  tags and the names and tags of all its ancestors, so a rule ``when: {category: 物业管理}``
  or ``{category: water_leak}`` matches the category named or tagged so and everything
  under it (``cases.categories``; the administrator tags categories).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.db.models import Q
from django.utils import timezone

from huiyin.cases import categories
from huiyin.cases.events import EventKind
from huiyin.cases.models import Event
from huiyin.core.notify import desk_settle_keys
from huiyin.deadlines.events import DeadlineEvent
from huiyin.policy.calendar import BusinessCalendar, Unit
from huiyin.policy.deadlines import ClockRule, Grant, escalation_at, paused_amount, schedule
from huiyin.policy.services.calendars import CalendarCache, calendar_for

from ..models import CLOCK_STATES, Clock, ClockState, ExtensionStatus, StopReason, Suspension
from ..subjects import CASE, case_kinds
from .case_policy import held_calendar, policy_version_for_case

if TYPE_CHECKING:
    from huiyin.cases.models import Case
    from huiyin.policy.models import PolicyVersion
    from huiyin.policy.presets import DeadlineRule, Preset

# Stages whose clocks the lifecycle starts and stops by itself. ``review_request`` and
# ``review_decision`` belong to the review process (复查/复核), not modelled yet: it will
# start them with ``clock_start``.
MANAGED_STAGES = (
    "acceptance",
    "handover",
    "investigation",
    "dispatch",
    "sign_for",
    "first_contact",
    "reply",
    "overall",
    "rectification_plan",
    "callback",
)
URGENCY_RANK = {"normal": 0, "urgent": 1, "major": 2}
ACTIVE = (ClockState.RUNNING, ClockState.PAUSED)


@dataclass(frozen=True)
class CasePlan:
    """Everything needed to time one case: its policy version, preset, calendar, and the
    values its rules are matched on."""

    policy_version: PolicyVersion
    preset: Preset
    calendar: BusinessCalendar
    channel: str
    nature: str
    category: tuple[str, ...]
    urgency: str
    urgency_keyword: str

    def rule(self, stage: str) -> DeadlineRule | None:
        return self.preset.match_deadline(
            stage,
            channel=self.channel or None,
            nature=self.nature or None,
            category=self.category,
            urgency=self.urgency or None,
        )

    def context(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "nature": self.nature,
            "category": list(self.category),
            "urgency": self.urgency,
            "urgency_keyword": self.urgency_keyword,
        }


def category_terms(case: Case) -> tuple[str, ...]:
    """What the case's category answers to in a rule's ``when.category``: names and the
    administrator's tags, its own and its ancestors' (``cases.categories``)."""
    return categories.category_terms(case.category if case.category_id else None)


def keyword_urgency(case: Case, preset: Preset) -> tuple[str, str]:
    """The highest level the preset's urgency keywords in the case's title or text reach,
    with the keyword found first: ("normal", "") when none is there."""
    return text_urgency(case.title, case.text, preset)


def text_urgency(title: str, body: str, preset: Preset) -> tuple[str, str]:
    """The same rule on a matter not yet registered (a title and a text being typed, as
    triage's suggestions read them): ("major" | "urgent" | "normal", the keyword found)."""
    text = f"{title}\n{body}"
    for level in ("major", "urgent"):
        keyword = next((k for k in getattr(preset.urgency_keywords, level) if k and k in text), "")
        if keyword:
            return level, keyword
    return "normal", ""


def effective_urgency(case: Case, preset: Preset | None) -> tuple[str, str]:
    """(urgency, the keyword that raised it or ""): the case's urgency, raised by a keyword
    of a higher level unless staff lowered a raised urgency (``urgency_overridden``)."""
    urgency = case.urgency or "normal"
    if preset is None or case.urgency_overridden:
        return urgency, case.urgency_keyword
    level, keyword = keyword_urgency(case, preset)
    if URGENCY_RANK[level] > URGENCY_RANK.get(urgency, 0):
        return level, keyword
    return urgency, case.urgency_keyword


def case_plan(case: Case, *, calendars: CalendarCache | None = None) -> CasePlan | None:
    """The plan for a case registered under a policy version; None without one."""
    version = policy_version_for_case(case)
    if version is None:
        return None
    preset = version.preset()
    calendar = (
        calendars.get(case.organization_id, version)
        if calendars is not None
        else held_calendar(case) or calendar_for(organization_id=case.organization_id, policy_version=version)
    )
    urgency, keyword = effective_urgency(case, preset)
    return CasePlan(
        policy_version=version,
        preset=preset,
        calendar=calendar,
        channel=case.channel,
        nature=case.nature,
        category=category_terms(case),
        urgency=urgency,
        urgency_keyword=keyword,
    )


def _escalation_snapshot(preset: Preset) -> list[dict[str, Any]]:
    return [
        {"role": s.role, "amount": s.after.amount, "unit": s.after.unit, "label": s.label} for s in preset.escalation
    ]


def _snapshot(plan: CasePlan, rule: ClockRule, **extra: Any) -> dict[str, Any]:
    return {
        **rule.to_json(),
        "escalation": _escalation_snapshot(plan.preset),
        "context": plan.context(),
        "policy": plan.policy_version.code,
        **extra,
    }


def clock_rule(clock: Clock) -> ClockRule:
    return ClockRule.from_json(clock.rule)


def grants_of(clock: Clock) -> list[Grant]:
    if clock.pk is None:
        return []
    return [
        Grant(amount=e.amount, unit=cast(Unit, e.unit))  # stored from the rule's unit, which is a Unit
        for e in clock.extensions.filter(status=ExtensionStatus.APPROVED).order_by("decided_at", "pk")
    ]


# --- the sweeper's steps ------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    action: str  # warn | overdue | escalate
    level: int
    at: datetime
    role: str = ""
    label: str = ""


def next_step(clock: Clock, calendar: BusinessCalendar, now: datetime | None = None) -> Step | None:
    """The next thing the sweeper must do on this clock, or None.

    With ``now``, a warning that would come at or after the due time is skipped
    (a late sweeper goes straight to "overdue"). Chain steps for the ``handler`` role
    are what the overdue notice itself does, so they are not separate steps.
    """
    if clock.state != ClockState.RUNNING:
        return None
    if clock.overdue_at is None:
        if (
            clock.warned_at is None
            and clock.warn_at is not None
            and clock.warn_at < clock.due_at
            and (now is None or now < clock.due_at)
        ):
            return Step("warn", clock.generation, clock.warn_at, "handler")
        return Step("overdue", 0, clock.due_at, "handler")
    due = timezone.localtime(clock.due_at)
    for level, step in enumerate(clock.rule.get("escalation", []), start=1):
        if level <= clock.escalation_level or step["role"] == "handler":
            continue
        at = escalation_at(calendar, due, int(step["amount"]), step["unit"])
        return Step("escalate", level, at, step["role"], step.get("label", ""))
    return None


def refresh_next_action(clock: Clock, calendar: BusinessCalendar) -> None:
    step = next_step(clock, calendar)
    clock.next_action_at = step.at if step is not None else None


def reschedule(clock: Clock, calendar: BusinessCalendar) -> None:
    """Recompute due and warning times from the snapshot, pauses and approved extensions."""
    result = schedule(
        clock_rule(clock),
        calendar,
        timezone.localtime(clock.started_at),
        paused_units=clock.paused_units,
        grants=grants_of(clock),
    )
    clock.due_at, clock.warn_at = result.due_at, result.warn_at
    refresh_next_action(clock, calendar)


def _save(clock: Clock, fields: list[str]) -> None:
    clock.version += 1
    clock.save(update_fields=[*fields, "version"])


# --- start / stop -------------------------------------------------------------------------


# A callback's rectification task must still be put right, and a question left open at the
# callback answered by the promised time, after the case closes or reopens.
OUTLIVES_CASE = ("callback_task", "callback_answer")


def active_clocks(case: Case, *, stages: tuple[str, ...] | list[str] | None = None):
    """The case's active clocks of the subjects the case lifecycle manages (not, e.g., a
    supervision notice's: that one lives by its notice)."""
    qs = Clock.objects.filter(case=case, state__in=ACTIVE, subject_kind__in=case_kinds())
    if stages is not None:
        qs = qs.filter(stage__in=stages)
    return qs.order_by("pk")


def is_suspended(case: Case) -> bool:
    return Suspension.objects.filter(case=case, ended_at__isnull=True).exists()


def clock_start(
    *,
    case: Case,
    plan: CasePlan,
    rule: ClockRule,
    started_at: datetime,
    extra: dict[str, Any] | None = None,
    subject_kind: str = CASE,
    subject_id: int | None = None,
    fresh: bool = False,
) -> Clock | None:
    """Start a clock for ``rule.stage`` in the case's current round; None when one is
    already running there. Starts paused while the case is suspended. ``fresh``: the case
    was registered in this transaction, so it has no clock and no suspension to look for."""
    if (
        not fresh
        and Clock.objects.filter(
            case=case, round=case.round, stage=rule.stage, state__in=ACTIVE, subject_kind__in=case_kinds()
        ).exists()
    ):
        return None
    clock = Clock(
        organization_id=case.organization_id,
        subject_kind=subject_kind,
        subject_id=subject_id if subject_id is not None else case.pk,
        case=case,
        round=case.round,
        stage=rule.stage,
        policy_version=plan.policy_version,
        rule=_snapshot(plan, rule, **(extra or {})),
        unit=rule.unit,
        started_at=started_at,
    )
    reschedule(clock, plan.calendar)
    if not fresh and is_suspended(case):
        CLOCK_STATES.move(clock, ClockState.PAUSED)
        clock.paused_at, clock.next_action_at = timezone.now(), None
    clock.save()
    return clock


def clocks_start_for(
    *,
    case: Case,
    plan: CasePlan,
    milestone: str,
    at: datetime,
    stages: tuple[str, ...] = MANAGED_STAGES,
    exclude: tuple[str, ...] = (),
    fresh: bool = False,
) -> list[Clock]:
    """Start the clocks whose matched rule counts from ``milestone`` (received, accepted,
    dispatched, replied, notified); ``fresh`` as ``clock_start``'s."""
    started = []
    switches = case.stage_switches or {}
    for stage in stages:
        if stage in exclude or (stage == "callback" and not switches.get("callback", True)):
            continue
        rule = plan.rule(stage)
        if rule is None or rule.clock_from != milestone:
            continue
        clock = clock_start(case=case, plan=plan, rule=ClockRule.from_preset(rule), started_at=at, fresh=fresh)
        if clock is not None:
            started.append(clock)
    return started


def clock_start_manual(
    *,
    case: Case,
    plan: CasePlan,
    stage: str,
    started_at: datetime,
    due_at: datetime,
    label: str = "",
    clock_from: str = "dispatched",
    subject_kind: str = CASE,
    subject_id: int | None = None,
) -> Clock | None:
    """A clock with a due time a person set (the dispatcher's 交办时限, a higher authority's
    report limit): elapsed minutes. ``clock_from`` says which events restart or stop it
    (a dispatcher's limit ends with the dispatch; an authority's does not)."""
    minutes = max(1, -(-int((due_at - started_at).total_seconds()) // 60))
    rule = ClockRule(
        stage=stage,
        amount=minutes,
        unit="minutes",
        clock_from=clock_from,
        label=label,
        source="manual",
    )
    return clock_start(
        case=case,
        plan=plan,
        rule=rule,
        started_at=started_at,
        extra={"manual_due_at": due_at.isoformat()},
        subject_kind=subject_kind,
        subject_id=subject_id,
    )


def _account_pause(clock: Clock, at: datetime, calendar: BusinessCalendar | None) -> None:
    """Fold an open pause into the clock's paused totals (the clock stays as it is)."""
    if clock.paused_at is None:
        return
    clock.paused_seconds += max(0, int((at - clock.paused_at).total_seconds()))
    if calendar is not None:
        clock.paused_units += paused_amount(
            clock.unit, calendar, timezone.localtime(clock.paused_at), timezone.localtime(at)
        )
    clock.paused_at = None


def clocks_stop(
    *,
    case: Case,
    at: datetime,
    reason: str,
    stages: tuple[str, ...] | list[str] | None = None,
    where: Q | None = None,
) -> list[Clock]:
    """Stop the case's active clocks (all rounds), optionally only some stages. Without
    ``stages`` a clock of a stage that outlives the case (OUTLIVES_CASE) keeps running."""
    qs = active_clocks(case, stages=stages)
    if stages is None:
        qs = qs.exclude(stage__in=OUTLIVES_CASE)
    if where is not None:
        qs = qs.filter(where)
    stopped = list(qs)
    for clock in stopped:
        _stop(clock, at, reason)
    return stopped


def _stop(clock: Clock, at: datetime, reason: str) -> None:
    _account_pause(clock, at, None)
    CLOCK_STATES.move(clock, ClockState.STOPPED)
    clock.stopped_at, clock.stop_reason, clock.next_action_at = at, reason, None
    _save(clock, ["state", "stopped_at", "stop_reason", "next_action_at", "paused_at", "paused_seconds"])
    if clock.case_id is not None:  # its warnings and overdue notices are stale on every desk
        desk_settle_keys(case_id=clock.case_id, key_prefix=f"clock:{clock.pk}:", at=at)


def clock_pause(clock: Clock, at: datetime) -> None:
    if not CLOCK_STATES.allows(clock.state, ClockState.PAUSED):
        return
    CLOCK_STATES.move(clock, ClockState.PAUSED)
    clock.paused_at, clock.next_action_at = at, None
    _save(clock, ["state", "paused_at", "next_action_at"])


def clock_resume(clock: Clock, at: datetime, calendar: BusinessCalendar) -> None:
    """Resume: the paused time (in the rule's unit semantics) moves due and warning later."""
    if not CLOCK_STATES.allows(clock.state, ClockState.RUNNING):
        return
    _account_pause(clock, at, calendar)
    CLOCK_STATES.move(clock, ClockState.RUNNING)
    reschedule(clock, calendar)
    _save(
        clock,
        [
            "state",
            "paused_at",
            "paused_seconds",
            "paused_units",
            "due_at",
            "warn_at",
            "next_action_at",
        ],
    )


# --- promised time on the receipt ----------------------------------------------------------


def promised_estimate(case: Case, policy_version: PolicyVersion, calendar: BusinessCalendar) -> datetime | None:
    """Due time of the case's overall rule, else reply rule, counted from receipt."""
    preset = policy_version.preset()
    urgency, _keyword = effective_urgency(case, preset)
    for stage in ("overall", "reply"):
        rule = preset.match_deadline(
            stage,
            channel=case.channel or None,
            nature=case.nature or None,
            category=category_terms(case),
            urgency=urgency or None,
        )
        if rule is not None:
            return schedule(ClockRule.from_preset(rule), calendar, timezone.localtime(case.received_at)).due_at
    return None


def sync_promised_due(case: Case, started: Iterable[Clock] | None = None) -> None:
    """Point ``case.promised_due_at`` at the current round's overall clock, else its reply
    clock, so receipts and the status page show the preset's limit. ``started``: the case
    was registered in this transaction and these are all its clocks (nothing to read)."""
    rows = (
        started
        if started is not None
        else Clock.objects.filter(case=case, round=case.round, stage__in=("overall", "reply"))
        .exclude(stop_reason__in=[StopReason.CANCELLED, StopReason.SUPERSEDED, StopReason.SENT_BACK])
        .order_by("pk")
    )
    clocks = {c.stage: c for c in rows if c.stage in ("overall", "reply")}
    clock = clocks.get("overall") or clocks.get("reply")
    if clock is not None and case.promised_due_at != clock.due_at:
        case.promised_due_at = clock.due_at
        case.save(update_fields=["promised_due_at"])


# --- re-planning after an edit ------------------------------------------------------------

_STAGE_PENDING = {
    "acceptance": ("registered",),
    "handover": ("registered", "accepted"),
    "investigation": ("registered", "accepted", "dispatched", "in_progress"),
    "dispatch": ("registered", "accepted"),
    "sign_for": ("dispatched",),
    "first_contact": ("registered", "accepted", "dispatched", "in_progress", "pending_approval"),
    "reply": ("registered", "accepted", "dispatched", "in_progress", "pending_approval"),
    "overall": ("registered", "accepted", "dispatched", "in_progress", "pending_approval"),
    "callback": ("replied",),
}
_MILESTONE_ACTIONS = {
    "accepted": ("accept", "reopen"),
    "dispatched": ("dispatch", "redispatch"),
    "replied": ("reply", "answer_on_spot"),
}


def milestone_time(case: Case, milestone: str) -> datetime | None:
    """When the milestone a rule counts from happened in the current round, if it did."""
    if milestone == "received":
        return case.received_at
    events = Event.objects.filter(case=case, round=case.round)
    if milestone == "notified":
        events = events.filter(kind=DeadlineEvent.UNIT_NOTIFIED)
    elif milestone in _MILESTONE_ACTIONS:
        events = events.filter(kind=EventKind.STATE_CHANGED, data__action__in=_MILESTONE_ACTIONS[milestone])
    else:
        return None
    return events.order_by("-id").values_list("at", flat=True).first()


def replan(case: Case, plan: CasePlan, at: datetime) -> None:
    """After an edit of channel/nature/category/urgency/text: move each active clock of the
    current round to the rule that now matches, and start clocks that now apply."""
    for clock in list(active_clocks(case).filter(round=case.round)):
        if clock.rule.get("source") == "manual":
            continue
        preset_rule = plan.rule(clock.stage)
        new = ClockRule.from_preset(preset_rule) if preset_rule is not None else None
        if new is not None and new == clock_rule(clock):
            continue
        start = milestone_time(case, new.clock_from) if new is not None else None
        if new is None or start is None:
            clocks_stop(case=case, at=at, reason=StopReason.SUPERSEDED, where=Q(pk=clock.pk))
            continue
        clock.rule = _snapshot(plan, new, replanned_at=at.isoformat())
        clock.unit, clock.started_at = new.unit, start
        reschedule(clock, plan.calendar)
        if clock.state == ClockState.PAUSED:
            clock.next_action_at = None
        _save(clock, ["rule", "unit", "started_at", "due_at", "warn_at", "next_action_at"])
    done = set(Clock.objects.filter(case=case, round=case.round).values_list("stage", flat=True))
    callback_on = (case.stage_switches or {}).get("callback", True)
    for stage, states in _STAGE_PENDING.items():
        if stage in done or case.state not in states or (stage == "callback" and not callback_on):
            continue
        rule = plan.rule(stage)
        if rule is None:
            continue
        start = milestone_time(case, rule.clock_from)
        if start is not None:
            clock_start(case=case, plan=plan, rule=ClockRule.from_preset(rule), started_at=start)


# --- clocks of other subjects (deadlines.subjects) -----------------------------------------


def subject_clock_start(
    *,
    organization_id: int,
    subject_kind: str,
    subject_id: int,
    stage: str,
    started_at: datetime,
    due_at: datetime,
    warn_at: datetime | None,
    escalation: list[dict[str, Any]] | None = None,
    case: Case | None = None,
    label: str = "",
) -> Clock:
    """A clock with a due time a person set, for a subject that is not a case stage (a
    supervision notice, an appointment...). ``escalation`` is the chain after the overdue
    step (``[{"role": "leader", "amount": 0, "unit": "minutes", "label": ""}]``); the
    subject's handler resolves what the roles mean. Call inside the subject's transaction."""
    minutes = max(1, -(-int((due_at - started_at).total_seconds()) // 60))
    rule = ClockRule(stage=stage, amount=minutes, unit="minutes", clock_from=subject_kind, label=label, source="manual")
    clock = Clock(
        organization_id=organization_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        case=case,
        stage=stage,
        rule={**rule.to_json(), "escalation": escalation or [], "manual_due_at": due_at.isoformat()},
        unit=rule.unit,
        started_at=started_at,
        due_at=due_at,
        warn_at=warn_at,
    )
    step = next_step(clock, BusinessCalendar())
    clock.next_action_at = step.at if step is not None else None
    clock.save()
    return clock


def subject_clocks_stop(*, subject_kind: str, subject_id: int, at: datetime, reason: str) -> list[Clock]:
    """Stop a subject's active clocks (the notice was answered or closed...)."""
    stopped = list(
        Clock.objects.select_for_update().filter(subject_kind=subject_kind, subject_id=subject_id, state__in=ACTIVE)
    )
    for clock in stopped:
        _stop(clock, at, reason)
    return stopped
