"""From now on a webhook's signing secret reads and writes tokens."""

from django.db import migrations

import huiyin.core.fields


class Migration(migrations.Migration):
    dependencies = [("api", "0004_webhook_secret_encrypted")]

    operations = [
        migrations.AlterField(
            model_name="webhook",
            name="secret",
            field=huiyin.core.fields.EncryptedTextField(max_length=128),
        ),
    ]
