"""Personal data at rest (F81, issue 13 hole 12): encrypted columns, keyed look-up
hashes, key rotation, the data migrations, and private files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from huiyin.cases import services
from huiyin.cases.models import Case, Party
from huiyin.cases.selectors import caller_history
from huiyin.core import crypto
from huiyin.core.errors import PermissionDeniedError
from huiyin.core.models import OutboundMessage
from huiyin.core.notify import FileSmsBackend
from huiyin.core.validators import id_check_digit
from huiyin.orgs.roles import Role
from tests.conftest import intake, make_staff

pytestmark = pytest.mark.django_db

ID = "11010519491231002" + id_check_digit("11010519491231002")
PERSON = services.PartyInput(
    name="欧阳娜娜", phone="13812345678", id_number=ID.lower(), address="示范市江南区解放路88号"
)


def raw_party(pk: int) -> dict[str, str]:
    """The columns as stored, read with SQL past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, phone, id_number, address, phone_hash, id_number_hash FROM cases_party WHERE id = %s", [pk]
        )
        row = cursor.fetchone()
    return dict(zip(["name", "phone", "id_number", "address", "phone_hash", "id_number_hash"], row, strict=True))


def database_text() -> str:
    """Every text value of every table a registration writes, as stored."""
    tables = ["cases_party", "cases_case", "cases_contact", "cases_event", "core_outboundmessage"]
    out = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            out += [str(v) for row in cursor.fetchall() for v in row]
    return "\n".join(out)


def register(actor, party=PERSON, **overrides) -> Case:
    case, _code = services.case_register(actor=actor, data=intake(party=party, **overrides))
    return case


def test_stored_columns_hold_no_plaintext_and_read_back_whole(clerk):
    case = register(clerk)
    stored = raw_party(case.party_id)
    for field, plain in [("name", "欧阳娜娜"), ("phone", "13812345678"), ("id_number", ID), ("address", "解放路")]:
        assert plain not in stored[field] and stored[field].startswith("gAAAAA"), field
    assert len(stored["phone_hash"]) == 64 and stored["phone_hash"] == crypto.lookup_hash("13812345678")
    assert stored["id_number_hash"] == crypto.lookup_hash(ID)  # the X upper-cased before hashing
    # Nowhere else either: not the case, the contact, the events.
    text = database_text()
    for plain in ("欧阳娜娜", "13812345678", ID, ID.lower(), "解放路88号"):
        assert plain not in text
    party = Party.objects.get(pk=case.party_id)
    assert (party.name, party.phone, party.id_number, party.address) == ("欧阳娜娜", "13812345678", ID, PERSON.address)
    assert (party.display_name, party.masked_phone, party.masked_id_number) == (
        "欧***",
        "138****5678",
        "110105********002X",
    )
    assert party.masked_address == "示范市江南区解放路****"


def test_equal_values_are_different_tokens_so_sql_cannot_compare_them(clerk):
    a = register(clerk)
    b = register(clerk, party=services.PartyInput(name="欧阳娜娜", phone="13900001111"))
    assert raw_party(a.party_id)["name"] != raw_party(b.party_id)["name"]
    with pytest.raises(FieldError, match="keyed-hash"):
        list(Party.objects.filter(phone="13812345678"))
    with pytest.raises(FieldError):
        list(Party.objects.filter(name__startswith="欧"))
    assert Party.objects.filter(address="").count() == 1  # blank stays blank: b gave no address


def test_known_caller_and_history_are_found_through_the_hash(clerk):
    first = register(clerk)
    second = register(clerk, party=services.PartyInput(name="欧阳娜娜", phone="138 1234 5678"))
    other_name = register(clerk, party=services.PartyInput(name="李四", phone="13812345678"))
    assert second.party_id == first.party_id  # same phone and name: the known caller
    assert other_name.party_id != first.party_id
    assert [c.pk for c in caller_history(actor=clerk, phone="13812345678")] == [other_name.pk, second.pk, first.pk]
    assert list(Party.objects.with_id_number(ID.lower())) == [first.party]


