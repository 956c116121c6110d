"""Security headers on pages, PDFs and spreadsheets, and templates the Content-Security-Policy allows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import huiyin

pytestmark = pytest.mark.django_db
TEMPLATES = sorted(Path(huiyin.__file__).parent.glob("*/templates/**/*.html"))


def assert_hardened(response) -> None:
    csp = response["Content-Security-Policy"]
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in csp
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "no-cache", "private"} <= cache
    assert response["Pragma"] == "no-cache"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_login_page(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_hardened(response)


def test_case_page_and_receipt_pdf(client, clerk, register):
    case = register()
    client.force_login(clerk)
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200
    assert_hardened(page)
    pdf = client.get(reverse("cases:receipt_pdf", args=[case.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert_hardened(pdf)


def test_excel_export(client, leader):
    client.force_login(leader)
    response = client.get(reverse("evaluation:export"), {"start": "2026-03-01", "end": "2026-03-31", "by": "staff"})
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    assert_hardened(response)


def test_public_status_page_and_errors_are_not_cached_either(client):
    assert_hardened(client.get("/status/"))
    assert_hardened(client.get("/no-such-page/"))


def test_static_files_stay_cacheable(client):
    response = client.get("/static/huiyin/huiyin.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_hsts_and_https_redirect_with_the_production_settings(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # the security middleware reads these settings when it starts
    response = client.get(reverse("login"), secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    plain = client.get(reverse("login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")


# What the policy would block: inline code and styles, inline event handlers, javascript: URLs.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
FORBIDDEN = {
    "inline <script>": INLINE_SCRIPT,
    "<style> element": re.compile(r"<style\b", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "on*= event handler": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_there_are_templates_to_scan():
    assert len(TEMPLATES) > 30


def test_no_template_has_inline_script_or_style():
    """Move code to a static .js file and styles to a class in huiyin.css: the CSP refuses inline ones."""
    offenders = [
        f"{path.relative_to(path.parents[2])}:{number}: {what}"
        for path in TEMPLATES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]
    assert offenders == []


def test_the_scan_catches_what_it_should():
    samples = [
        "<script>alert(1)</script>",
        '<div style="color:red">',
        '<button onclick="go()">',
        "<style>",
        '<a href="javascript:x">',
    ]
    assert all(any(p.search(s) for p in FORBIDDEN.values()) for s in samples)
    assert not any(p.search('<script src="/static/x.js" defer></script>') for p in FORBIDDEN.values())
    assert not any(p.search('{{ data|json_script:"x" }}') for p in FORBIDDEN.values())
