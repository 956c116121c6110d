"""Encrypt the existing parties in place and fill the look-up hashes (its own
transaction: PostgreSQL refuses to alter a table with pending trigger events)."""

from django.db import migrations

from huiyin.core.fields import decrypt_to_plain_rows, encrypt_plain_rows
from huiyin.core.validators import normalize_id_number

FIELDS = ("name", "phone", "id_number", "address")


def encrypt_parties(apps, schema_editor):
    Party = apps.get_model("cases", "Party")
    encrypt_plain_rows(
        Party,
        FIELDS,
        hashes={"phone": ("phone_hash", str.strip), "id_number": ("id_number_hash", normalize_id_number)},
    )


def decrypt_parties(apps, schema_editor):
    decrypt_to_plain_rows(apps.get_model("cases", "Party"), FIELDS)


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_party_encrypted")]

    operations = [
        migrations.RunPython(encrypt_parties, decrypt_parties, elidable=False),
    ]