def test_caller_history_is_only_for_the_personal_data_right(clerk, org, client):
    case = register(clerk)
    supervisor = make_staff(org, "sup", [Role.SUPERVISOR])  # sees the whole ledger, not personal data
    with pytest.raises(PermissionDeniedError):
        caller_history(actor=supervisor, phone="13812345678")
    client.force_login(supervisor)
    response = client.post(reverse("cases:caller_history"), {"party_phone": "13812345678"})
    assert response.status_code == 403
    assert case.number not in response.content.decode() and "历史诉求" not in response.content.decode()
    client.force_login(clerk)
    response = client.post(reverse("cases:caller_history"), {"party_phone": "13812345678"})
    assert response.status_code == 200 and case.number in response.content.decode()


def test_address_is_masked_on_the_case_page_and_whole_only_when_revealed(clerk, analyst, client):
    case = register(clerk)
    for person in (analyst, clerk):
        client.force_login(person)
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
        assert "示范市江南区解放路****" in page and "解放路88号" not in page
    revealed = client.post(reverse("cases:reveal", args=[case.pk])).content.decode()
    assert "示范市江南区解放路88号" in revealed


def test_rotation_new_key_first_then_reencrypt_then_old_key_dropped(clerk, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HUIYIN_FIELD_KEYS = [old]
    case = register(clerk)
    # A row of the old outbound log (read-only history since huiyin.notifications): rotated too.
    OutboundMessage.objects.bulk_create(
        [OutboundMessage(key="rotation-test", channel="sms", recipient="13812345678", body="您的诉求已登记")]
    )
    before = raw_party(case.party_id)

    settings.HUIYIN_FIELD_KEYS = [new, old]  # the new key encrypts, both decrypt
    assert Party.objects.get(pk=case.party_id).phone == "13812345678"
    call_command("huiyin_reencrypt", stdout=open(os.devnull, "w"))  # noqa: SIM115
    after = raw_party(case.party_id)
    assert after["phone"] != before["phone"] and crypto.is_current(after["phone"])

    settings.HUIYIN_FIELD_KEYS = [new]  # the old key is gone: everything still reads
    party = Party.objects.get(pk=case.party_id)
    assert (party.name, party.phone, party.id_number, party.address) == ("欧阳娜娜", "13812345678", ID, PERSON.address)
    assert OutboundMessage.objects.get(key="rotation-test").recipient == "13812345678"

    settings.HUIYIN_FIELD_KEYS = [Fernet.generate_key().decode()]  # a key that never wrote: refused loudly
    with pytest.raises(crypto.UndecryptableValue):
        Party.objects.get(pk=case.party_id)


def test_lookup_key_rotation_keeps_finding_callers(clerk, settings):
    settings.HUIYIN_LOOKUP_KEYS = ["first-lookup-secret"]
    case = register(clerk)
    settings.HUIYIN_LOOKUP_KEYS = ["second-lookup-secret", "first-lookup-secret"]
    assert [c.pk for c in caller_history(actor=clerk, phone="13812345678")] == [case.pk]  # old hash still matches
    call_command("huiyin_reencrypt", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.HUIYIN_LOOKUP_KEYS = ["second-lookup-secret"]
    assert [c.pk for c in caller_history(actor=clerk, phone="13812345678")] == [case.pk]
    assert raw_party(case.party_id)["phone_hash"] == crypto.lookup_hash("13812345678")


# --- the data migrations -------------------------------------------------------------------------


def before_encryption(graph, app: str, model: str, first_field: str) -> tuple[str, str]:
    """The migration of ``app`` just before the one that starts encrypting ``model`` (found
    by what it does, not by its number: migrations get renumbered when branches merge)."""
    from django.db import migrations

    changes = (migrations.AddField, migrations.AlterField)
    for (label, _name), node in sorted(graph.nodes.items()):
        touched = [op for op in node.operations if isinstance(op, changes) and op.model_name == model]
        if label == app and any(op.name == first_field for op in touched):
            (parent,) = [dep for dep in node.dependencies if dep[0] == app]
            return parent
    raise AssertionError(f"no migration changes {app}.{model}.{first_field}")


@pytest.mark.heavy
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_data_migrations_encrypt_existing_rows_and_reverse_to_plain_text(org):
    """Runs on PostgreSQL (CI's step 2): the data migrations go through the ORM's historical
    models, the same on either database, and each migration of thirty steps back or forth
    costs about 15 s of Django's migration state — once per CI run, not twice.

    Two migrations, not four: rows the application stored encrypted are migrated back to
    plain text; rows then written in plain text under the old schema (as before the
    encryption) are migrated forward with them and come out encrypted and readable again.
    The reverse, the forward and the round trip through both are each checked."""
    if connection.vendor != "postgresql":
        pytest.skip("the encryption data migrations are checked on PostgreSQL (CI step 2; set DATABASE_URL)")
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)

    graph = MigrationExecutor(connection).loader.graph
    before = [
        before_encryption(graph, "cases", "party", "erased_at"),
        before_encryption(graph, "core", "outboundmessage", "recipient"),
    ]
    latest = graph.leaf_nodes()
    # Stored by the application, encrypted (an outbound message is history: nothing saves a new one).
    stored = Party.objects.create(
        organization=org, name="李小红", phone="13900002222", id_number=ID, address="示范市江北区北岸路5号"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO core_outboundmessage ("key", channel, recipient, body, created_at) '
            "VALUES ('k0', 'sms', %s, %s, CURRENT_TIMESTAMP)",
            [crypto.encrypt("13900002222"), crypto.encrypt("已受理")],
        )
    assert raw_party(stored.pk)["phone"].startswith("gAAAAA")
    try:
        migrate(before)  # back: plain text again
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, phone, id_number, address FROM cases_party WHERE id = %s", [stored.pk])
            assert cursor.fetchone() == ("李小红", "13900002222", ID, "示范市江北区北岸路5号")
            cursor.execute("SELECT recipient, body FROM core_outboundmessage WHERE \"key\" = 'k0'")
            assert cursor.fetchone() == ("13900002222", "已受理")
            cursor.execute(
                "INSERT INTO cases_party (organization_id, name, anonymous, phone, id_number, address, affiliation, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s, '', CURRENT_TIMESTAMP) RETURNING id",
                [org.pk, "王小明", False, "13700001111", ID.lower(), "示范市滨江区江滨路3号"],
            )
            (pk,) = cursor.fetchone()
            cursor.execute(
                'INSERT INTO core_outboundmessage ("key", channel, recipient, body, created_at) '
                "VALUES ('k1', 'sms', '13700001111', '已登记', CURRENT_TIMESTAMP)"
            )
        migrate(latest)  # and forward: every row encrypted
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, name, phone, id_number, address, phone_hash, id_number_hash FROM cases_party ORDER BY id"
            )
            rows = {row[0]: row[1:] for row in cursor.fetchall()}
            cursor.execute('SELECT "key", recipient, body FROM core_outboundmessage ORDER BY "key"')
            messages = {key: values for key, *values in cursor.fetchall()}
        assert set(rows) == {stored.pk, pk} and set(messages) == {"k0", "k1"}
        values = [v for row in rows.values() for v in row[:4]] + [v for row in messages.values() for v in row]
        assert all(value.startswith("gAAAAA") for value in values)
        assert rows[pk][4:] == (crypto.lookup_hash("13700001111"), crypto.lookup_hash(ID))
        assert rows[stored.pk][4:] == (crypto.lookup_hash("13900002222"), crypto.lookup_hash(ID))
        party = Party.objects.get(pk=pk)
        assert (party.name, party.phone, party.id_number, party.address) == (
            "王小明",
            "13700001111",
            ID.lower(),
            "示范市滨江区江滨路3号",
        )
        party = Party.objects.get(pk=stored.pk)
        assert (party.name, party.phone, party.id_number, party.address) == (
            "李小红",
            "13900002222",
            ID,
            "示范市江北区北岸路5号",
        )
        assert OutboundMessage.objects.get(key="k1").body == "已登记"
        assert OutboundMessage.objects.get(key="k0").recipient == "13900002222"
    finally:
        migrate(latest)


