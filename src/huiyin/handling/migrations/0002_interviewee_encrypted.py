"""Personal data at rest (F81): the interviewee's name on an investigation record is
encrypted. The column widens to text and the existing rows are encrypted in place
here; 0003 changes the field class (reversing decrypts the rows back first)."""

from django.db import migrations, models

from huiyin.core.fields import decrypt_to_plain_rows, encrypt_plain_rows


def encrypt_interviewees(apps, schema_editor):
    encrypt_plain_rows(apps.get_model("handling", "Investigation"), ("interviewee",))


def decrypt_interviewees(apps, schema_editor):
    decrypt_to_plain_rows(apps.get_model("handling", "Investigation"), ("interviewee",))


class Migration(migrations.Migration):
    dependencies = [("handling", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="investigation",
            name="interviewee",
            field=models.TextField(blank=True, verbose_name="被调查人"),
        ),
        migrations.RunPython(encrypt_interviewees, decrypt_interviewees, elidable=False),
    ]
