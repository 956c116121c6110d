"""The deadline engine times supervision notices: a clock (subject kind
``supervision_notice``, stage ``supervision``) for every notice still waiting on its
department, carrying its warned / overdue / escalation progress and its pending step
time, and a ClockAction for every step the supervision sweeper had taken, so the one
deadline sweeper neither repeats nor skips a step. ``SupervisionAction`` rows are kept
(no longer written); the notices' own ``next_action_at`` is cleared (no longer read)."""

from django.db import migrations

KIND = "supervision_notice"
STAGE = "supervision"
WAITING = ("open", "overdue")
ESCALATION = [{"role": "leader", "amount": 0, "unit": "minutes", "label": ""}]  # ESCALATE_AFTER = 0
ROLE = {"warn": "handler", "overdue": "handler", "escalate": "leader"}


def notice_clocks(apps, schema_editor):
    Clock = apps.get_model("deadlines", "Clock")
    ClockAction = apps.get_model("deadlines", "ClockAction")
    SupervisionNotice = apps.get_model("supervision", "SupervisionNotice")
    SupervisionAction = apps.get_model("supervision", "SupervisionAction")
    for notice in SupervisionNotice.objects.filter(state__in=WAITING).order_by("pk").iterator():
        if Clock.objects.filter(subject_kind=KIND, subject_id=notice.pk).exists():
            continue
        minutes = max(1, -(-int((notice.due_at - notice.created_at).total_seconds()) // 60))
        rule = {
            "stage": STAGE,
            "amount": minutes,
            "unit": "minutes",
            "clock_from": KIND,
            "start": "immediate",
            "roll": "none",
            "warn_fraction": 0.75,
            "label": notice.number,
            "source": "manual",
            "escalation": ESCALATION,
            "manual_due_at": notice.due_at.isoformat(),
        }
        clock = Clock.objects.create(
            organization_id=notice.organization_id,
            subject_kind=KIND,
            subject_id=notice.pk,
            case_id=notice.case_id,
            stage=STAGE,
            rule=rule,
            unit="minutes",
            started_at=notice.created_at,
            due_at=notice.due_at,
            warn_at=notice.warn_at,
            state="running",
            warned_at=notice.warned_at,
            overdue_at=notice.overdue_at,
            escalation_level=notice.escalation_level,
            next_action_at=notice.next_action_at,
        )
        ClockAction.objects.bulk_create(
            ClockAction(
                clock=clock,
                action=done.action,
                level=done.level,
                role=ROLE.get(done.action, ""),
                scheduled_for=done.scheduled_for,
                at=done.at,
                worker_id=done.worker_id,
                event_id=done.event_id,
                recipients=done.recipients,
            )
            for done in SupervisionAction.objects.filter(notice=notice).order_by("pk")
        )
    SupervisionNotice.objects.filter(next_action_at__isnull=False).update(next_action_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("deadlines", "0002_clock_subject"),
        ("supervision", "0001_initial"),
    ]

    operations = [migrations.RunPython(notice_clocks, migrations.RunPython.noop)]
