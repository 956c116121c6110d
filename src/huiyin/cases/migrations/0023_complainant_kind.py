"""``Case.complainant_kind``: who the complainant is where the policy receives each kind in
its own office (the hospital's 门诊 / 住院, ``intake.complainant_kinds``); blank elsewhere."""

import importlib

from django.db import migrations, models


def restore_search_triggers(apps, schema_editor):
    """SQLite rebuilds cases_case for the added column and drops the FTS5 triggers
    (see 0006_handling_fields): put them back."""
    importlib.import_module("huiyin.cases.migrations.0006_handling_fields").restore_search_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0022_merged_state_contact_copies"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="complainant_kind",
            field=models.CharField(blank=True, max_length=20, verbose_name="反映人类别"),
        ),
        migrations.RunPython(restore_search_triggers, migrations.RunPython.noop),
    ]
