"""The reports' row in the case event bus: after an event commits, the roll-up consumer
catches up (``rollups.catch_up``). Nothing runs in the event's own transaction: intake
pays nothing for the statistics, and a consumer that fails or dies leaves its cursor
where it was, for the next event's run (or ``huiyin reports catchup``) to go on from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyin.cases.events import EventKind
from huiyin.deadlines.events import DeadlineEvent

from .rollups import catch_up

if TYPE_CHECKING:
    from huiyin.cases.models import Event

# The kinds that can change what a case contributes (the consumer reads every event since
# its cursor whichever one wakes it; these only decide when it wakes).
KINDS = (
    EventKind.REGISTERED,
    EventKind.STATE_CHANGED,
    EventKind.CONTACT_ADDED,
    EventKind.UPDATED,
    EventKind.NOTE,
    DeadlineEvent.DEADLINE_OVERDUE,
    DeadlineEvent.SUSPENDED,
    DeadlineEvent.RESUMED,
    DeadlineEvent.EXTENSION_DECIDED,
    DeadlineEvent.UNIT_NOTIFIED,
    DeadlineEvent.PLAN_RECEIVED,
)
# At most this many batches per wake-up: a first run over a long history is left to
# `huiyin reports rebuild`, not to one event's task.
MAX_BATCHES = 20


def on_event(*, event: Event) -> None:
    catch_up(max_batches=MAX_BATCHES)
