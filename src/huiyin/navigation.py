"""The staff navigation bar: which sections it offers the signed-in user.

Each flag is the owning app's own predicate, so the bar and the pages behind it give the
same answer; ``base.html`` reads ``nav``, never roles or capabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from huiyin.administration.permissions import may_manage_staff
from huiyin.cases.permissions import may_register
from huiyin.evaluation.permissions import may_see_evaluation
from huiyin.followup.permissions import may_use_callback_desk
from huiyin.ops.permissions import may_see_system_status
from huiyin.orgs.permissions import may_administer
from huiyin.reports.permissions import may_see_dashboard, may_see_reports
from huiyin.supervision.permissions import may_daily_review, may_see_board
from huiyin.surveys.permissions import may_view_surveys


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
    dashboard: bool = False  # the statistics dashboard (统计分析)
    reports: bool = False  # the periodic analysis reports


def navigation(request: HttpRequest) -> dict[str, Navigation]:
    """Context processor: ``nav`` for a signed-in user, nothing otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
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
            dashboard=may_see_dashboard(user),
            reports=may_see_reports(user),
        )
    }
