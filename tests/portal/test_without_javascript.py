"""Submitting without JavaScript (issue 15): the proof of work needs a script, so the form
keeps a question in ``<noscript>`` — an addition or subtraction whose answer is sealed in a
signed token — and opens a slower path: its own low limits per address and for the whole
site, wrong answers counted against the address, the question used once."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from huiyin.cases.models import Case, Channel
from huiyin.portal import challenge

from .conftest import form_data, receipt_of
from .test_submission import counts

pytestmark = pytest.mark.django_db

QUESTION_RE = re.compile(r'<noscript>.*?name="question" value="([^"]+)".*?id="question-text">([^<]+)<', re.S)


def page_question(html: str) -> challenge.Question:
    """The question as a browser without JavaScript shows it (inside <noscript>)."""
    token, text = QUESTION_RE.search(html).groups()
    return challenge.Question(token=token, text=text)


def answered(client, org, *, right: bool = True, **overrides) -> dict:
    """What a browser without JavaScript posts: no solution, the question and its answer."""
    form = client.get(f"/portal/{org.code}/submit/").content.decode()
    question = page_question(form)
    answer = challenge.answer_of(question)
    data = form_data(solution="", question=question.token, answer=answer if right else str(int(answer) + 1))
    data.update(overrides)
    return data


def post(client, org, data):
    return client.post(f"/portal/{org.code}/submit/", data)


def test_the_form_keeps_a_question_for_browsers_without_javascript(client, hotline, org):
    html = client.get(f"/portal/{org.code}/submit/").content.decode()
    noscript = html.split("<noscript>", 2)
    assert len(noscript) == 3  # the note at the top and the question by the button
    assert "请在页面下方回答验证问题后提交" in noscript[1]
    question = page_question(html)
    assert re.fullmatch(r"\d+ [加减] \d+ 等于几？", question.text)
    # The token holds a nonce, the time and a mac over them and the answer: not the answer.
    assert re.fullmatch(r"2\.[A-Za-z0-9_-]{16,32}\.\d+\.[0-9a-f]{32}", question.token)
    assert 'for="id_answer"' in html and 'inputmode="numeric"' in html


def test_a_right_answer_registers_the_matter_without_javascript(client, hotline, org):
    response = post(client, org, answered(client, org))
    assert response.status_code == 302 and response["Location"] == f"/portal/{org.code}/receipt/"
    case, code = receipt_of(client, org)
    assert case.channel == Channel.ONLINE and len(code) == 8
    assert case.intake_token.startswith("portal-")  # single use, like the proof of work


def test_a_full_width_answer_from_a_phone_keyboard_is_read(client, hotline, org):
    data = answered(client, org)
    data["answer"] = data["answer"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert post(client, org, data).status_code == 302


def test_a_wrong_or_missing_answer_is_named_next_to_the_question_and_nothing_is_created(client, hotline, org):
    before = counts()
    wrong = post(client, org, answered(client, org, right=False))
    html = wrong.content.decode()
    assert wrong.status_code == 400 and 'id="err-answer"' in html and "答案不正确" in html
    assert "李娜" in html and "小区东门路灯坏了" in html  # what the person typed is kept
    assert page_question(html).token != wrong.wsgi_request.POST["question"]  # a new question
    empty = post(client, org, answered(client, org, answer=""))
    assert empty.status_code == 400 and "请回答验证问题" in empty.content.decode()
    forged = answered(client, org)  # the mac binds the answer: a changed mac is a wrong answer
    forged["question"] = forged["question"][:-1] + ("0" if forged["question"][-1] != "0" else "1")
    assert "答案不正确" in post(client, org, forged).content.decode()
    garbled = answered(client, org, question="2.not-a-question")
    assert "安全验证无效" in post(client, org, garbled).content.decode()
    assert counts() == before


def test_a_question_is_used_once(client, hotline, org):
    data = answered(client, org)
    assert post(client, org, data).status_code == 302
    before = counts()
    replay = post(client, org, data)
    assert replay.status_code == 400 and "已经提交过" in replay.content.decode()
    assert counts() == before


def test_an_old_question_expires(client, hotline, org, settings):
    question = challenge.issue_question(now=time.time() - settings.HUIYIN_PORTAL_CHALLENGE_SECONDS - 10)
    data = form_data(solution="", question=question.token, answer=challenge.answer_of(question))
    assert "安全验证已过期" in post(client, org, data).content.decode()


def test_the_slower_path_has_its_own_low_limit_per_address(client, hotline, org, settings):
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "submit_nojs_ip": "2/3600"}
    for i in range(2):
        assert post(client, org, answered(client, org, phone=f"1390000{i:04d}")).status_code == 302
    refused = post(client, org, answered(client, org, phone="13900009999"))
    html = refused.content.decode()
    assert refused.status_code == 429 and 'id="err-answer"' in html and "未启用 JavaScript 的提交次数已达上限" in html
    # The proof of work from the same address is not held back by the slower path's limit.
    assert post(client, org, form_data(phone="13900008888")).status_code == 302
    assert Case.objects.count() == 3


def test_the_whole_site_has_an_allowance_for_the_slower_path(hotline, org, settings):
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "submit_nojs_all": "2/3600"}
    for i in range(2):  # two different addresses
        browser = Client(REMOTE_ADDR=f"198.51.100.{i + 1}")
        assert post(browser, org, answered(browser, org, phone=f"1390000{i:04d}")).status_code == 302
    browser = Client(REMOTE_ADDR="198.51.100.9")
    refused = post(browser, org, answered(browser, org, phone="13900009999"))
    assert refused.status_code == 429 and "拨打热线" in refused.content.decode()


def test_wrong_answers_lock_the_address_so_the_answer_cannot_be_guessed(client, hotline, org, settings):
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "nojs_wrong_ip": "3/3600"}
    for _ in range(3):
        assert "答案不正确" in post(client, org, answered(client, org, right=False)).content.decode()
    locked = post(client, org, answered(client, org))  # even the right answer, while locked
    assert locked.status_code == 429 and "答错次数过多" in locked.content.decode()
    assert not Case.objects.exists()
