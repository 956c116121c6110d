"""A webhook's signing secret at rest (issue 18): the column widens to text and the existing
secrets are encrypted in place here; 0005 changes the field class (reversing decrypts the
rows back first). The secret must be read back to sign each delivery, so it is encrypted
(core.crypto, with the personal data's keys and rotation), not hashed like an API key."""

from django.db import migrations, models

from huiyin.core.fields import decrypt_to_plain_rows, encrypt_plain_rows

FIELDS = ("secret",)


def encrypt_secrets(apps, schema_editor):
    encrypt_plain_rows(apps.get_model("api", "Webhook"), FIELDS)


def decrypt_secrets(apps, schema_editor):
    decrypt_to_plain_rows(apps.get_model("api", "Webhook"), FIELDS)


class Migration(migrations.Migration):
    dependencies = [("api", "0003_open311_submissions")]

    operations = [
        migrations.AlterField(model_name="webhook", name="secret", field=models.TextField()),
        migrations.RunPython(encrypt_secrets, decrypt_secrets, elidable=False),
    ]
