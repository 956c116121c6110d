"""The workbench through Django's test client: forms, errors, receipts, privacy in URLs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone

from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.cases.services import query_code_matches
from huiyin.core import crypto

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


PHONE_FORM = {
    "party_phone": "13812345678",
    "party_name": "张伟",
    "nature": "complaint",
    "text": "楼上漏水严重，天花板已经发霉。",
    "urgency": "normal",
    "intake_token": "form-1",
}


def test_login_page_is_chinese(client):
    response = client.get(reverse("login"))
    assert "登录" in response.content.decode()


def test_pages_need_login(client):
    response = client.get(reverse("cases:ledger"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_phone_intake_registers_and_shows_the_case(clerk_client):
    response = clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM, follow=True)
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == reverse("cases:detail", args=[case.pk])
    html = response.content.decode()
    assert case.number in html and "已登记" in html
    assert "138****5678" in html and "13812345678" not in html


def test_double_submit_registers_once(clerk_client):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    response = clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM, follow=True)
    assert Case.objects.count() == 1
    assert "未重复登记" in response.content.decode()


def test_bad_input_shows_chinese_errors_next_to_fields_and_keeps_input(clerk_client):
    data = {**PHONE_FORM, "party_phone": "12345678901", "party_id_number": "110105194912310021"}
    response = clerk_client.post(reverse("cases:intake", args=["phone"]), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-field="party_phone"' in html and "联系电话格式不正确" in html
    assert 'data-field="party_id_number"' in html and "校验位错误" in html
    assert "楼上漏水严重，天花板已经发霉。" in html  # nothing the clerk typed is lost
    assert Case.objects.count() == 0


def test_an_empty_phone_form_names_the_text_not_the_optional_title(clerk_client):
    """Walk of a working day: 登记 on an empty form said 标题不能为空 right above the
    title's own hint 可留空，将取诉求内容的第一句."""
    data = {**PHONE_FORM, "text": "", "title": ""}
    response = clerk_client.post(reverse("cases:intake", args=["phone"]), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-field="text"' in html and "诉求内容不能为空" in html
    assert 'data-field="title"' not in html and "标题不能为空" not in html
    assert Case.objects.count() == 0


def test_a_bad_representative_phone_is_shown_on_the_representatives_box(clerk_client):
    data = {**PHONE_FORM, "representatives": "赵六 13900001111\n钱七 12345678901"}
    response = clerk_client.post(reverse("cases:intake", args=["visit"]), data)
    assert response.status_code == 400
    assert 'data-field="representatives">联系电话格式不正确' in response.content.decode()
    assert Case.objects.count() == 0


def test_caller_history_is_a_post_and_lists_earlier_cases(clerk_client):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    assert clerk_client.get(reverse("cases:caller_history")).status_code == 405
    response = clerk_client.post(reverse("cases:caller_history"), {"party_phone": "138 1234 5678"})
    assert Case.objects.get().number in response.content.decode()


def test_repeat_call_from_the_intake_form(clerk_client):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    repeat = {**PHONE_FORM, "text": "第二次来电催促，漏水更严重了。", "intake_token": "form-2"}
    response = clerk_client.post(reverse("cases:add_contact", args=[case.pk]), repeat, HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("cases:detail", args=[case.pk])
    assert Case.objects.count() == 1
    assert list(case.contacts.values_list("text", flat=True))[-1] == "第二次来电催促，漏水更严重了。"


def test_only_allowed_actions_are_offered(clerk_client, client, analyst):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    html = clerk_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-action="accept"' in html and 'data-action="close"' not in html
    response = clerk_client.post(
        reverse("cases:act", args=[case.pk, "close"]), {"satisfaction": "satisfied", "version": case.version}
    )
    assert response.status_code == 400 and "不能变更为" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "registered"


def test_action_errors_are_named_and_nothing_changes(clerk_client):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    response = clerk_client.post(reverse("cases:act", args=[case.pk, "not_accept"]), {"ground": "", "version": 1})
    assert response.status_code == 400 and "请选择或填写不予受理的理由" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "registered"


def test_reveal_logs_a_full_view(clerk_client, clerk):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    response = clerk_client.post(reverse("cases:reveal", args=[case.pk]))
    assert "13812345678" in response.content.decode()
    assert Event.objects.filter(case=case, kind=EventKind.PII_VIEWED, actor=clerk).count() == 1


def test_receipt_html_shows_code_once_then_hides_it(clerk_client):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    html = clerk_client.get(reverse("cases:receipt", args=[case.pk])).content.decode()
    assert case.number in html and "受理凭证" in html and "承诺时限" in html and "/status/" in html


def test_case_page_shows_the_new_query_code_once_after_registration(clerk_client):
    response = clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM, follow=True)
    case = Case.objects.get()
    html = response.content.decode()
    code = re.search(r'id="new-query-code">([23456789A-Z]{8})<', html).group(1)  # the page after registration
    assert query_code_matches(case, code)
    # The session row (readable by anyone with the database) keeps it sealed, as the case row keeps a hash.
    from django.contrib.sessions.models import Session

    stored = Session.objects.get(session_key=clerk_client.session.session_key)
    assert code not in json.dumps(stored.get_decoded()) and code not in stored.session_data
    again = clerk_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="new-query-code"' not in again and code not in again  # once only
    # The receipt still shows it in this session.
    assert code in clerk_client.get(reverse("cases:receipt", args=[case.pk])).content.decode()


def test_session_stays_bounded_over_a_shift_of_registrations(clerk_client):
    """Each registration keeps its query code in the clerk's session; the session is read
    and written on every request, so a shift of registrations must not make it grow."""
    from django.contrib.sessions.models import Session

    from huiyin.cases.views import RECEIPT_CODES_KEPT

    def session_bytes() -> int:
        return len(Session.objects.get(session_key=clerk_client.session.session_key).session_data)

    sizes = []
    shift = 3 * RECEIPT_CODES_KEPT + 1  # full after KEPT; flat over twice as many more
    for i in range(shift):
        form = {**PHONE_FORM, "intake_token": f"shift-{i}", "text": f"第{i}件：楼上漏水严重。"}
        response = clerk_client.post(reverse("cases:intake", args=["phone"]), form, follow=True)
        assert response.status_code == 200
        sizes.append(session_bytes())
    assert Case.objects.count() == shift
    newest = list(Case.objects.order_by("-id").values_list("pk", flat=True)[:RECEIPT_CODES_KEPT])
    codes = clerk_client.session["receipt_codes"]
    assert sorted(int(pk) for pk in codes) == sorted(newest)
    full = RECEIPT_CODES_KEPT - 1
    assert max(sizes[full + 1 :]) <= sizes[full] + 16  # flat once full (ids may gain a digit)
    # The newest receipts still show their code; an old one says it was given already.
    latest = newest[0]
    receipt = clerk_client.get(reverse("cases:receipt", args=[latest])).content.decode()
    assert crypto.unseal(codes[str(latest)]) in receipt
    oldest = Case.objects.order_by("id").first()
    old_receipt = clerk_client.get(reverse("cases:receipt", args=[oldest.pk])).content.decode()
    assert "已在首次出具时告知" in old_receipt


def test_receipt_pdf_contains_chinese_text(clerk_client):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    response = clerk_client.get(reverse("cases:receipt_pdf", args=[case.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed; CI installs it")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "受理凭证" in text and case.number in text and "查询码" in text


def test_public_status_check_with_query_code(clerk_client, client):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    code = crypto.unseal(clerk_client.session["receipt_codes"][str(case.pk)])
    ok = client.post(reverse("public:status"), {"number": case.number, "code": code.lower()})
    assert "已登记" in ok.content.decode()
    bad = client.post(reverse("public:status"), {"number": case.number, "code": "WRONG123"})
    assert "编号或查询码不正确" in bad.content.decode()


def test_english_translation(clerk_client):
    clerk_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = clerk_client.get(reverse("cases:ledger")).content.decode()
    assert "Ledger" in html and "台账" not in html


def test_the_receipt_in_english_gives_the_promised_day_in_english(clerk_client):
    """Walk of a working day: the English receipt read "2026年12月25日 (reply by this date)"."""
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    due = timezone.localtime(case.promised_due_at)
    html = clerk_client.get(reverse("cases:receipt", args=[case.pk])).content.decode()
    assert f"{due:%Y年%m月%d日}前答复" in html
    clerk_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = clerk_client.get(reverse("cases:receipt", args=[case.pk])).content.decode()
    assert f"{due:%Y-%m-%d} (reply by this date)" in html and "年" not in html


def test_ledger_keyword_search(clerk_client):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    number = Case.objects.get().number
    assert number in clerk_client.get(reverse("cases:ledger"), {"q": "漏水"}).content.decode()
    assert number not in clerk_client.get(reverse("cases:ledger"), {"q": "噪音"}).content.decode()


def test_the_ledger_search_box_keeps_a_callers_name_and_number_out_of_urls(clerk_client):
    """A clerk searches the ledger for a caller by name or number: the word goes by POST and
    the list's link carries it encrypted, so it is in no URL — not the access log's, a
    Referer's, the browser history's, nor the links to other pages and exports."""
    clerk_client.post(reverse("cases:intake", args=["phone"]), {**PHONE_FORM, "text": "张伟来电：楼上漏水严重。"})
    number = Case.objects.get().number
    for word in ("张伟", "漏水"):
        response = clerk_client.post(reverse("cases:ledger"), {"q": word, "nature": "complaint"})
        assert response.status_code == 302
        link = response["Location"]
        assert word not in unquote(link) and "q=" not in link.replace("qx=", "") and "nature=complaint" in link
        page = clerk_client.get(link)
        html = page.content.decode()
        assert page.status_code == 200 and number in html and f'value="{word}"' in html
        links = [unquote(href) for href in re.findall(r'(?:href|action)="([^"]*)"', html)]
        assert any("export.csv" in href and "qx=" in href for href in links)
        assert not [href for href in links if word in href]  # other pages, exports, print
        export = clerk_client.get(link.replace("/cases/", "/cases/export.csv"))
        assert b"".join(export.streaming_content).decode("utf-8-sig").count(number) == 1
    tampered = clerk_client.get(reverse("cases:ledger"), {"qx": "not-a-token"})
    assert tampered.status_code == 400 and "关键词已失效" in tampered.content.decode()
    assert number not in clerk_client.post(reverse("cases:ledger"), {"q": "噪音"}, follow=True).content.decode()


def test_case_outside_my_scope_is_forbidden_not_an_error(clerk_client, client, other_handler):
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    client.force_login(other_handler)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 403
    assert client.get(reverse("cases:receipt_pdf", args=[case.pk])).status_code == 403


def _approved(register, clerk, handler, leader) -> Case:
    """A case whose reply is due: the case page offers the handler the reply form."""
    from huiyin.cases import services
    from huiyin.handling import actions as handling_actions

    case = register()
    services.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=handler.department_id)
    handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    handling_actions.case_submit_for_approval(
        actor=handler, case_id=case.pk, proposal="已协调物业维修", outcome="resolved"
    )
    handling_actions.case_approve(actor=leader, case_id=case.pk, comments="同意")
    case.refresh_from_db()
    return case


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reply": "   "}, "reply", "请填写答复内容。"),
        ({"reply": "答" * 20_001}, "reply", "答复内容过长：最多 20000 字，当前 20001 字。"),
        ({"reply": "物业已维修。", "replied_at": "2099-01-01T09:00"}, "replied_at", "答复时间不能晚于现在。"),
    ],
    ids=["empty", "too-long", "in-the-future"],
)
def test_a_bad_reply_comes_back_next_to_its_field_not_as_a_500(
    client, settings, register, clerk, handler, leader, data, field, message
):
    settings.HUIYIN_TEXT_MAX_CHARS = 20000
    case = _approved(register, clerk, handler, leader)
    events = Event.objects.filter(case=case).count()
    client.force_login(handler)
    form = {"method": "phone", "version": case.version, **data}
    response = client.post(reverse("cases:act", args=[case.pk, "reply"]), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<div class="invalid-feedback d-block" data-field="{field}">{message}</div>' in html
    assert 'data-action="reply"' in html and 'open data-action="reply"' in html
    case.refresh_from_db()
    assert case.state == "approved" and Event.objects.filter(case=case).count() == events


def test_the_intake_form_takes_the_complainants_email_stored_encrypted_and_shown_masked(clerk_client):
    """Issue 15: staff register an e-mail address, so e-mail notices reach people they register."""
    from django.db import connection

    data = {**PHONE_FORM, "party_email": "Zhang.Wei@Example.org "}
    response = clerk_client.post(reverse("cases:intake", args=["phone"]), data, follow=True)
    case = Case.objects.get()
    assert case.party.email == "Zhang.Wei@Example.org"
    with connection.cursor() as cursor:
        cursor.execute("SELECT email, email_hash FROM cases_party WHERE id = %s", [case.party_id])
        stored, email_hash = cursor.fetchone()
    assert "Example.org" not in stored and stored.startswith("gAAAAA") and len(email_hash) == 64
    html = response.content.decode()
    assert 'id="masked-email">Z***@Example.org<' in html and "Zhang.Wei@" not in html
    revealed = clerk_client.post(reverse("cases:reveal", args=[case.pk])).content.decode()
    assert "Zhang.Wei@Example.org" in revealed  # in full only through the logged reveal
    assert Event.objects.filter(case=case, kind=EventKind.PII_VIEWED).count() == 1


def test_a_bad_email_on_the_intake_form_is_named_next_to_its_field(clerk_client):
    data = {**PHONE_FORM, "party_email": "zhang.wei@"}
    response = clerk_client.post(reverse("cases:intake", args=["phone"]), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-field="party_email">电子邮箱格式不正确' in html
    assert Case.objects.count() == 0


def test_public_status_check_locks_a_number_after_wrong_query_codes(clerk_client, client, settings):
    """/status/ (printed on every receipt) is under the portal's limits, in the same buckets:
    after the wrong codes a number allows, even the right code is refused for the window,
    whether the number exists or not; the address's look-ups are limited too."""
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "code_number": "3/900", "lookup_ip": "12/600"}
    clerk_client.post(reverse("cases:intake", args=["phone"]), PHONE_FORM)
    case = Case.objects.get()
    code = crypto.unseal(clerk_client.session["receipt_codes"][str(case.pk)])
    url = reverse("public:status")
    for guess in ("WRONG123", "WRONG234", "WRONG345"):
        assert client.post(url, {"number": case.number, "code": guess}).status_code == 200
    locked = client.post(url, {"number": case.number, "code": code})
    assert locked.status_code == 429 and "已登记" not in locked.content.decode()
    assert "错误次数过多" in locked.content.decode()
    # A number that does not exist locks the same way: the answer never tells which exist.
    for guess in ("WRONG123", "WRONG234", "WRONG345"):
        assert client.post(url, {"number": "20200101-00001", "code": guess}).status_code == 200
    assert client.post(url, {"number": "20200101-00001", "code": "WRONG456"}).status_code == 429
    # The portal counts the same wrong codes: guessing on one page does not reset the other.
    portal = reverse("portal:status", kwargs={"org": case.organization.code})
    assert client.post(portal, {"number": case.number, "code": code}).status_code == 429
    # And the address's look-ups run out.
    answers = [client.post(url, {"number": f"2020010{i}-00001", "code": "X"}).status_code for i in range(6)]
    assert answers[-1] == 429
