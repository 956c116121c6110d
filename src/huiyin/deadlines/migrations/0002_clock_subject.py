"""Clocks for any subject: ``subject_kind`` and ``subject_id`` (the case's id for case
clocks); a rectification task's clock (stage ``callback_task``) is the task's. The case
becomes optional. The one-active-clock-per-stage rule now holds per subject, which is
the same for every existing case clock."""

from django.db import migrations, models
from django.db.models import F

TASK_STAGE = "callback_task"


def fill_subjects(apps, schema_editor):
    Clock = apps.get_model("deadlines", "Clock")
    RectificationTask = apps.get_model("followup", "RectificationTask")
    Clock.objects.filter(subject_id__isnull=True).update(subject_id=F("case_id"))
    for clock in Clock.objects.filter(stage=TASK_STAGE).only("pk", "case_id", "started_at").iterator():
        tasks = RectificationTask.objects.filter(case_id=clock.case_id)
        task = tasks.filter(created_at=clock.started_at).order_by("pk").first() or tasks.order_by("pk").first()
        if task is not None:
            Clock.objects.filter(pk=clock.pk).update(subject_kind="rectification_task", subject_id=task.pk)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_handling_fields"),
        ("deadlines", "0001_initial"),
        ("followup", "0003_rectificationtask"),
    ]

    operations = [
        migrations.AddField(
            model_name="clock",
            name="subject_kind",
            field=models.CharField(default="case", max_length=32),
        ),
        migrations.AddField(
            model_name="clock",
            name="subject_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(fill_subjects, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="clock", name="clock_one_active_per_stage"),
        migrations.AddConstraint(
            model_name="clock",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "stopped"), _negated=True),
                fields=("subject_kind", "subject_id", "round", "stage"),
                name="clock_one_active_per_subject_stage",
            ),
        ),
        migrations.AddIndex(
            model_name="clock",
            index=models.Index(fields=["subject_kind", "subject_id"], name="clock_subject"),
        ),
        migrations.AlterField(
            model_name="clock",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.CASCADE,
                related_name="clocks",
                to="cases.case",
            ),
        ),
    ]
