"""From now on an outbound message's recipient and text read and write tokens."""

from django.db import migrations

import huiyin.core.fields


class Migration(migrations.Migration):
    dependencies = [("core", "0003_outbound_encrypted")]

    operations = [
        migrations.AlterField(
            model_name="outboundmessage",
            name="recipient",
            field=huiyin.core.fields.EncryptedTextField(max_length=120),
        ),
        migrations.AlterField(
            model_name="outboundmessage",
            name="body",
            field=huiyin.core.fields.EncryptedTextField(),
        ),
    ]
