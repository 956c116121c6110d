"""Submitting on the portal: one transaction with the files, the receipt and its PDF, and bad
input refused next to the field with nothing created."""

from __future__ import annotations

import io
import json
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import ExifTags, Image

from huiyin.cases.models import Attachment, Case, CaseSequence, Channel, Event, Party
from huiyin.notifications.models import Message
from huiyin.orgs.actors import ActorKind
from huiyin.portal import files as portal_files

from .conftest import GPS, form_data, photo, receipt_of, submit

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "parties": Party.objects.count(),
        "attachments": Attachment.objects.count(),
        "events": Event.objects.count(),
        "sequences": sum(CaseSequence.objects.values_list("last", flat=True)),
    }


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_form_is_the_portals_own_page(client, hotline, org, category):
    page = client.get(f"/portal/{org.code}/submit/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "/cases/" not in html and "/login/" not in html  # nothing of the workbench
    assert 'lang="zh-CN"' in html
    assert '<optgroup label="城乡建设">' in html  # the tree as a grouped select, without JS
    assert "物业管理" in html
    assert "3 年" in html  # how long, from the preset's retention
    assert 'name="challenge"' in html and "pow.js" in html
    assert 'id="id_anonymous"' in html  # the hotline's preset allows anonymity


def test_a_submission_is_registered_with_its_photo_shrunk_and_stripped(client, hotline, org, category, settings):
    response = submit(client, org, files=[photo()], category=str(category.pk), title="东门路灯不亮")
    assert response.status_code == 302, response.content.decode()[:2000]
    case, code = receipt_of(client, org)
    assert (case.channel, case.nature, case.title, case.category_id) == (
        Channel.ONLINE,
        "complaint",
        "东门路灯不亮",
        category.pk,
    )
    assert case.submitter_kind == ActorKind.PUBLIC and case.first_contact is None
    assert case.party.name == "李娜" and case.party.phone == "13900001111"
    from huiyin.cases.services import query_code_matches  # noqa: I001 - beside its one use

    assert query_code_matches(case, code)
    attachment = case.attachments.get()
    assert attachment.uploaded_by is None and attachment.original_name == "IMG_0001.jpg"
    stored = Image.open(attachment.file.path)
    assert max(stored.size) == settings.HUIYIN_PORTAL_IMAGE_MAX_SIDE  # shrunk from 3000 x 2000
    assert dict(stored.getexif()) == {}  # no maker, no time, no GPS
    assert "comment" not in stored.info
    registered = Event.objects.get(case=case, kind="registered")
    assert registered.actor_kind == ActorKind.PUBLIC and registered.actor is None


def test_the_gps_position_stays_only_when_the_person_keeps_it(client, hotline, org):
    assert submit(client, org, files=[photo()], keep_location="on").status_code == 302
    case, _code = receipt_of(client, org)
    exif = Image.open(case.attachments.get().file.path).getexif()
    assert dict(exif.get_ifd(ExifTags.IFD.GPSInfo)) == GPS
    assert 0x010F not in exif  # the camera's make still goes


def test_the_query_code_is_shown_once_and_the_pdf_carries_it(client, hotline, org, tmp_path):
    assert submit(client, org).status_code == 302
    case, code = receipt_of(client, org)
    again = client.get(f"/portal/{org.code}/receipt/").content.decode()
    assert code not in again and 'id="receipt-code-hidden"' in again
    pdf = client.get(f"/portal/{org.code}/receipt.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "受理凭证" in text and case.number in text and code in text
    assert f"/portal/{org.code}/status/" in "".join(text.split())  # the portal's status page (wrapped)
    png = subprocess.run(["pdftoppm", "-png", "-r", "40", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    assert png.returncode == 0 and (tmp_path / "page.png").stat().st_size > 1000
    # Another browser gets no receipt at all.
    from django.test import Client  # noqa: I001 - a second browser for this one check

    assert Client().get(f"/portal/{org.code}/receipt.pdf").status_code == 404


def bad(client, org, field: str, *, status: int = 400, files=(), **overrides) -> str:
    """Post a refused submission: the status, the message next to ``field``, nothing created."""
    before = counts()
    response = submit(client, org, files=files, **overrides)
    html = response.content.decode()
    assert response.status_code == status, html[:3000]
    assert f'id="err-{field}"' in html, html[:5000]
    assert counts() == before
    return html.split(f'id="err-{field}"', 1)[1].split("</div>", 1)[0]


def test_bad_files_are_refused_next_to_the_field(client, hotline, org, settings):
    settings.HUIYIN_PORTAL_FILE_MAX_BYTES = 200_000
    big = photo(4000, 3000)  # a noisy photo would be larger; this one is over 200 kB only with its size raised
    big = SimpleUploadedFile("big.jpg", big.read() + b"\0" * 300_000, content_type="image/jpeg")
    assert "过大" in bad(client, org, "attachments", files=[big])
    exe = SimpleUploadedFile("tool.exe", b"MZ\x90\x00rest", content_type="application/octet-stream")
    assert "类型不能上传" in bad(client, org, "attachments", files=[exe])
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    assert "内容与文件名不符" in bad(client, org, "attachments", files=[fake])
    renamed = SimpleUploadedFile("scan.pdf", photo().read(), content_type="application/pdf")
    message = bad(client, org, "attachments", files=[renamed])
    assert "内容与文件名不符" in message and "JPEG" in message
    broken = SimpleUploadedFile("cut.jpg", photo().read()[:400], content_type="image/jpeg")
    assert "不是完整的图片" in bad(client, org, "attachments", files=[broken])
    too_many = [photo(40, 30, name=f"p{i}.jpg") for i in range(settings.HUIYIN_PORTAL_FILES_MAX + 1)]
    assert "最多上传" in bad(client, org, "attachments", files=too_many)
    assert stored_files(settings) == []


def test_a_decompression_bomb_is_refused(client, hotline, org):
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "PNG")  # tiny file, 81 megapixels
    bomb = SimpleUploadedFile("bomb.png", buffer.getvalue(), content_type="image/png")
    assert "像素过多" in bad(client, org, "attachments", files=[bomb])


def test_a_bomb_past_pillows_own_limit_is_named_as_too_many_pixels_not_a_broken_image(client, hotline, org):
    # 400 megapixels: Pillow refuses to open it at all, and the person was told the picture
    # was incomplete ("不是完整的图片") and to take it again.
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")
    bomb = SimpleUploadedFile("bomb.png", buffer.getvalue(), content_type="image/png")
    message = bad(client, org, "attachments", files=[bomb])
    assert message.endswith(">“bomb.png”的像素过多（超过 40 百万像素），请缩小后再上传。")


def test_text_over_the_limit_and_missing_fields_are_named(client, hotline, org, settings):
    settings.HUIYIN_PORTAL_TEXT_MAX_CHARS = 50
    message = bad(client, org, "text", text="字" * 51)
    assert "最多 50 字" in message and "51" in message
    settings.HUIYIN_PORTAL_TEXT_MAX_CHARS = 5000
    assert "请阅读个人信息处理说明" in bad(client, org, "consent", consent=None)
    assert "姓名或手机号码" in bad(client, org, "name", name="", phone="")
    assert "联系电话格式不正确" in bad(client, org, "phone", phone="1390000")
    assert "不在可用的选项中" in bad(client, org, "category", category="999999")


def test_anonymous_where_the_preset_allows_it_only(client, org, hotline):
    response = submit(client, org, anonymous="on", name="王五", phone="")
    assert response.status_code == 302
    case, _code = receipt_of(client, org)
    assert case.party.anonymous and case.party.name == ""  # the name is not kept when anonymous


def test_the_petition_office_wants_name_and_phone(client, org, petition):
    assert "不能匿名" in bad(client, org, "anonymous", anonymous="on")
    assert "手机号码" in bad(client, org, "phone", phone="")
    page = client.get(f"/portal/{org.code}/submit/").content.decode()
    assert 'id="id_anonymous"' not in page


def test_the_challenge_is_required_checked_and_single_use(client, hotline, org):
    assert "安全验证未完成" in bad(client, org, "challenge", solution="")
    forged = form_data()
    forged["challenge"] = forged["challenge"][:-1] + ("0" if forged["challenge"][-1] != "0" else "1")
    assert "安全验证无效" in bad(client, org, "challenge", challenge=forged["challenge"], solution=forged["solution"])
    data = form_data()
    assert client.post(f"/portal/{org.code}/submit/", data).status_code == 302
    before = counts()
    replay = client.post(f"/portal/{org.code}/submit/", data)
    html = replay.content.decode()
    assert replay.status_code == 400 and 'id="err-challenge"' in html and "已经提交过" in html
    assert counts() == before


def test_a_replay_the_cache_forgot_is_refused_by_the_database(client, hotline, org):
    from django.core.cache import cache  # noqa: I001 - the cache forgetting is this test's subject

    data = form_data()
    assert client.post(f"/portal/{org.code}/submit/", data).status_code == 302
    cache.clear()
    before = counts()
    replay = client.post(f"/portal/{org.code}/submit/", data)
    assert replay.status_code == 400 and "已经提交过" in replay.content.decode()
    assert counts() == before


class FailingUpload(SimpleUploadedFile):
    """A file whose bytes stop coming half-way through being stored (the disk filled up)."""

    def chunks(self, chunk_size=None):
        yield self.read(100)
        raise OSError("No space left on device")


def test_an_upload_failing_midway_leaves_nothing(hotline, org, settings):
    """The service directly (the prepared files are ours): the second file's storage fails
    after the first was written: no case, no number used, no file left behind."""
    from huiyin.cases.services import case_register  # noqa: I001 - the seam under test
    from huiyin.orgs.actors import public_actor
    from tests.conftest import intake

    before = counts()
    good = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n" + b"x" * 5000, content_type="application/pdf")
    failing = FailingUpload("b.pdf", b"%PDF-1.4\n" + b"y" * 5000, content_type="application/pdf")
    with pytest.raises(OSError):
        case_register(actor=public_actor(org), data=intake(channel="online"), uploads=[good, failing])
    assert counts() == before
    assert stored_files(settings) == []


def test_the_whole_request_is_bounded_before_it_is_read(client, hotline, org, settings):
    settings.HUIYIN_PORTAL_REQUEST_MAX_BYTES = 50_000
    before = counts()
    response = submit(client, org, files=[SimpleUploadedFile("x.pdf", b"%PDF-" + b"0" * 60_000)])
    html = response.content.decode()
    assert response.status_code == 413 and "超过上限" in html and "/cases/" not in html
    assert counts() == before
    assert not response.wsgi_request.__dict__.get("_files")  # the body was never parsed
    order = settings.MIDDLEWARE
    limit = order.index("huiyin.portal.middleware.BodyLimitMiddleware")
    assert limit < order.index("huiyin.core.middleware.CleanInputMiddleware")
    assert limit < order.index("django.middleware.csrf.CsrfViewMiddleware")


def test_limits_per_address_and_per_phone(client, hotline, org, settings):
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "submit_phone": "2/86400"}
    for _ in range(2):
        assert submit(client, org).status_code == 302
    message = bad(client, org, "phone", status=429)
    assert "已达上限" in message
    # The refused attempt counted too: this is the fourth from this address.
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "submit_ip": "4/600"}
    assert submit(client, org, phone="13900002222").status_code == 302
    response = submit(client, org, phone="13900003333")
    assert response.status_code == 429 and "提交过于频繁" in response.content.decode()


def test_the_file_sniffer_reads_content_not_names():
    assert portal_files.sniff(b"\xff\xd8\xff\xe0") is portal_files.JPEG
    assert portal_files.sniff(b"\x89PNG\r\n\x1a\n") is portal_files.PNG
    assert portal_files.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") is portal_files.WEBP
    assert portal_files.sniff(b"%PDF-1.7") is portal_files.PDF
    assert portal_files.sniff(b"MZ\x90\x00") is None


def test_a_map_pin_only_where_a_tile_server_is_configured(client, hotline, org, settings):
    page = client.get(f"/portal/{org.code}/submit/").content.decode()
    assert "data-map" not in page  # no tile server: the address alone, no map
    settings.HUIYIN_PORTAL_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    page = client.get(f"/portal/{org.code}/submit/").content.decode()
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in page
    assert submit(client, org, latitude="30.274120", longitude="120.155070").status_code == 302
    case, _code = receipt_of(client, org)
    assert case.location == "幸福路12号小区东门（地图位置 30.27412, 120.15507）"
    assert submit(client, org, latitude="95", longitude="abc").status_code == 302  # out of range: no pin
    case, _code = receipt_of(client, org)
    assert case.location == "幸福路12号小区东门"


def test_a_submission_reads_the_organisation_and_looks_its_token_up_once(client, org, hotline):
    """The portal's system is not read back for its organisation, and without a repeat-caller
    rule to run first the intake token is looked up once, inside the registration (round
    trips are what a submission costs: docs/benchmarks.md)."""
    submit(client, org, phone="13900002222")  # the portal's system created, caches warm
    with CaptureQueriesContext(connection) as captured:
        assert submit(client, org).status_code == 302
    statements = [q["sql"] for q in captured.captured_queries]
    assert sum(s.startswith('SELECT "orgs_organization"') for s in statements) == 1, statements
    assert sum('"cases_case"."intake_token" =' in s for s in statements) == 1, statements


def test_a_submission_reads_the_running_policy_once_and_queues_its_receipt_without_asking(client, org, hotline):
    """The form's checks and the registration share one read of the running policy, which
    brings the calendar's stamp; the receipt, a message of the event just written, is
    inserted without a look-up or a savepoint. Every statement counts (docs/benchmarks.md)."""
    submit(client, org, phone="13900002222")  # the portal's system created, caches warm
    with CaptureQueriesContext(connection) as captured:
        assert submit(client, org).status_code == 302
    statements = [q["sql"] for q in captured.captured_queries]
    assert sum(s.startswith('SELECT "policy_policyversion"') for s in statements) == 1, statements
    assert sum('"policy_calendarday"' in s for s in statements) == 1, statements
    assert not [s for s in statements if '"notifications_message" WHERE' in s], statements
    # The task queue's own rows (the database backend's; RQ, with Redis, writes none) aside.
    statements = [s for s in statements if not s.startswith('INSERT INTO "django_tasks_database_')]
    inserted = next(i for i, s in enumerate(statements) if s.startswith('INSERT INTO "notifications_message"'))
    assert not statements[inserted - 1].startswith("SAVEPOINT"), statements  # none of its own
    case, _code = receipt_of(client, org)
    assert Message.objects.filter(case=case, purpose="receipt").count() == 1
    # 22 in this test without the task rows (its transaction makes the atomic blocks
    # savepoints): 27 before this round.
    # On PostgreSQL the intake token's lock is a statement of its own (pg_advisory_xact_lock);
    # SQLite's is the transaction's write lock.
    assert len(statements) == 22 + (connection.vendor == "postgresql"), "\n".join(statements)


def test_the_receipts_query_code_is_sealed_in_the_session_row(client, org):
    """The browser that submitted keeps the code for its receipt (and its PDF) in its session;
    the session row, readable by anyone with the database, holds it sealed: in the case row
    it is a keyed hash only."""
    from django.contrib.sessions.models import Session

    submit(client, org)
    case, code = receipt_of(client, org)
    for stored in Session.objects.all():
        assert code not in stored.session_data and code not in json.dumps(stored.get_decoded())
    assert client.get(f"/portal/{org.code}/receipt.pdf").status_code == 200


def test_a_file_with_a_long_chinese_name_is_registered_not_a_server_error(client, hotline, org):
    # The portal keeps 120 characters of a name: 120 Chinese characters are 360 bytes, past the
    # file system's 255 a name, so storing it failed and the person got a 500 page.
    name = "幸福小区三号楼门前道路破损积水情况说明" * 8 + ".pdf"
    scan = SimpleUploadedFile(name, b"%PDF-1.4 scan", content_type="application/pdf")
    response = submit(client, org, files=[scan])
    assert response.status_code == 302, response.content.decode()[:2000]
    case, _code = receipt_of(client, org)
    attachment = case.attachments.get()
    assert attachment.original_name == name[:116] + ".pdf" and attachment.file.read() == b"%PDF-1.4 scan"
