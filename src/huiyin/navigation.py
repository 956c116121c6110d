"""The staff navigation bar: which sections it offers the signed-in user.

Each flag is the owning app's own predicate, so the bar and the pages behind it give the
same answer; ``base.html`` reads ``nav``, never roles or capabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from huiyin.administration.permissions import may_manage_staff
from huiyin.cases.permissions import may_register
from huiyin.evaluation.permissions import may_see_evaluation
from huiyin.followup.permissions import may_use_callback_desk
from huiyin.frontoffice.permissions import may_set_up, may_use_guest_reception, may_use_visitor_log
from huiyin.knowledge.permissions import may_read_knowledge
from huiyin.notifications.permissions import may_edit_templates, may_handle_mail, may_set_own_contact
from huiyin.ops.permissions import may_see_system_status
from huiyin.orgs.permissions import may_administer
from huiyin.policy.services.calendars import YearWarning, unknown_year_warnings
from huiyin.reception.permissions import may_view_reception
from huiyin.reports.permissions import may_see_dashboard, may_see_reports
from huiyin.supervision.permissions import may_daily_review, may_see_board
from huiyin.surveys.permissions import may_view_surveys
from huiyin.triage.permissions import may_manage_models, may_see_hot_issues


@dataclass(frozen=True)
class Navigation:
    supervision_board: bool
    callbacks: bool
    surveys: bool
    evaluation: bool
    daily_review: bool
    administration: bool  # deadline policies, working calendar, document templates
    intake: bool
    staff_admin: bool  # the organisation's staff accounts and departments
    system_status: bool  # processes, restarts, failed background tasks
    notification_templates: bool  # message texts and what goes out
    parked_mail: bool  # mail the e-mail channel could not register by itself
    my_contact: bool  # where my own notices go besides the desk
    visitors: bool  # the visitor log: the day's visitors (front desk) or my own (hosts)
    guest_reception: bool  # company guest reception: requests, approval, expenses
    reception_setup: bool  # which departments are the administrative office and finance
    triage_models: bool  # the routing model's versions, retraining, rollback
    dashboard: bool = False  # the statistics dashboard (统计分析)
    reports: bool = False  # the periodic analysis reports
    reception: bool = False  # visits booked and received, the reception calendars
    hot_issues: bool = False  # clusters of similar cases, ranked by heat (F52)
    knowledge: bool = False  # the knowledge base: policies, standard answers, past answers (F07)


def _calendar_warnings(user: Any) -> list[YearWarning]:
    """Years the holiday package does not know, for administrators (policy.services.calendars)."""
    if not may_administer(user):
        return []
    return unknown_year_warnings(today=timezone.localdate(), organization_id=user.organization_id)


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``nav`` for a signed-in user, nothing otherwise; and
    ``calendar_warnings``, evaluated only by the administrators' pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "calendar_warnings": partial(_calendar_warnings, user),
        "nav": Navigation(
            supervision_board=may_see_board(user),
            callbacks=may_use_callback_desk(user),
            surveys=may_view_surveys(user),
            evaluation=may_see_evaluation(user),
            daily_review=may_daily_review(user),
            administration=may_administer(user),
            intake=may_register(user),
            staff_admin=may_manage_staff(user),
            system_status=may_see_system_status(user),
            notification_templates=may_edit_templates(user),
            parked_mail=may_handle_mail(user),
            my_contact=may_set_own_contact(user),
            dashboard=may_see_dashboard(user),
            reports=may_see_reports(user),
            reception=may_view_reception(user),
            visitors=may_use_visitor_log(user),
            guest_reception=may_use_guest_reception(user),
            reception_setup=may_set_up(user),
            triage_models=may_manage_models(user),
            hot_issues=may_see_hot_issues(user),
            knowledge=may_read_knowledge(user),
        ),
    }
