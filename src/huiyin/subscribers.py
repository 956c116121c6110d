"""The subscriber table: every app that reacts to a case event, in the order it runs.

This is the one file to read to know what happens when a case event is written. The case
core (``huiyin.cases.bus``) loads it at start-up (``settings.HUIYIN_EVENT_TABLE``) and
never names an app itself; an app that reacts to case events adds its rows here and
changes nothing in ``cases/``. Worked example: docs/architecture.md, "Adding a subscriber".

* ``KINDS``: every app's event kinds; a kind has exactly one owner.
* ``IN_TRANSACTION``: run in this order inside the transaction that wrote the event,
  with the case row locked; what they write commits or rolls back with the event.
* ``AFTER_COMMIT``: side effects, run by one task per committed event
  (``cases.tasks.dispatch_event_task``), each in its own transaction.
* ``GUARDS``: checks other apps impose before a lifecycle action; each raises an
  ``ApplicationError`` to refuse, before anything changes.
* ``CASE_PANELS`` / ``PUBLIC_PANELS`` / ``DESK_PANELS`` / ``DESK_SECTIONS``: what each app
  shows on the case page, the public status page and the desk, in this order.
* ``case_policy``: the policy a new case is registered under.
* ``erasers``: personal data other apps keep on a case, erased with the parties' by the
  retention rule (``huiyin retention apply``, ``cases.retention``).
* ``ACTIONS``: every verb on a case as an action spec (``huiyin.cases.actions``); each edge
  of the state table has exactly one.
"""

from __future__ import annotations

from huiyin.api import webhooks as api_webhooks
from huiyin.cases import actions as case_actions
from huiyin.cases import notifications as case_notifications
from huiyin.cases.bus import build_table, guard, subscriber
from huiyin.cases.events import EventKind
from huiyin.cases.panels import Panel
from huiyin.deadlines import panels as deadline_panels
from huiyin.deadlines import subscribers as deadlines
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.services import case_policy as deadline_policy
from huiyin.followup import services as followup_services
from huiyin.followup import subscribers as followup
from huiyin.handling import actions as handling_actions
from huiyin.handling import notifications as handling_notifications
from huiyin.handling import panels as handling_panels
from huiyin.handling import records as handling
from huiyin.handling import selectors as handling_selectors
from huiyin.handling.events import HandlingEvent
from huiyin.ops import panels as ops_panels
from huiyin.supervision import panels as supervision_panels
from huiyin.supervision.events import SupervisionEvent

TABLE = build_table(
    kinds=(EventKind, HandlingEvent, DeadlineEvent, SupervisionEvent),
    in_transaction=(
        # Deadline clocks first: callback planning reads the callback clock they start.
        subscriber(
            "deadlines.clocks",
            deadlines.on_case_event,
            kinds=deadlines.KINDS,
        ),
        subscriber(
            "followup.callback_planning",
            followup.on_case_event,
            kinds=(EventKind.STATE_CHANGED,),
            actions=followup.ACTIONS,
        ),
    ),
    after_commit=(
        subscriber("cases.sms_registered", case_notifications.sms_on_registered, kinds=(EventKind.REGISTERED,)),
        subscriber(
            "handling.desk_dispatched",
            handling_notifications.desk_on_dispatch,
            kinds=(EventKind.STATE_CHANGED,),
            actions=("dispatch",),
        ),
        subscriber(
            "handling.desk_approval",
            handling_notifications.desk_on_submit_for_approval,
            kinds=(EventKind.STATE_CHANGED,),
            actions=("submit_for_approval",),
        ),
        # Signed webhooks to the receivers the organisation registered (huiyin.api.webhooks).
        subscriber(
            "api.webhooks",
            api_webhooks.on_case_event,
            kinds=(EventKind.REGISTERED, EventKind.STATE_CHANGED, EventKind.NOTE, DeadlineEvent.DEADLINE_OVERDUE),
        ),
    ),
    case_policy=deadline_policy.policy_for_new_case,
    case_panels=(
        Panel("deadlines", "deadlines/_deadline_panel.html", deadline_panels.case_panel),
        Panel("handling", "handling/_panel.html", handling_panels.case_panel),
        Panel("supervision", "supervision/_case_panel.html", supervision_panels.case_panel),
    ),
    # The public status page (number + query code): each context function is a public
    # filter — stages, dates and the complainant's own letters, never staff or notes.
    public_panels=(
        Panel("deadlines", "deadlines/_public_panel.html", deadline_panels.public_panel),
        Panel("handling", "handling/_public_panel.html", handling_panels.public_panel),
    ),
    desk_panels=(
        Panel("system", "ops/_desk_system.html", ops_panels.desk_panel),
        Panel("deadlines", "deadlines/_desk_deadlines.html", deadline_panels.desk_panel),
    ),
    desk_sections=(
        ("approval", handling_selectors.desk_approvals),
        ("to_dispatch", handling_selectors.desk_to_dispatch),
    ),
    guards=(
        guard("handling.result_report_sent", handling.check_closable, actions=("close",)),
        guard("followup.head_decides", followup_services.refuse_while_head_decides, actions=("close", "reopen")),
    ),
    erasers=(("handling.interviewee_names", handling.erase_interviewees),),
)

ACTIONS = case_actions.register((*case_actions.SPECS, *handling_actions.SPECS))
