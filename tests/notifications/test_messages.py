"""Messages (F62): what goes to whom, from which template, once per event and recipient,
logged on the case with the recipient masked; opt-out and the organisation's switches
honoured; failures retried; the HTTP SMS gateway and the SMTP server are real ones on
loopback."""

from __future__ import annotations

import json
import traceback

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.events import EventKind
from huiyin.cases.inputs import PartyInput
from huiyin.cases.models import Event
from huiyin.cases.services import case_accept, case_answer_on_spot, case_record_event, case_register
from huiyin.core.errors import ApplicationError, PermissionDeniedError
from huiyin.deadlines.events import DeadlineEvent
from huiyin.handling import actions as handling_actions
from huiyin.notifications import services
from huiyin.notifications.backends import message_id_for
from huiyin.notifications.models import ChannelSwitch, Message, MessageStatus, MessageTemplate
from huiyin.notifications.services import CODE_HIDDEN
from huiyin.orgs.roles import Role
from huiyin.portal.links import case_for_token
from tests.conftest import intake, make_staff
from tests.stale import version_on

pytestmark = pytest.mark.django_db

PHONE, EMAIL = "13812345678", "zhang.wei@example.org"


def sms_lines(tmp_path) -> list[dict]:
    outbox = tmp_path / "outbox" / "sms.jsonl"
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()] if outbox.exists() else []


def register(clerk, capture, **party):
    values = {"name": "张伟", "phone": PHONE, "email": EMAIL, **party}
    with capture(execute=True):
        return case_register(actor=clerk, data=intake(party=PartyInput(**values)))


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


