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
  shows on the case page, the public status page and the desk, in this order;
  ``INTAKE_PANELS``: what sits beside the staff intake forms (triage's suggestions).
* ``case_policy``: the policy a new case is registered under.
* ``erasers``: personal data other apps keep on a case, erased with the parties' by the
  retention rule (``huiyin retention apply``, ``cases.retention``); ``record_erasers``: what
  apps keep outside any case (the front office's visitors and guests, bookings), by the same rule.
* ``NOTIFICATION_LINK``: where messages to the complainant link to (``huiyin.notifications``).
* ``preset_checks``: what a preset must fit in the organisation's own data before it is
  applied (a rule keyed on a category needs a category that answers to it, ``policy.checks``).
* ``periodic``: work the sweeper does on a timetable (a yearly survey round when due, the
  files of background exports past their keeping time deleted).
* ``FRONT_OFFICE_CHECK_IN``: what runs when a visitor checks in at the front desk
  (``frontoffice.hooks``): the host is told.
* ``ACTIONS``: every verb on a case as an action spec (``huiyin.cases.actions``); each edge
  of the state table has exactly one.
"""

from __future__ import annotations

from huiyin.api import webhooks as api_webhooks
from huiyin.cases import actions as case_actions
from huiyin.cases import categories as case_categories
from huiyin.cases import notifications as case_notifications
from huiyin.cases.bus import build_table, guard, subscriber
from huiyin.cases.events import EventKind
from huiyin.cases.panels import Panel
from huiyin.core import export_jobs
from huiyin.deadlines import panels as deadline_panels
from huiyin.deadlines import subscribers as deadlines
from huiyin.deadlines.events import DeadlineEvent, EscalationReason
from huiyin.deadlines.services import case_policy as deadline_policy
from huiyin.followup import panels as followup_panels
from huiyin.followup import services as followup_services
from huiyin.followup import subscribers as followup
from huiyin.followup.events import FollowupEvent
from huiyin.followup.models import NoContactReason
from huiyin.frontoffice import retention as frontoffice_retention
from huiyin.handling import actions as handling_actions
from huiyin.handling import notifications as handling_notifications
from huiyin.handling import panels as handling_panels
from huiyin.handling import records as handling
from huiyin.handling import selectors as handling_selectors
from huiyin.handling import steps as handling_steps
from huiyin.handling.events import HandlingEvent
from huiyin.knowledge import panels as knowledge_panels
from huiyin.notifications import panels as notification_panels
from huiyin.notifications import subscribers as notifications
from huiyin.notifications import visitors as notification_visitors
from huiyin.notifications.events import NotificationsEvent
from huiyin.ops import panels as ops_panels
from huiyin.policy import panels as policy_panels
from huiyin.reception import panels as reception_panels
from huiyin.reception import retention as reception_retention
from huiyin.reception import services as reception_services
from huiyin.reports import subscribers as reports
from huiyin.supervision import panels as supervision_panels
from huiyin.supervision.events import SupervisionEvent
from huiyin.surveys import schedule as survey_schedule
from huiyin.triage import actions as triage_actions
from huiyin.triage import hot as triage_hot
from huiyin.triage import links as triage_links
from huiyin.triage import panels as triage_panels
from huiyin.triage import records as triage
from huiyin.triage import repeats as triage_repeats
from huiyin.triage.events import TriageEvent

# Where a message to the complainant sends them (the ``link`` of the notification
# templates): a dotted path to ``(case) -> absolute URL``: the case's own page on the portal
# (a signed, expiring link: status, answer, rating, review).
NOTIFICATION_LINK = "huiyin.portal.links.public_case_link"

TABLE = build_table(
    kinds=(EventKind, HandlingEvent, DeadlineEvent, SupervisionEvent, NotificationsEvent, FollowupEvent, TriageEvent),
    in_transaction=(
        # Safety keywords raise the urgency first: the clocks then time the case at it.
        subscriber("deadlines.urgency_keywords", deadlines.raise_urgency, kinds=deadlines.URGENCY_KINDS),
        # Deadline clocks first: callback planning reads the callback clock they start.
        subscriber(
            "deadlines.clocks",
            deadlines.on_case_event,
            kinds=deadlines.KINDS,
        ),
        subscriber("deadlines.written_notice", deadlines.on_written_notice, kinds=(HandlingEvent.DOCUMENT_ISSUED,)),
        # The first investigation record meets the clock that times it (property: 当天调查、核实).
        subscriber(
            "deadlines.investigation", deadlines.on_investigation, kinds=(HandlingEvent.INVESTIGATION_RECORDED,)
        ),
        subscriber(
            "followup.callback_planning",
            followup.on_case_event,
            kinds=(EventKind.STATE_CHANGED,),
            actions=followup.ACTIONS,
        ),
        # The receipt carries the query code, which exists in clear only in the registration's
        # transaction: its messages are queued there and sent by a task after commit.
        subscriber("notifications.receipt", notifications.receipt_on_registered, kinds=(EventKind.REGISTERED,)),
        # Likewise the one-use rating link, which exists in clear only where it is issued.
        subscriber(
            "notifications.rating_link",
            notifications.rating_link_on_issued,
            kinds=(FollowupEvent.RATING_LINK_ISSUED,),
        ),
        # The desk follows the case: a finished case's reminders are done, a settled one
        # (signed for, approved) too, and whoever moved the case has seen its reminders.
        subscriber("cases.desk_on_move", case_notifications.desk_on_move, kinds=(EventKind.STATE_CHANGED,)),
    ),
    after_commit=(
        subscriber(
            "cases.repeat_contact_notice",
            case_notifications.notify_repeat_contact,
            kinds=(EventKind.CONTACT_ADDED,),
        ),
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
        # Messages (F62): templates, the organisation's switches, opt-out, once per event and person.
        subscriber(
            "notifications.reply",
            notifications.reply_on_replied,
            kinds=(EventKind.STATE_CHANGED,),
            actions=("reply", "answer_on_spot"),
        ),
        subscriber(
            "notifications.decision",
            notifications.decision_on_decided,
            kinds=(EventKind.STATE_CHANGED,),
            actions=notifications.DECISION_ACTIONS,
        ),
        subscriber(
            "notifications.review_decision",
            notifications.review_on_decided,
            kinds=(EventKind.STATE_CHANGED,),
            actions=("decide_review", "decide_rereview"),
        ),
        subscriber(
            "notifications.extension",
            notifications.extension_on_decided,
            kinds=(DeadlineEvent.EXTENSION_DECIDED,),
        ),
        subscriber(
            "notifications.repeat_contact",
            notifications.staff_on_repeat_contact,
            kinds=(EventKind.CONTACT_ADDED,),
        ),
        subscriber(
            "notifications.dispatch",
            notifications.staff_on_dispatch,
            kinds=(EventKind.STATE_CHANGED,),
            actions=("dispatch", "redispatch"),
        ),
        subscriber(
            "notifications.approval",
            notifications.staff_on_approval,
            kinds=(EventKind.STATE_CHANGED,),
            actions=("submit_for_approval",),
        ),
        # 首问负责: the first receiver is told the matter was answered or closed, where the preset says so.
        subscriber(
            "notifications.first_receiver",
            notifications.first_receiver_on_finished,
            kinds=(EventKind.STATE_CHANGED,),
            actions=notifications.FIRST_RECEIVER_ACTIONS,
        ),
        # The result reported to the roles the preset names (property: 管理处主任).
        subscriber(
            "notifications.result_report",
            notifications.result_report_on_replied,
            kinds=(EventKind.STATE_CHANGED,),
            actions=notifications.RESULT_REPORT_ACTIONS,
        ),
        subscriber("notifications.deadlines", notifications.staff_on_deadline, kinds=notifications.DEADLINE_KINDS),
        # The dashboard's roll-ups: the consumer applies every event since its cursor.
        subscriber("reports.rollups", reports.on_event, kinds=reports.KINDS),
        # Signed webhooks to the receivers the organisation registered (huiyin.api.webhooks).
        subscriber(
            "api.webhooks",
            api_webhooks.on_case_event,
            kinds=(EventKind.REGISTERED, EventKind.STATE_CHANGED, EventKind.NOTE, DeadlineEvent.DEADLINE_OVERDUE),
        ),
        # What the clerk chose against what triage suggested (the corrections of the next training).
        subscriber("triage.choice_registered", triage.choice_on_registered, kinds=(EventKind.REGISTERED,)),
        subscriber("triage.choice_updated", triage.choice_on_updated, kinds=(EventKind.UPDATED,)),
        # 关联 marked on a repeat candidate of the intake form: the new case linked to it.
        subscriber("triage.intake_links", triage_links.links_on_registered, kinds=(EventKind.REGISTERED,)),
        # The text's MinHash bands, which the intake form's repeat candidates are found by.
        subscriber("triage.text_bands", triage_repeats.index_on_event, kinds=(EventKind.REGISTERED, EventKind.UPDATED)),
        # Hot issues (F52): the new or edited case put in its cluster of similar cases.
        subscriber("triage.hot_clusters", triage_hot.assign_on_event, kinds=(EventKind.REGISTERED, EventKind.UPDATED)),
        subscriber(
            "triage.choice_dispatched",
            triage.choice_on_dispatch,
            kinds=(EventKind.STATE_CHANGED,),
            actions=("dispatch", "redispatch"),
        ),
    ),
    case_policy=deadline_policy.policy_for_new_case,
    case_panels=(
        Panel("deadlines", "deadlines/_deadline_panel.html", deadline_panels.case_panel),
        Panel("handling", "handling/_panel.html", handling_panels.case_panel),
        Panel("supervision", "supervision/_case_panel.html", supervision_panels.case_panel),
        # Each round's callback (waiting, made, not reached, or 无法回访 with the reason) and the
        # answers promised at a callback (回访中不能当即答复的), by when, with the form that records one.
        Panel("followup", "followup/_case_panel.html", followup_panels.case_panel),
        Panel("notifications", "notifications/_case_panel.html", notification_panels.case_panel),
        # Related cases (关联), the merge's record, and this case's likely duplicates.
        Panel("triage", "triage/_case_panel.html", triage_panels.case_panel),
        # The knowledge base for the case's category, its past answers, the phrases of a call (F07).
        Panel("knowledge", "knowledge/_case_panel.html", knowledge_panels.case_panel),
    ),
    # The public status page (number + query code): each context function is a public
    # filter — stages, dates and the complainant's own letters, never staff or notes.
    public_panels=(
        Panel("deadlines", "deadlines/_public_panel.html", deadline_panels.public_panel),
        Panel("handling", "handling/_public_panel.html", handling_panels.public_panel),
    ),
    desk_panels=(
        Panel("system", "ops/_desk_system.html", ops_panels.desk_panel),
        Panel("calendar", "policy/_calendar_warnings.html", policy_panels.desk_panel),
        Panel("deadlines", "deadlines/_desk_deadlines.html", deadline_panels.desk_panel),
        Panel("reception", "reception/_desk_panel.html", reception_panels.desk_panel),
    ),
    # Beside the staff intake forms: triage's live suggestions (category, department, urgency).
    intake_panels=(Panel("triage", "triage/_intake_panel.html", triage_panels.intake_panel),),
    desk_sections=(
        ("approval", handling_selectors.desk_approvals),
        ("to_dispatch", handling_selectors.desk_to_dispatch),
    ),
    guards=(
        guard("handling.result_report_sent", handling.check_closable, actions=("close",)),
        guard("handling.required_before_reply", handling_steps.check_reply, actions=("reply",)),
        guard("followup.head_decides", followup_services.refuse_while_head_decides, actions=("close", "reopen")),
    ),
    erasers=(
        ("handling.interviewee_names", handling.erase_interviewees),
        ("notifications.recipients_and_texts", notifications.erase_personal_data),
        ("reception.visitors", reception_services.erase_visitors),
    ),
    # Personal data kept outside any case, erased by the same rule from its own date.
    record_erasers=(
        ("frontoffice.visitors", frontoffice_retention.erase_visitors),
        ("frontoffice.guests_and_receipts", frontoffice_retention.erase_guests),
        ("reception.bookings_without_case", reception_retention.erase_bookings),
    ),
    preset_checks=(("cases.category_rules", case_categories.preset_problems),),
    periodic=(
        ("surveys.scheduled_rounds", 3600.0, survey_schedule.rounds_due),
        ("core.export_files", 3600.0, export_jobs.purge),
    ),
    value_labels={
        (DeadlineEvent.ESCALATED, "reason"): EscalationReason,
        (FollowupEvent.NO_CONTACT, "no_contact_reason"): NoContactReason,
    },
)

# A visitor checked in at the front desk (``frontoffice.hooks``, after commit): the host is told.
FRONT_OFFICE_CHECK_IN = (notification_visitors.host_on_check_in,)

ACTIONS = case_actions.register((*case_actions.SPECS, *handling_actions.SPECS, *triage_actions.SPECS))
