"""The deadline models moved to the ``deadlines`` app: state only. Their tables stay
where they are (``deadlines`` keeps the names with ``db_table``), so no row moves and
none is lost."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("policy", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="clock",
                    name="case",
                ),
                migrations.RemoveField(
                    model_name="clock",
                    name="organization",
                ),
                migrations.RemoveField(
                    model_name="clock",
                    name="policy_version",
                ),
                migrations.RemoveField(
                    model_name="clockaction",
                    name="clock",
                ),
                migrations.RemoveField(
                    model_name="extension",
                    name="clock",
                ),
                migrations.RemoveField(
                    model_name="clockaction",
                    name="event",
                ),
                migrations.RemoveField(
                    model_name="extension",
                    name="case",
                ),
                migrations.RemoveField(
                    model_name="extension",
                    name="decided_by",
                ),
                migrations.RemoveField(
                    model_name="extension",
                    name="requested_by",
                ),
                migrations.RemoveField(
                    model_name="suspension",
                    name="case",
                ),
                migrations.RemoveField(
                    model_name="suspension",
                    name="ended_by",
                ),
                migrations.RemoveField(
                    model_name="suspension",
                    name="started_by",
                ),
                migrations.DeleteModel(
                    name="SweeperHeartbeat",
                ),
                migrations.DeleteModel(
                    name="Clock",
                ),
                migrations.DeleteModel(
                    name="ClockAction",
                ),
                migrations.DeleteModel(
                    name="Extension",
                ),
                migrations.DeleteModel(
                    name="Suspension",
                ),
            ],
            database_operations=[],
        ),
    ]
