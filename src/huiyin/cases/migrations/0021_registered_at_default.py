"""``Case.registered_at``: a default instead of ``auto_now_add``, so a registration writes the
case in one INSERT with its registration time (a recreated history's own time included)
instead of an INSERT and an UPDATE. Neither is a database default, so only Django's state
changes: an ALTER would make SQLite rebuild the table and drop its full-text triggers."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0020_case_scope_departments")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="registered_at",
                    field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="登记时间"),
                ),
            ]
        )
    ]
