"""The PDF receipt keeps the status page's address whole: the complainant types it from paper."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.urls import reverse
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from huiyin.cases.receipts import URL_MIN_SIZE, pdf_font, wrap

pytestmark = pytest.mark.django_db

LINE_WIDTH = A5[0] - 30 * mm  # the receipt's text column: 15 mm margins
ADDRESSES = (
    "http://127.0.0.1:8000",  # the default: long enough that the old 30-character wrap cut it
    "https://xinfang.shifan-city.gov.cn/huiyin",
    "https://www.shifan-city-12345-service-platform.gov.cn/portal/complaints/huiyin",
)


def _pdf_text(content: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed; CI installs it")
    return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


@pytest.mark.parametrize("public_url", ADDRESSES)
def test_the_pdf_receipt_prints_the_status_address_whole_on_one_line(settings, client, clerk, register, public_url):
    settings.HUIYIN_PUBLIC_URL = public_url
    case = register()
    client.force_login(clerk)
    response = client.get(reverse("cases:receipt_pdf", args=[case.pk]))
    assert response.status_code == 200
    address = public_url + "/status/"
    lines = _pdf_text(response.content).splitlines()
    assert any(address in line for line in lines), f"{address} is not whole on one line: {lines}"
    assert case.number in lines[lines.index(next(line for line in lines if case.number in line))]


def test_wrapping_never_cuts_a_web_address_that_fits_a_line():
    font, _embedded = pdf_font()
    address = "http://127.0.0.1:8000/status/"
    text = f"1. 登录 {address} ，输入编号和查询码；"
    lines = wrap(text, font, 10, 60 * mm)  # narrow: the address must move to a line of its own
    assert any(line.startswith(address) for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost or repeated
    assert all(pdfmetrics.stringWidth(line, font, 10) <= 60 * mm for line in lines)


def test_an_address_wider_than_the_line_is_kept_whole_when_it_fits_smaller():
    font, _embedded = pdf_font()
    address = ADDRESSES[2] + "/status/"
    assert pdfmetrics.stringWidth(address, font, 10) > LINE_WIDTH  # the case this is about
    lines = wrap(f"1. 登录 {address} ，输入编号和查询码；", font, 10, LINE_WIDTH, shrink_to=URL_MIN_SIZE)
    assert address in lines  # alone on its line, printed at the smaller size


def test_chinese_text_breaks_between_characters_within_the_width():
    font, _embedded = pdf_font()
    text = "请妥善保管查询码，工作人员不会向您索要查询码以外的密码。" * 3
    lines = wrap(text, font, 10, LINE_WIDTH)
    assert len(lines) > 1 and "".join(lines) == text
    assert all(pdfmetrics.stringWidth(line, font, 10) <= LINE_WIDTH for line in lines)
