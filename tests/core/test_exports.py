"""Exports of any list (core/exports.py, core/export_jobs.py): one writer for CSV and Excel,
read back here; a long export written by a background task with its progress shown,
downloaded only by the person who asked, its file deleted after the keeping time."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timedelta

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from huiyin.cases.events import EventKind
from huiyin.cases.models import Event
from huiyin.cases.services import PartyInput
from huiyin.core import export_jobs, exports
from huiyin.core.errors import NotFound
from huiyin.core.exports import Column, Listing
from huiyin.core.models import ExportJob, ExportStatus
from huiyin.core.privacy import mask_phone

pytestmark = pytest.mark.django_db


def _listing(rows: list[list[object]], *, chunk: int = 2, **more) -> Listing:
    chunks = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    return Listing(
        title="测试",
        stem="test",
        columns=[
            Column("名称", lambda r: r[0]),
            Column("时间", lambda r: r[1]),
            Column("比例", lambda r: r[2], number_format="0.0%"),
        ],
        chunks=lambda: iter(chunks),
        count=lambda cap: len(rows),
        **more,
    )


ROWS = [
    ["甲", datetime(2026, 3, 1, 8, 30, tzinfo=timezone.get_fixed_timezone(0)), 0.5],
    ['=HYPERLINK("http://example.com","查看")', None, None],
    ["丙\x1b[31m", None, 1],
]


def test_the_csv_is_the_header_and_rows_with_local_times_and_no_formula():
    blocks = list(exports.csv_blocks(_listing(ROWS)))
    assert len(blocks) == 3  # the header, then one block per chunk of two rows
    text = b"".join(blocks).decode()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [
        ["名称", "时间", "比例"],
        ["甲", "2026-03-01 16:30", "0.5"],  # 08:30 UTC is 16:30 in Shanghai
        ["'" + ROWS[1][0], "", ""],  # Excel shows the text, does not run it
        ["丙", "", "1"],  # the escape sequence removed
    ]


def test_the_excel_file_has_real_times_numbers_formats_and_text_for_a_formula():
    out = io.BytesIO()
    exports.xlsx_write(_listing(ROWS, preamble=("标题行", "说明行")), out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet.title == "测试"
    assert sheet["A1"].value == "标题行" and sheet["A1"].font.bold and sheet["A1"].font.size == 14
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:C1", "A2:C2"}
    assert [c.value for c in sheet[3]] == ["名称", "时间", "比例"] and sheet["A3"].font.bold
    assert sheet.freeze_panes == "A4"
    local = datetime(2026, 3, 1, 16, 30, tzinfo=timezone.get_current_timezone()).replace(tzinfo=None)
    assert sheet["B4"].value == local and sheet["B4"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["C4"].value == 0.5 and sheet["C4"].number_format == "0.0%"
    assert sheet["C5"].value is None and sheet["C5"].number_format == "0.0%"  # an empty rate keeps the format
    assert sheet["A5"].value == ROWS[1][0] and sheet["A5"].data_type == "s"


def test_progress_is_told_after_each_chunk():
    heard: list[int] = []
    b"".join(exports.csv_blocks(_listing(ROWS, chunk=2), progress=heard.append))
    assert heard == [2, 3]


def test_an_unknown_list_is_not_found_and_a_name_is_registered_once():
    with pytest.raises(NotFound):
        exports.source("no-such-list")
    assert {"ledger", "desk", "board", "callbacks", "evaluation"} <= set(exports.names())
    with pytest.raises(ValueError):
        exports.register("ledger", lambda actor, query, full: _listing([]))


# --- background exports --------------------------------------------------------------------------


@pytest.fixture
def five(register):
    now = timezone.now()
    return [
        register(
            text=f"第{n}号楼电梯故障。",
            party=PartyInput(name=f"赵{n}", phone=f"1370000000{n}"),
            received_at=now - timedelta(hours=5 - n),
        )
        for n in range(5)
    ]


@pytest.fixture
def small_inline(settings):
    settings.HUIYIN_EXPORT_INLINE_ROWS = 3


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode().lstrip("\ufeff"))))


def test_a_long_export_says_how_long_it_is_and_is_written_in_the_background(client, clerk, five, small_inline):
    client.force_login(clerk)
    page = client.get(reverse("cases:ledger_csv"), {"channel": "phone"})
    assert page.status_code == 200 and not page.streaming
    html = page.content.decode()
    assert "本次导出约 5 条" in html and 'name="query" value="channel=phone"' in html
    assert not ExportJob.objects.exists()  # a GET writes nothing

    started = client.post(reverse("exports:start"), {"source": "ledger", "fmt": "csv", "query": "channel=phone"})
    job = ExportJob.objects.get()
    assert started.status_code == 302 and started["Location"] == reverse("exports:job", args=[job.pk])
    assert (job.status, job.requested_by, job.rows_total, job.full) == (ExportStatus.QUEUED, clerk, 5, False)
    progress = client.get(reverse("exports:progress", args=[job.pk])).content.decode()
    assert 'hx-get="' in progress and "排队等待生成" in progress

    export_jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.filename[-4:]) == (ExportStatus.DONE, 5, ".csv")
    done = client.get(reverse("exports:progress", args=[job.pk])).content.decode()
    assert "hx-get" not in done and "data-auto-download" in done  # the page's script downloads it once

    response = client.get(reverse("exports:download", args=[job.pk]))
    rows = _csv(b"".join(response.streaming_content))
    assert rows[0][:2] == ["编号", "标题"]
    assert [r[0] for r in rows[1:]] == [c.number for c in reversed(five)]  # the ledger's order
    assert {r[rows[0].index("联系电话")] for r in rows[1:]} == {mask_phone(c.party.phone) for c in five}
    assert f'filename="{job.filename}"' in response["Content-Disposition"]


def test_the_excel_file_of_a_background_export_is_the_streamed_one(client, clerk, five, settings):
    client.force_login(clerk)
    inline = load_workbook(io.BytesIO(b"".join(client.get(reverse("cases:ledger_xlsx")).streaming_content))).active
    settings.HUIYIN_EXPORT_INLINE_ROWS = 3
    client.post(reverse("exports:start"), {"source": "ledger", "fmt": "xlsx", "query": ""})
    job = export_jobs.job_run(job_id=ExportJob.objects.get().pk)
    assert job is not None and job.status == ExportStatus.DONE
    stored = load_workbook(job.file.path).active
    assert [[c.value for c in row] for row in stored.iter_rows()] == [
        [c.value for c in row] for row in inline.iter_rows()
    ]


def test_only_the_person_who_asked_sees_or_downloads_the_export(client, clerk, leader, five, small_inline):
    job = export_jobs.job_start(actor=clerk, source="ledger", fmt="csv", query="")
    export_jobs.job_run(job_id=job.pk)
    client.force_login(leader)
    for name in ("exports:job", "exports:progress", "exports:download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404, name


def test_a_long_full_export_is_queued_at_once_and_logs_every_case_before_writing(client, clerk, five, small_inline):
    client.force_login(clerk)
    response = client.post(reverse("cases:ledger_csv"))
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.full and job.status == ExportStatus.QUEUED
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()  # logged when written
    export_jobs.job_run(job_id=job.pk)
    rows = _csv(ExportJob.objects.get().file.read())
    assert {r[rows[0].index("联系电话")] for r in rows[1:]} == {c.party.phone for c in five}
    viewed = Event.objects.filter(kind=EventKind.PII_VIEWED)
    assert sorted(e.case_id for e in viewed) == sorted(c.pk for c in five)
    assert all(e.actor == clerk and e.data["export"] == "csv" for e in viewed)


def test_an_export_whose_person_lost_the_right_fails_with_the_reason(clerk, five, small_inline):
    job = export_jobs.job_start(actor=clerk, source="ledger", fmt="csv", query="", full=True)
    clerk.roles = ["analyst"]  # no personal-data right any more
    clerk.save(update_fields=["roles"])
    done = export_jobs.job_run(job_id=job.pk)
    assert done is not None and done.status == ExportStatus.FAILED and "个人信息" in done.error
    assert not done.file and not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()


def test_a_bad_filter_or_list_is_refused_before_anything_is_queued(client, clerk, five, small_inline):
    client.force_login(clerk)
    bad = client.post(reverse("exports:start"), {"source": "ledger", "fmt": "csv", "query": "date_from=2026-02-30"})
    assert bad.status_code == 400 and "起" in bad.content.decode()
    assert client.post(reverse("exports:start"), {"source": "nope", "fmt": "csv", "query": ""}).status_code == 404
    wrong_format = client.post(reverse("exports:start"), {"source": "ledger", "fmt": "pdf", "query": ""})
    assert wrong_format.status_code == 400 and "导出格式" in wrong_format.content.decode()
    assert not ExportJob.objects.exists()


def test_the_files_are_deleted_after_the_keeping_time_and_the_record_stays(clerk, five, small_inline, settings):
    settings.HUIYIN_EXPORT_KEEP_HOURS = 2
    job = export_jobs.job_run(job_id=export_jobs.job_start(actor=clerk, source="ledger", fmt="csv", query="").pk)
    assert job is not None and job.file
    path = job.file.path
    assert export_jobs.purge(timezone.now() + timedelta(hours=1)) == 0
    assert export_jobs.purge(timezone.now() + timedelta(hours=3)) == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not job.file
    assert not os.path.exists(path)


def test_a_listing_is_rebuilt_as_the_person_when_the_task_runs(handler, clerk, register, small_inline):
    """The task reads the list with the rights of whoever asked, as they are when it runs:
    a department handler's export holds their department's cases only."""
    for n in range(4):
        register(text=f"第{n}件：路灯不亮。")
    assert exports.source("ledger")(clerk, QueryDict(""), False).count(3) == 4  # over the cap: more than 3
    assert exports.source("ledger")(handler, QueryDict(""), False).count(3) == 0


def test_an_inline_limit_above_the_ledgers_count_cap_is_counted_up_to(client, clerk, five, settings, monkeypatch):
    """The ledger counts exactly up to its count cap (PostgreSQL: an estimate above it); an
    inline limit set higher is counted up to itself, so a list under it is still streamed."""
    from huiyin.cases import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    client.force_login(clerk)
    settings.HUIYIN_EXPORT_INLINE_ROWS = 10
    streamed = client.get(reverse("cases:ledger_csv"))
    assert streamed.streaming and len(_csv(b"".join(streamed.streaming_content))) == 6
    settings.HUIYIN_EXPORT_INLINE_ROWS = 4
    asked = client.get(reverse("cases:ledger_csv"))
    assert not asked.streaming and "本次导出约 5 条" in asked.content.decode()