# --- private files ---------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_fresh_data_directory_and_sqlite_files_are_private(tmp_path):
    data = tmp_path / "data"
    # The journals exist while a connection is open: their modes are read then.
    script = (
        "import django, os, stat, json; django.setup()\n"
        "from django.conf import settings\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('CREATE TABLE t (x)'); c.execute('INSERT INTO t VALUES (1)')\n"
        "    print(json.dumps({s: stat.S_IMODE(os.stat(settings.DATABASES['default']['NAME'] + s).st_mode)"
        " for s in ('-wal', '-shm')}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"HUIYIN_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "huiyin.settings", "PYTHONPATH": "src"}
    root = Path(__file__).resolve().parents[2]
    old = os.umask(0o022)  # the usual umask, which would give 0755 / 0644
    try:
        run = subprocess.run([sys.executable, "-c", script], check=True, cwd=root, env=env, capture_output=True)
    finally:
        os.umask(old)
    assert mode(data) == 0o700
    assert mode(data / "huiyin.sqlite3") == 0o600
    assert json.loads(run.stdout) == {"-wal": 0o600, "-shm": 0o600}  # SQLite gives them the database's mode


def test_existing_world_readable_database_is_made_private(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "huiyin.sqlite3").touch(mode=0o644)
    data.chmod(0o755)
    (data / "huiyin.sqlite3").chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"HUIYIN_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "huiyin.settings", "PYTHONPATH": "src"}
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", "import django; django.setup()"], check=True, cwd=root, env=env)
    assert (mode(data), mode(data / "huiyin.sqlite3")) == (0o700, 0o600)


