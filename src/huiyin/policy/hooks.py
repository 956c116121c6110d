"""Where the case lifecycle tells the policy engine what happened.

Called by cases.services inside the transaction that wrote the event, so the
deadline clocks change atomically with the case state they follow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huiyin.cases.models import Case, Event


def on_case_event(*, case: Case, event: Event) -> None:
    """Start, stop, pause or resume the case's deadline clocks for this event."""
