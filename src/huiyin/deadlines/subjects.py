"""What a clock times: its subject. One clock model, one sweeper and one exactly-once
mechanism (``ClockAction`` unique per clock and step) serve every subject; each app
registers the subject kinds it times, with a handler that says, for a due step (warn,
overdue, escalate level n), whom to notify, which event to record (and on what), and
what its desk entry says.

    subject kind           registered by   clock.case
    case                   deadlines       the case (a stage of one handling round)
    rectification_task     deadlines       the task's case (the callback's 整改 notice)
    supervision_notice     supervision     the notice's case
    appointment            reception       none (a booked visit: reminder, then not come)
    callback_answer        followup        the promise's case (an answer promised at a callback)
    (later) report_due

The case lifecycle (``deadlines.subscribers``), the case page's deadline panel and the
desk alerts see only the clocks of kinds registered with ``follows_case=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from huiyin.cases.models import Case, Event
    from huiyin.core.reminders import ReminderText
    from huiyin.orgs.models import Staff

    from .models import Clock
    from .notify import Directory
    from .services.clocks import Step

CASE = "case"
RECTIFICATION_TASK = "rectification_task"
SUPERVISION_NOTICE = "supervision_notice"


@dataclass(frozen=True)
class DueStep:
    """A step the sweeper is taking: the clock (locked), its case (locked, or None for a
    subject without one), the step, and the batch's staff directory."""

    clock: Clock
    case: Case | None
    step: Step
    now: datetime
    directory: Directory
    # Where history is recreated (the demo), the moment the step's event and desk entries
    # carry; None: the time they are written.
    stamp: datetime | None = None


class SubjectHandler(Protocol):
    # The case lifecycle starts/stops/pauses these clocks and the case page shows them.
    follows_case: bool

    def recipients(self, due: DueStep) -> tuple[list[Staff], bool]:
        """(who hears of the step, whether a fallback chose them)."""
        ...

    def record(self, due: DueStep, recipients: list[Staff], fell_back: bool) -> Event | None:
        """Record the step (an event, on whatever it belongs to) and update the subject;
        the event's notices (e-mail...) are sent after commit. Runs once per step."""
        ...

    def desk(self, due: DueStep) -> tuple[str, ReminderText | None]:
        """(idempotency key, words) of the recipients' desk entry (None: no entry)."""
        ...


_handlers: dict[str, SubjectHandler] = {}


def register(kind: str, handler: SubjectHandler) -> None:
    """Register (or replace) the handler of a subject kind; call from AppConfig.ready()."""
    if len(kind) > 32:
        raise ValueError(f"subject kind {kind!r} is longer than 32 characters")
    _handlers[kind] = handler


def unregister(kind: str) -> None:
    _handlers.pop(kind, None)


def handler_for(kind: str) -> SubjectHandler:
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no deadline subject handler registered for {kind!r}") from None


def case_kinds() -> tuple[str, ...]:
    """Subject kinds the case lifecycle manages and the case page shows."""
    return tuple(kind for kind, handler in _handlers.items() if handler.follows_case) or (CASE,)