def test_attachments_are_private(clerk, settings):
    assert (settings.FILE_UPLOAD_PERMISSIONS, settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS) == (0o600, 0o700)
    case = register(clerk)
    old = os.umask(0o022)
    try:
        attachment = services.attachment_add(
            actor=clerk, case_id=case.pk, upload=SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff" + b"0" * 100)
        )
    finally:
        os.umask(old)
    path = Path(attachment.file.path)
    assert mode(path) == 0o600
    folder = path.parent
    while folder != Path(settings.MEDIA_ROOT).parent:
        assert mode(folder) == 0o700, folder
        folder = folder.parent


def test_sms_outbox_is_private_even_when_it_existed_before(settings):
    outbox = Path(settings.DATA_DIR) / "outbox"
    outbox.mkdir(mode=0o755)
    outbox.chmod(0o755)
    (outbox / "sms.jsonl").write_text("")
    (outbox / "sms.jsonl").chmod(0o644)
    FileSmsBackend().send(phone="13812345678", body="测试", key="k")
    assert (mode(outbox), mode(outbox / "sms.jsonl")) == (0o700, 0o600)
    assert json.loads((outbox / "sms.jsonl").read_text().splitlines()[-1])["phone"] == "13812345678"

    fresh = Path(settings.DATA_DIR) / "fresh"
    settings.DATA_DIR = fresh
    FileSmsBackend().send(phone="13812345678", body="测试", key="k2")
    assert (mode(fresh / "outbox"), mode(fresh / "outbox" / "sms.jsonl")) == (0o700, 0o600)


def test_deploy_check_warns_until_real_keys_are_set(settings):
    from huiyin.core.checks import personal_data_keys

    settings.HUIYIN_FIELD_KEYS, settings.HUIYIN_LOOKUP_KEYS = [], []
    (warning,) = personal_data_keys()
    assert warning.id == "huiyin.W101" and "HUIYIN_FIELD_KEYS and HUIYIN_LOOKUP_KEYS" in warning.msg
    settings.HUIYIN_FIELD_KEYS, settings.HUIYIN_LOOKUP_KEYS = [Fernet.generate_key().decode()], ["secret"]
    assert personal_data_keys() == [] and crypto.configured()


def test_a_malformed_field_key_is_a_clear_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.HUIYIN_FIELD_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="HUIYIN_FIELD_KEYS"):
        crypto.encrypt("13812345678")
