"""Personal data at rest (F81): a party's name, phone, ID number and address become
encrypted text (core.fields.EncryptedTextField), with keyed hashes of the phone and ID
number for exact look-ups. The columns widen to text here, 0012 encrypts the existing
rows in place (hashes filled from the plain values), 0013 changes the field class;
reversing decrypts the rows back to plain text before narrowing the columns."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_event_delivery"),
        ("orgs", "0003_external_systems"),
    ]

    operations = [
        migrations.AddField(
            model_name="party",
            name="erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="party",
            name="id_number_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="party",
            name="phone_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        # 1. Wide enough for a token, still read as plain text.
        migrations.AlterField(
            model_name="party", name="address", field=models.TextField(blank=True, verbose_name="地址")
        ),
        migrations.AlterField(
            model_name="party", name="id_number", field=models.TextField(blank=True, verbose_name="身份证号码")
        ),
        migrations.AlterField(model_name="party", name="name", field=models.TextField(blank=True, verbose_name="姓名")),
        migrations.AlterField(
            model_name="party", name="phone", field=models.TextField(blank=True, verbose_name="联系电话")
        ),
    ]
