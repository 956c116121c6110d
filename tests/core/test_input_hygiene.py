"""What every input goes through (issue 13): control characters cleaned at the door and
never logged raw, dates checked by what they mean, ids and versions that are numbers."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.test import RequestFactory
from django.utils import timezone

from huiyin.core.errors import ValidationFailed
from huiyin.core.forms import StyledForm
from huiyin.core.logs import SafeFormatter
from huiyin.core.middleware import CleanInputMiddleware
from huiyin.core.validators import (
    When,
    check_day,
    check_moment,
    checked_text,
    clean_text,
    day_error,
    form_version,
    parse_day,
    parse_moment,
)
from huiyin.orgs.models import Department

# --- control characters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("意见\x00内容", "意见内容"),
        ("\x1b[31m红色\x1b[0m字", "红色字"),
        ("a\x07b\x08c\x0bd\x0ce\x1ff\x7fg\x85h", "abcdefgh"),
        ("第一行\n第二行\r\n\t缩进", "第一行\n第二行\r\n\t缩进"),  # line breaks and tabs stay
        ("报告\u202egpj.pdf", "报告gpj.pdf"),  # shown as 报告fdp.jpg with the right-to-left override
        ("\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069编号", "编号"),
        ("", ""),
        # nothing visible but zero-width characters or fillers is nothing (a "blank" complaint
        # passed every required-field check); visible text keeps them (emoji sequences use ZWJ)
        ("\u200b\u200b", ""),
        (" \ufeff\n\u2060\u00ad ", ""),
        ("\u3164\u2800", ""),
        ("   ", "   "),  # plain whitespace is left to the field's own stripping
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f468\u200d\U0001f469\u200d\U0001f467"),
        ("漏水\u200b", "漏水\u200b"),
    ],
)
def test_clean_text_drops_escape_sequences_and_control_characters_but_keeps_lines(raw, clean):
    assert clean_text(raw) == clean


def test_checked_text_cleans_then_measures_and_names_the_field():
    assert checked_text(" \x00意见 ", "opinion") == "意见"
    with pytest.raises(ValidationFailed) as info:
        checked_text("字" * 2001, "instructions", limit=2000, label="交办意见")
    assert info.value.errors == {"instructions": ["交办意见过长：最多 2000 字，当前 2001 字。"]}


class _Sample(StyledForm):
    text = forms.CharField(required=False)
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False)
    departments = forms.ModelMultipleChoiceField(queryset=Department.objects.all(), required=False)
    count = forms.IntegerField(required=False)
    day = forms.DateField(required=False)
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_version(self):
        value = self.cleaned_data["version"]
        if value and not value.isdigit():
            raise forms.ValidationError("版本号无效。")
        return value


@pytest.mark.django_db
def test_every_styled_form_cleans_text_and_takes_only_ids_numbers_and_sane_dates():
    huge = "9" * 20  # on SQLite a look-up by this overflowed (OverflowError, a 500) before
    form = _Sample(
        {"text": "a\x00b\x1b[1m", "department": huge, "departments": ["1", huge], "count": huge, "day": "0001-01-01"}
    )
    assert not form.is_valid()
    assert form.cleaned_data["text"] == "ab"
    assert set(form.errors) == {"department", "departments", "count", "day"}
    assert "日期应在 2000-01-01 至 2100-12-31 之间" in form.errors["day"][0]
    assert not _Sample({"department": "abc", "departments": ["1e9"]}).is_valid()


def test_an_error_on_a_hidden_field_is_shown_on_top_of_the_form():
    form = _Sample({"version": "abc"})
    assert not form.is_valid()
    assert "版本号无效。" in form.non_field_errors()


def test_the_middleware_cleans_every_query_form_value_and_file_name():
    from django.core.files.uploadedfile import SimpleUploadedFile

    seen = {}

    def view(request):
        seen["get"] = request.GET.get("q")
        seen["post"] = request.POST.getlist("opinion")
        seen["file"] = request.FILES["file"].name
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = RequestFactory().post(
        "/x/?q=%00%1B%5B31mred",
        {"opinion": ["好\x00", "\x1b[2J坏"], "file": SimpleUploadedFile("a\x00b\x1b.txt", b"x")},
    )
    CleanInputMiddleware(view)(request)
    assert seen == {"get": "red", "post": ["好", "坏"], "file": "ab.txt"}


def test_log_lines_carry_no_raw_control_characters(settings):
    args = ("\x1b[31m\x00x\rforged",)
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Bad: %s", args, None)
    line = SafeFormatter().format(record)
    assert line == "Bad: \\x1b[31m\\x00x\\x0dforged"
    # and it is the formatter of the handler every log line goes through
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "safe"
    assert settings.LOGGING["formatters"]["safe"]["()"] == "huiyin.core.logs.SafeFormatter"


def test_a_spreadsheet_cell_never_gets_a_control_character():
    from openpyxl import Workbook

    from huiyin.core.spreadsheets import append_row

    sheet = Workbook().active
    append_row(sheet, ["意见\x00\x1b[31m", 3, "=1+1"])  # openpyxl raised IllegalCharacterError on the first
    assert [c.value for c in sheet[1]] == ["意见", 3, "=1+1"] and sheet["C1"].data_type == "s"


# --- dates and times by meaning -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("2026-03-05T09:30", True),
        ("2026-03-05", True),
        ("2026-13-01T10:00", False),  # month 13
        ("2026-02-30T10:00", False),  # 30 February (parse_datetime raised ValueError: a 500)
        ("2026-03-05T25:61", False),
        ("2026-03-05T10:00:00+99:00", False),
        ("下周一", False),
        ("", True),
    ],
)
def test_a_typed_date_time_that_is_no_date_is_refused_naming_the_field(raw, ok):
    if ok:
        parse_moment(raw, "due_at", "报送时限")
    else:
        with pytest.raises(ValidationFailed) as info:
            parse_moment(raw, "due_at", "报送时限")
        assert list(info.value.errors) == ["due_at"] and info.value.message.startswith("报送时限不是有效的日期时间")
    if raw and not ok and "T" not in raw:
        with pytest.raises(ValidationFailed):
            parse_day(raw, "due_on", "整改期限")


def _at(y, m, d, hh=9):
    return datetime(y, m, d, hh, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("when", "value", "message"),
    [
        (When.PAST, _at(1, 1, 1), "收到时间不能早于 2000-01-01。"),
        (When.PAST, _at(1900, 1, 1), "收到时间不能早于 2000-01-01。"),
        (When.PAST, "tomorrow", "收到时间不能晚于现在。"),
        (When.DUE, "yesterday", "收到时间必须晚于现在。"),
        (When.DUE, _at(9999, 12, 31), "收到时间不能晚于"),
        (When.PLANNED, _at(9999, 12, 31), "收到时间不能晚于"),
        (When.CALENDAR, _at(1, 1, 2), "收到时间不能早于 2000-01-01。"),
    ],
)
def test_each_meaning_has_its_range(when, value, message):
    now = timezone.now()
    value = {"tomorrow": now + timedelta(days=1), "yesterday": now - timedelta(days=1)}.get(value, value)
    with pytest.raises(ValidationFailed) as info:
        check_moment(value, "received_at", "收到时间", when)
    assert info.value.message.startswith(message)
    assert check_moment(now - timedelta(hours=1), "x", "x", When.PAST) is not None
    assert check_moment(now + timedelta(days=30), "x", "x", When.DUE) is not None
    assert check_moment(None, "x", "x", when) is None


def test_days_have_the_same_ranges():
    today = timezone.localdate()
    assert day_error(date(1, 1, 1), When.CALENDAR, "日期") == "日期不能早于 2000-01-01。"
    assert day_error(date(2101, 1, 1), When.CALENDAR, "日期") == "日期不能晚于 2100-12-31。"
    assert day_error(today - timedelta(days=1), When.DUE, "整改期限") == "整改期限不能早于今天。"
    assert day_error(date(9999, 12, 31), When.DUE, "整改期限").startswith("整改期限不能晚于")
    assert day_error(today + timedelta(days=1), When.PAST, "举行日期") == "举行日期不能晚于今天。"
    assert check_day(today, "d", "d", When.PAST) == today


@pytest.mark.parametrize("raw", [None, "", "0", "-1", "abc", "1e3", "99999999999999999999", "²"])
def test_a_form_without_a_real_version_is_refused_not_run_unchecked(raw):
    with pytest.raises(ValidationFailed) as info:
        form_version(raw)
    assert list(info.value.errors) == ["version"] and "请刷新页面" in info.value.message
    assert form_version("7") == 7
