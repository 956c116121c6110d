"""From now on a party's personal fields read and write tokens; look-ups use the hashes."""

from django.db import migrations, models

import huiyin.core.fields


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_party_encrypt_rows")]

    operations = [
        # 3. From now on the model reads and writes tokens.
        migrations.AlterField(
            model_name="party",
            name="address",
            field=huiyin.core.fields.EncryptedTextField(blank=True, max_length=200, verbose_name="地址"),
        ),
        migrations.AlterField(
            model_name="party",
            name="id_number",
            field=huiyin.core.fields.EncryptedTextField(blank=True, max_length=18, verbose_name="身份证号码"),
        ),
        migrations.AlterField(
            model_name="party",
            name="name",
            field=huiyin.core.fields.EncryptedTextField(blank=True, max_length=60, verbose_name="姓名"),
        ),
        migrations.AlterField(
            model_name="party",
            name="phone",
            field=huiyin.core.fields.EncryptedTextField(blank=True, max_length=30, verbose_name="联系电话"),
        ),
        # The old index was on the phone itself; look-ups now go through the hashes.
        migrations.RemoveIndex(model_name="party", name="party_org_phone"),
        migrations.AddIndex(
            model_name="party",
            index=models.Index(fields=["organization", "phone_hash"], name="party_org_phone_hash"),
        ),
        migrations.AddIndex(
            model_name="party",
            index=models.Index(fields=["organization", "id_number_hash"], name="party_org_id_hash"),
        ),
    ]
