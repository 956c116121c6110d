"""The supervision sweeper: notices whose ``next_action_at`` has come, in batches.

Same rules as ``policy.sweeper`` (read its docstring): ``SELECT ... FOR UPDATE SKIP
LOCKED`` on the notices and then on their cases (PostgreSQL; on SQLite the IMMEDIATE
transaction makes sweepers take turns), one transaction per batch, and one
SupervisionAction row per step, unique on (notice, action, level), so a step is never
taken twice. Steps:

* warn (at ``warn_at``, 75 % of the allowance): the target department's heads;
* overdue (at ``due_at``): the notice becomes overdue; the department's heads and the
  issuer hear of it;
* escalate (level 1, ``ESCALATE_AFTER`` later): the organisation's leaders.

Every step is an Event on the case and a desk entry for each recipient; e-mail goes
through the deadline engine's notice task on commit.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case
from huiyin.core.notify import desk_notify
from huiyin.deadlines.notify import Directory
from huiyin.deadlines.sweeper import SweepResult, default_worker_id, sweep_batch, until_idle
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role

from .models import NoticeState, SupervisionAction, SupervisionNotice
from .services import Step, next_action_at, next_step, notice_title, record_event

_MAX_STEPS = 8
_EVENT_STEP = {"warn": "warning", "overdue": "overdue", "escalate": "escalated"}


# Same counters as the deadline sweeper's: one result type, one batch runner, one until-idle loop.
SupervisionSweepResult = SweepResult


def _recipients(step: Step, notice: SupervisionNotice, directory: Directory) -> list[Staff]:
    org = notice.organization_id
    heads = directory.dept_heads(org, notice.department_id)
    issuer = directory.get(org, notice.issued_by_id)
    if step.action == "warn":
        people = heads
    elif step.action == "overdue":
        people = [*heads, *([issuer] if issuer else [])]
    else:
        people = directory.with_role(org, Role.LEADER)
    if not people:  # nobody left unaware: the leaders, the administrators, the issuer
        people = directory.with_role(org, Role.LEADER) or directory.with_role(org, Role.ADMIN)
        people = people or ([issuer] if issuer else [])
    seen: set[int] = set()
    return [p for p in people if not (p.pk in seen or seen.add(p.pk))]


def _desk_text(step: Step, notice: SupervisionNotice, case: Case) -> str:
    values = {
        "title": notice_title(notice, case),
        "due": timezone.localtime(notice.due_at).strftime("%Y-%m-%d %H:%M"),
    }
    if step.action == "warn":
        return _("【督办预警】%(title)s：将于 %(due)s 到期，请及时反馈") % values
    if step.action == "overdue":
        return _("【督办逾期】%(title)s：已于 %(due)s 到期未反馈") % values
    return _("【督办逾期升级】%(title)s：已于 %(due)s 到期未反馈，请领导督促") % values


def _mark(notice: SupervisionNotice, step: Step, at: datetime) -> list[str]:
    if step.action == "warn":
        notice.warned_at = at
        return ["warned_at"]
    if step.action == "overdue":
        notice.overdue_at, notice.state = at, NoticeState.OVERDUE
        return ["overdue_at", "state"]
    notice.escalation_level = max(notice.escalation_level, step.level)
    return ["escalation_level"]


def _enqueue_notice(event_id: int) -> None:
    from huiyin.deadlines.tasks import deadline_notice_task

    transaction.on_commit(partial(deadline_notice_task.enqueue, event_id=event_id))


def perform_step(
    *,
    notice: SupervisionNotice,
    case: Case,
    step: Step,
    now: datetime,
    worker_id: str,
    directory: Directory,
) -> tuple[SupervisionAction | None, list[str]]:
    """Take one step on a notice whose row and case row the caller has locked."""
    recipients = _recipients(step, notice, directory)
    try:
        with transaction.atomic():
            action = SupervisionAction.objects.create(
                notice=notice,
                action=step.action,
                level=step.level,
                scheduled_for=step.at,
                at=now,
                worker_id=worker_id[:120],
                recipients=[r.pk for r in recipients],
            )
    except IntegrityError:
        done = SupervisionAction.objects.filter(notice=notice, action=step.action, level=step.level).first()
        return None, _mark(notice, step, done.at if done else now)
    fields = _mark(notice, step, now)
    event = record_event(
        case,
        step=_EVENT_STEP[step.action],
        actor=None,
        notice=notice,
        note=_desk_text(step, notice, case),
        level=step.level,
        scheduled_for=timezone.localtime(step.at),
        recipients=[r.pk for r in recipients],
    )
    action.event = event
    action.save(update_fields=["event"])
    desk_notify(
        recipients=recipients,
        case=case,
        key=f"supervision:{notice.pk}:{step.action}:{step.level}",
        text=_desk_text(step, notice, case),
    )
    _enqueue_notice(event.pk)
    return action, fields


def _process(
    notice: SupervisionNotice,
    case: Case,
    *,
    now: datetime,
    worker_id: str,
    directory: Directory,
    result: SupervisionSweepResult,
) -> None:
    changed: set[str] = set()
    for _n in range(_MAX_STEPS):
        step = next_step(notice, now)
        if step is None or step.at > now:
            break
        action, fields = perform_step(
            notice=notice, case=case, step=step, now=now, worker_id=worker_id, directory=directory
        )
        changed.update(fields)
        if action is None:
            result.duplicates += 1
        else:
            result.actions[step.action] += 1
    notice.next_action_at = next_action_at(notice)
    notice.save(update_fields=[*sorted(changed), "next_action_at"])


def supervision_sweep(
    *,
    now: datetime | None = None,
    batch: int = 200,
    worker_id: str | None = None,
    pause_between: float = 0.0,
) -> SupervisionSweepResult:
    """One pass over notices due by ``now``, in one transaction."""
    now = now or timezone.now()
    worker_id = worker_id or default_worker_id()
    result = SupervisionSweepResult()
    directory = Directory()

    def process(notice: SupervisionNotice, case: Case) -> None:
        _process(notice, case, now=now, worker_id=worker_id, directory=directory, result=result)

    return sweep_batch(
        SupervisionNotice.objects.filter(next_action_at__lte=now).order_by("next_action_at", "pk"),
        now=now,
        batch=batch,
        related=("department",),
        process=process,
        result=result,
        label="supervision sweeper: notice",
        pause_between=pause_between,
    )


def supervision_sweep_until_idle(
    *,
    now: datetime | None = None,
    batch: int = 200,
    worker_id: str | None = None,
    max_passes: int = 1000,
) -> SweepResult:
    return until_idle(supervision_sweep, batch=batch, max_passes=max_passes, now=now, worker_id=worker_id)
