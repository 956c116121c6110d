"""PostgreSQL also refuses TRUNCATE on cases_event (a statement trigger: row triggers do not
see it). On SQLite, which has no TRUNCATE, this reinstalls the same two triggers."""

from django.db import migrations

from huiyin.cases.triggers import restore_event_triggers


def _previous(apps, schema_editor):
    """Backwards: the triggers as 0009 left them (UPDATE and DELETE only)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS cases_event_no_truncate ON cases_event")


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_attachment_erased")]

    operations = [migrations.RunPython(restore_event_triggers, _previous)]
