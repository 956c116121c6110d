"""From now on the interviewee's name reads and writes tokens."""

from django.db import migrations

import huiyin.core.fields


class Migration(migrations.Migration):
    dependencies = [("handling", "0002_interviewee_encrypted")]

    operations = [
        migrations.AlterField(
            model_name="investigation",
            name="interviewee",
            field=huiyin.core.fields.EncryptedTextField(blank=True, max_length=120, verbose_name="被调查人"),
        ),
    ]