def test_the_receipt_carries_the_query_code_by_sms_and_email_once(
    clerk, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    case, code = register(clerk, django_capture_on_commit_callbacks)
    [sms] = sms_lines(tmp_path)
    assert sms["phone"] == PHONE and code in sms["body"] and case.number in sms["body"]
    [email] = mail.outbox
    assert email.to == [EMAIL] and code in email.body and case.number in email.subject
    event = Event.objects.get(case=case, kind=EventKind.REGISTERED)
    rows = {m.medium: m for m in Message.objects.filter(case=case)}
    assert set(rows) == {"sms", "email"} and all(m.status == MessageStatus.SENT for m in rows.values())
    assert rows["sms"].recipient_masked == "138****5678" and rows["email"].recipient_masked == "z***@example.org"
    # The case page's copy hides the code; the key is the gateway's idempotency key.
    assert code not in rows["sms"].shown_body and CODE_HIDDEN in rows["sms"].shown_body
    assert sms["key"] == rows["sms"].key == f"event:{event.pk}:receipt:sms:p{case.party_id}"
    assert email.extra_headers["Message-ID"] == message_id_for(rows["email"].key)
    # A retried task, a second dispatch of the event: nothing is sent twice.
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_after_commit(event.pk)
        services.message_send(rows["sms"].pk)
    assert len(sms_lines(tmp_path)) == 1 and len(mail.outbox) == 1
    assert Message.objects.filter(case=case).count() == 2


def test_an_sms_opt_out_is_honoured_and_shown(clerk, immediate_tasks, tmp_path, django_capture_on_commit_callbacks):
    case, _code = register(clerk, django_capture_on_commit_callbacks, sms_opt_out=True)
    assert sms_lines(tmp_path) == []
    withheld = Message.objects.get(case=case, medium="sms")
    assert withheld.status == MessageStatus.WITHHELD and "不接收短信" in withheld.reason
    assert withheld.recipient == "" and withheld.body == ""
    assert Message.objects.get(case=case, medium="email").status == MessageStatus.SENT


def test_the_organisation_decides_what_goes_out(
    clerk, org, admin, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    services.switch_set(actor=admin, purpose="receipt", medium="sms", enabled=False)
    case, _code = register(clerk, django_capture_on_commit_callbacks)
    assert sms_lines(tmp_path) == [] and list(Message.objects.filter(case=case).values_list("medium", flat=True)) == [
        "email"
    ]
    org.notify_complainants = False  # a training organisation: nothing to complainants at all
    org.save()
    clerk.organization.refresh_from_db()
    case, _code = register(clerk, django_capture_on_commit_callbacks, phone="13900001111")
    assert not Message.objects.filter(case=case).exists() and len(mail.outbox) == 1


def test_templates_are_the_organisations_own_with_checked_variables(
    clerk, admin, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    services.template_save(
        actor=admin,
        purpose="receipt",
        medium="sms",
        language="zh-hans",
        subject="",
        body="【{{ org }}】已收到，编号{{ number }}，查询码{{ query_code }}。",
    )
    case, code = register(clerk, django_capture_on_commit_callbacks)
    assert sms_lines(tmp_path)[0]["body"] == f"【示范市12345热线中心】已收到，编号{case.number}，查询码{code}。"
    with pytest.raises(ApplicationError) as refused:
        services.template_save(
            actor=admin, purpose="receipt", medium="sms", language="zh-hans", subject="", body="{{ password }}"
        )
    assert refused.value.field == "body" and "password" in str(refused.value.message)
    with pytest.raises(PermissionDeniedError):
        services.template_save(actor=clerk, purpose="receipt", medium="sms", language="zh-hans", subject="", body="x")
    services.template_reset(actor=admin, purpose="receipt", medium="sms", language="zh-hans")
    assert not MessageTemplate.objects.exists()


def test_a_complainant_who_chose_english_gets_english(
    clerk, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    case, code = register(clerk, django_capture_on_commit_callbacks, language="en")
    body = sms_lines(tmp_path)[0]["body"]
    assert "query code" in body.lower() and code in body and "查询码" not in body
    assert Message.objects.filter(case=case, language="en").count() == 2


def test_the_reply_links_to_the_cases_portal_page_and_the_table_can_point_elsewhere(
    clerk, settings, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    case, _code = register(clerk, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        case_answer_on_spot(actor=clerk, case_id=case.pk, reply="已联系物业维修。")
    reply = mail.outbox[-1]
    assert "已联系物业维修。" in reply.body and f"{settings.HUIYIN_PUBLIC_URL}/portal/c/" in reply.body
    link = reply.body[reply.body.index(f"{settings.HUIYIN_PUBLIC_URL}/portal/c/") :].split()[0]
    assert case_for_token(link.rstrip("/").rsplit("/", 1)[-1]) == case  # the signed link opens this case
    settings.HUIYIN_EVENT_TABLE = "tests.notifications.link_table"
    case2, _code = register(clerk, django_capture_on_commit_callbacks, phone="13900002222")
    assert f"https://portal.example/c/{case2.pk}" in sms_lines(tmp_path)[-1]["body"]


def test_staff_get_email_for_dispatch_and_deadlines_where_switched_on(
    clerk, admin, head, departments, immediate_tasks, django_capture_on_commit_callbacks
):
    head.email = "head@hotline.example"
    head.save()
    services.switch_set(actor=admin, purpose="dispatch", medium="email", enabled=True)
    services.switch_set(actor=admin, purpose="warning", medium="email", enabled=True)
    case, _code = register(clerk, django_capture_on_commit_callbacks, email="")
    with django_capture_on_commit_callbacks(execute=True):
        case_accept(actor=clerk, case_id=case.pk)
        handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    [dispatched] = mail.outbox
    assert dispatched.to == ["head@hotline.example"] and case.number in dispatched.subject
    assert f"/cases/{case.pk}/" in dispatched.body
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        case.refresh_from_db()
        event = case_record_event(
            case,
            kind=DeadlineEvent.DEADLINE_WARNING,
            actor=None,
            data={"stage_label": "办理时限", "due_at": "2030-01-02T17:00:00+08:00", "recipients": [head.pk]},
        )
    warning = mail.outbox[-1]
    assert "时限预警" in warning.subject and "办理时限将于 2030-01-02 17:00 到期" in warning.body
    assert Message.objects.get(event=event).staff_id == head.pk


def test_a_failing_gateway_is_retried_and_counted_then_sends_once(
    clerk, admin, settings, gateway, tmp_path, django_capture_on_commit_callbacks
):
    settings.HUIYIN_TASK_MAX_ATTEMPTS = 2
    gateway.fail_next = [503, 503, 503]
    case, code = case_register(actor=clerk, data=intake(party=PartyInput(name="张伟", phone=PHONE)))
    message = Message.objects.get(case=case)
    with pytest.raises(Exception, match="HTTP 503"):
        services.message_send(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason) == (
        MessageStatus.QUEUED,
        1,
        "GatewayError: SMS gateway answered HTTP 503",
    )
    with pytest.raises(Exception, match="HTTP 503"):
        services.message_send(message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and gateway.received == []
    services.message_resend(actor=admin, message_id=message.pk)  # after the gateway is fixed
    with pytest.raises(Exception, match="HTTP 503"):
        services.message_send(message.pk)
    assert services.message_send(message.pk) == MessageStatus.SENT
    [sent] = gateway.received
    assert sent == {"to": PHONE, "text": sent["text"], "key": message.key} and code in sent["text"]
    assert gateway.headers[0]["Idempotency-Key"] == message.key
    # Handed over again with the same key (a crash before the row was saved): delivered once.
    services.sms_backend().send(phone=PHONE, body=sent["text"], key=message.key)
    assert len(gateway.received) == 1


def test_a_refused_recipient_is_named_nowhere_the_failure_is_kept(
    clerk, smtp, settings, django_capture_on_commit_callbacks
):
    """The mail server refuses the address: the failure the task queue keeps (its traceback,
    shown on the system page and by ``huiyin tasks status``) and logs says what went wrong,
    never to whom (SMTPRecipientsRefused carries the address)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # the row is kept, not run
    smtp.refused.add(EMAIL)
    case, _code = register(clerk, django_capture_on_commit_callbacks, phone="")
    message = Message.objects.get(case=case)
    with pytest.raises(Exception) as failed:
        services.message_send(message.pk)
    kept = "".join(traceback.format_exception(failed.value))
    assert "recipient refused" in kept and EMAIL not in kept and "zhang.wei" not in kept
    message.refresh_from_db()
    assert message.reason == "SMTP recipient refused" and message.status == MessageStatus.QUEUED


def test_another_sms_backends_error_quoting_the_number_is_not_kept(
    clerk, monkeypatch, django_capture_on_commit_callbacks
):
    class Quoting:
        def send(self, *, phone, body, key):
            raise ValueError(f"number {phone} is not on our network")

    monkeypatch.setattr(services, "sms_backend", Quoting)
    case, _code = register(clerk, django_capture_on_commit_callbacks, email="")
    message = Message.objects.get(case=case)
    with pytest.raises(Exception) as failed:
        services.message_send(message.pk)
    message.refresh_from_db()
    assert message.reason == "ValueError" and PHONE not in "".join(traceback.format_exception(failed.value))


def test_the_receipt_reaches_a_real_smtp_server(clerk, smtp, immediate_tasks, django_capture_on_commit_callbacks):
    case, code = register(clerk, django_capture_on_commit_callbacks, phone="")
    [received] = smtp.wait_for(1)
    assert received["To"] == EMAIL and case.number in str(received["Subject"])
    assert code in received.get_content() and received["Reply-To"] == "intake@hotline.example"
    assert received["Auto-Submitted"] == "auto-generated"  # auto-responders leave it alone
    assert received["Message-ID"] == Message.objects.get(case=case).message_id
    assert Message.objects.get(case=case).status == MessageStatus.SENT


def test_the_case_page_shows_the_log_masked_and_records_an_opt_out(
    client, clerk, analyst, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    case, code = register(clerk, django_capture_on_commit_callbacks)
    client.force_login(clerk)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="notifications-panel"' in page and "138****5678" in page and "z***@example.org" in page
    assert code not in page.replace(case.number, "") and PHONE not in page and EMAIL not in page
    response = client.post(reverse("notifications:sms_opt_out", args=[case.pk]), {"sms_opt_out": "1"})
    assert response.status_code == 302
    case.party.refresh_from_db()
    assert case.party.sms_opt_out
    assert Event.objects.filter(case=case, kind="contact_preference").count() == 1
    client.force_login(analyst)  # sees the case, may not change the complainant's wishes
    assert client.post(reverse("notifications:sms_opt_out", args=[case.pk]), {"sms_opt_out": "0"}).status_code == 403
    case.party.refresh_from_db()
    assert case.party.sms_opt_out


def test_the_template_pages_are_the_administrators(client, admin, clerk):
    client.force_login(clerk)
    assert client.get(reverse("notifications:templates")).status_code == 403
    client.force_login(admin)
    page = client.get(reverse("notifications:templates")).content.decode()
    assert "受理回执" in page and "时限预警" in page
    url = reverse("notifications:template_edit", args=["reply", "email", "en"])
    edit = client.get(url).content.decode()
    assert "{{ link }}" in edit and "answered" in edit.lower()
    version = version_on(edit)
    response = client.post(url, {"subject": "Re: {{ number }}", "body": "Hello {{ nobody }}", "version": version})
    assert response.status_code == 400 and "nobody" in response.content.decode()
    response = client.post(url, {"subject": "Re: {{ number }}", "body": "Answered: {{ link }}", "version": version})
    assert response.status_code == 302
    assert MessageTemplate.objects.get(purpose="reply", language="en").body == "Answered: {{ link }}"
    assert client.get(reverse("notifications:template_edit", args=["reply", "fax", "en"])).status_code == 404
    response = client.post(reverse("notifications:switch", args=["dispatch", "email"]), {"enabled": "1"})
    assert response.status_code == 302 and ChannelSwitch.objects.get(purpose="dispatch").enabled


def test_staff_choose_their_own_address_and_mobile_and_get_sms_where_switched_on(
    client, clerk, admin, head, departments, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(head)
    url = reverse("notifications:my_contact")
    assert client.get(url).status_code == 200
    refused = client.post(url, {"email": "not-an-address", "mobile": "12345"})
    assert refused.status_code == 400 and "电子邮箱格式不正确" in refused.content.decode()
    assert "手机号码格式不正确" in refused.content.decode()
    assert client.post(url, {"email": "Head.Own@Example.org", "mobile": "139 0000 7777"}).status_code == 302
    services.switch_set(actor=admin, purpose="dispatch", medium="sms", enabled=True)
    services.switch_set(actor=admin, purpose="dispatch", medium="email", enabled=True)
    case, _code = register(clerk, django_capture_on_commit_callbacks, phone="", email="")
    with django_capture_on_commit_callbacks(execute=True):
        case_accept(actor=clerk, case_id=case.pk)
        handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    [sms] = sms_lines(tmp_path)
    assert sms["phone"] == "13900007777" and case.number in sms["body"] and "签收" in sms["body"]
    assert [m.to for m in mail.outbox] == [["head.own@example.org"]]
    rows = Message.objects.filter(case=case, staff=head)
    assert sorted(rows.values_list("medium", "recipient_masked")) == [
        ("email", "h***@example.org"),
        ("sms", "139****7777"),
    ]


def test_a_line_break_in_a_subject_does_not_stop_the_mail_nor_add_a_header(
    clerk, admin, immediate_tasks, django_capture_on_commit_callbacks
):
    # A carriage return pasted into the template's subject, and one in the case's title (a
    # title from the API or an e-mail's subject): Django refused the header (BadHeaderError),
    # so every receipt e-mail failed and was retried; the subject is sent on one line.
    services.template_save(
        actor=admin,
        purpose="receipt",
        medium="email",
        language="zh-hans",
        subject="已收到 {{ number }}\rBcc: evil@example.org\u2028{{ title }}",
        body="编号{{ number }}，查询码{{ query_code }}。",
    )
    assert "\r" not in MessageTemplate.objects.get().subject
    with django_capture_on_commit_callbacks(execute=True):
        case, _code = case_register(
            actor=clerk,
            data=intake(title="道路破损\r\n第二行", party=PartyInput(name="张伟", phone=PHONE, email=EMAIL)),
        )
    [email] = mail.outbox
    assert email.subject == f"已收到 {case.number} Bcc: evil@example.org 道路破损 第二行"
    headers = email.message().as_string().split("\n\n", 1)[0]
    assert "\nBcc:" not in headers and email.bcc == []
    assert "\r" not in email.subject and "\n" not in email.subject and "\u2028" not in email.subject
    assert Message.objects.get(case=case, medium="email").status == MessageStatus.SENT
