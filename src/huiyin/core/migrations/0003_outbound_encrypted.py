"""Personal data at rest (F81): an outbound message's recipient and text are encrypted.
The columns widen to text and the existing rows are encrypted in place here; 0004
changes the field class (reversing decrypts the rows back first)."""

from django.db import migrations, models

from huiyin.core.fields import decrypt_to_plain_rows, encrypt_plain_rows

FIELDS = ("recipient", "body")


def encrypt_messages(apps, schema_editor):
    encrypt_plain_rows(apps.get_model("core", "OutboundMessage"), FIELDS)


def decrypt_messages(apps, schema_editor):
    decrypt_to_plain_rows(apps.get_model("core", "OutboundMessage"), FIELDS)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]

    operations = [
        migrations.AlterField(model_name="outboundmessage", name="recipient", field=models.TextField()),
        migrations.RunPython(encrypt_messages, decrypt_messages, elidable=False),
    ]
