"""Default document texts (文书) and the letter PDF: every kind renders from its sample
context, uses no variable the sample lacks, and comes out of the PDF as text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from django.template import Context, Template

from huiyin.handling.document_texts import DEFAULT_TEMPLATES, DocumentKind, sample_context
from huiyin.handling.pdf import body_paragraphs, render_letter_pdf

KINDS = list(DocumentKind)
VARIABLE = re.compile(r"\{\{\s*(\w+)|\{%\s*(?:if|elif)\s+(?:not\s+)?(\w+)")
PAGE = re.compile(rb"/Type\s*/Page(?!s)")
COMMON = {"org_name", "case_number", "case_title", "received_date", "channel_label", "today"}
ADDRESSEES = {"department", "unit"}
OPTIONAL = {
    "case_number",
    "received_date",
    "channel_label",
    "overall_due_date",
    "refer_to",
    "assisting",
    "instructions",
    "due_date",
    "location",
    "plan_due_date",
    "review_hint",
    "authority_ref",
}


def _required() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")
        for name in ("CI", "HUIYIN_REQUIRE_BROWSER")
    )


def _need_tool(name: str) -> None:
    if shutil.which(name):
        return
    reason = f"{name} (poppler-utils) not installed"
    if _required():
        pytest.fail(f"{reason}; required here (CI or HUIYIN_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(f"PDF TEXT CHECK SKIPPED: {reason} — apt-get install poppler-utils")


def _run(*command: str, content: bytes) -> str:
    return subprocess.run(command, input=content, capture_output=True, check=True).stdout.decode()


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _render(kind: str, ctx: dict[str, str]) -> str:
    return Template(DEFAULT_TEMPLATES[kind][1]).render(Context(ctx))


def _letter(kind: str, body: str) -> bytes:
    ctx = sample_context(kind)
    return render_letter_pdf(
        org_name=ctx["org_name"],
        title=DEFAULT_TEMPLATES[kind][0],
        number=ctx["case_number"],
        addressee="张某某",
        body=body,
        issued_on=ctx["today"],
    )


def test_every_kind_has_a_default_text():
    assert set(DEFAULT_TEMPLATES) == set(DocumentKind.values)


@pytest.mark.parametrize("kind", KINDS)
def test_title_is_the_kind_label(kind):
    assert DEFAULT_TEMPLATES[kind][0] == str(kind.label)


@pytest.mark.parametrize("kind", KINDS)
def test_body_renders_from_the_sample_context(kind):
    text = _render(kind, sample_context(kind))
    assert "{{" not in text and "{%" not in text and "}}" not in text
    assert "<" not in text  # plain text, no HTML
    paragraphs = body_paragraphs(text)
    assert len(paragraphs) >= 3 and all(len(p) < 400 for p in paragraphs)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_context_covers_every_variable(kind):
    body = DEFAULT_TEMPLATES[kind][1]
    used = {name for match in VARIABLE.finditer(body) for name in match.groups() if name}
    assert used and used <= set(sample_context(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_value_shows_in_the_text(kind):
    """A value given for the kind but not printed would be a variable the template forgot
    (the department or unit a notice goes to is its addressee, printed by the letter)."""
    ctx = sample_context(kind)
    text = _render(kind, ctx)
    missing = {key for key, value in ctx.items() if value and value not in text}
    assert not missing - COMMON - ADDRESSEES


@pytest.mark.parametrize("kind", KINDS)
def test_optional_variables_may_be_empty(kind):
    ctx = {key: "" if key in OPTIONAL else value for key, value in sample_context(kind).items()}
    text = _render(kind, ctx)
    for leftover in ("编号：）", "于前", "通过渠道", "于收到", "，协办", "（）"):
        assert leftover not in text
    assert "\n\n\n" not in text and not text.startswith("\n") and not text.endswith("\n")


def test_reply_with_and_without_review_hint():
    ctx = sample_context(DocumentKind.REPLY_LETTER)
    assert ctx["review_hint"] in _render(DocumentKind.REPLY_LETTER, ctx)
    without = _render(DocumentKind.REPLY_LETTER, {**ctx, "review_hint": ""})
    assert "请求复查" not in without and without.rstrip().endswith("特此答复。")


def test_rereview_opinion_is_final():
    text = _render(DocumentKind.REREVIEW_DECISION, sample_context(DocumentKind.REREVIEW_DECISION))
    assert "终结意见" in text and "不再受理" in text


@pytest.mark.parametrize("kind", KINDS)
def test_letter_pdf_contains_title_number_and_body(kind):
    body = _render(kind, sample_context(kind))
    content = _letter(kind, body)
    assert content.startswith(b"%PDF")
    _need_tool("pdftotext")
    text = _squash(_run("pdftotext", "-", "-", content=content))
    ctx = sample_context(kind)
    assert DEFAULT_TEMPLATES[kind][0] in text and ctx["case_number"] in text
    assert "张某某：" in text and ctx["today"] in text
    for paragraph in body_paragraphs(body):
        assert _squash(paragraph) in text


def test_letter_pdf_title_metadata():
    content = _letter(DocumentKind.ACCEPTANCE_NOTICE, "正文。")
    _need_tool("pdfinfo")
    assert "受理告知书 20261123-00001" in _run("pdfinfo", "-", content=content)


def test_long_body_flows_onto_further_pages():
    paragraph = "经调查核实，投诉反映的问题属实，本单位已责成有关单位限期整改。" * 10
    body = "\n\n".join([paragraph] * 20)
    assert len(body) > 6000
    content = _letter(DocumentKind.REPLY_LETTER, body)
    assert len(PAGE.findall(content)) > 1


def test_signature_never_stands_alone_on_the_last_page():
    paragraph = "经调查核实，投诉反映的问题属实，本单位已责成有关单位限期整改。" * 3
    for count in range(6, 16):  # one of these puts the page break right before the signature
        body = "\n\n".join([paragraph] * count + ["特此答复。"])
        content = _letter(DocumentKind.REPLY_LETTER, body)
        pages = str(len(PAGE.findall(content)))
        _need_tool("pdftotext")
        last = _run("pdftotext", "-f", pages, "-l", pages, "-", "-", content=content)
        assert "特此答复。" in last and "2026年11月30日" in last
