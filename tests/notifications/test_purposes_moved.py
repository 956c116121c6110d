"""The messages that used to have their own senders (issue 15): the rating link, the extension
notice and the repeat-call notice to staff are notification purposes now — the organisation's
editable templates (Chinese and English), its switches, the SMS opt-out, exactly once per event
and recipient, each logged on the case as a ``Message`` with the recipient masked. And a
complainant registered by staff with an e-mail address gets the e-mails."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.urls import reverse

from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.inputs import PartyInput
from huiyin.cases.models import Case, Event
from huiyin.cases.services import case_accept, case_answer_on_spot, case_register, contact_add
from huiyin.core.models import OutboundMessage
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.services import extension_decide, extension_request
from huiyin.followup.events import FollowupEvent
from huiyin.followup.models import Callback
from huiyin.followup.services import rating_link_issue
from huiyin.handling import actions as handling_actions
from huiyin.notifications import services
from huiyin.notifications.models import Message, MessageStatus
from huiyin.notifications.services import CODE_HIDDEN
from huiyin.orgs.roles import Role
from tests.conftest import intake, make_staff
from tests.followup.test_callbacks import replied
from tests.policy.conftest import activate

pytestmark = pytest.mark.django_db

PHONE, EMAIL = "13812345678", "zhang.wei@example.org"


def sms_lines(tmp_path) -> list[dict]:
    outbox = tmp_path / "outbox" / "sms.jsonl"
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()] if outbox.exists() else []


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


@pytest.fixture
def officer(org):
    return make_staff(org, "officer", [Role.CALLBACK_OFFICER])


@pytest.fixture
def answered(org, clerk, handler, departments, immediate_tasks, tmp_path, django_capture_on_commit_callbacks):
    """A property-management case registered with a phone and an e-mail, answered: a callback is due."""
    activate(org, "property_management")
    with django_capture_on_commit_callbacks(execute=True):
        case, _code = case_register(actor=clerk, data=intake(party=PartyInput(name="张伟", phone=PHONE, email=EMAIL)))
        case = replied(case, clerk=clerk, handler=handler, departments=departments)
    mail.outbox.clear()
    (tmp_path / "outbox" / "sms.jsonl").unlink(missing_ok=True)
    return case


# --- the rating link ---------------------------------------------------------------------------------


def test_the_rating_link_goes_by_sms_and_email_once_and_the_case_page_hides_it(
    answered, officer, tmp_path, django_capture_on_commit_callbacks
):
    callback = Callback.objects.get(case=answered)
    with django_capture_on_commit_callbacks(execute=True):
        link, url = rating_link_issue(actor=officer, callback_id=callback.pk)
    event = Event.objects.get(case=answered, kind=FollowupEvent.RATING_LINK_ISSUED)
    assert event.data["link_id"] == link.pk and url not in json.dumps(event.data)  # the link is not stored
    [sms] = sms_lines(tmp_path)
    assert sms["phone"] == PHONE and url in sms["body"] and answered.number in sms["body"]
    assert sms["key"] == f"event:{event.pk}:rating_link:sms:p{answered.party_id}"
    [email] = mail.outbox
    assert email.to == [EMAIL] and url in email.body and "只能使用一次" in email.body
    rows = {m.medium: m for m in Message.objects.filter(case=answered, purpose="rating_link")}
    assert set(rows) == {"sms", "email"} and all(m.status == MessageStatus.SENT for m in rows.values())
    assert rows["sms"].recipient_masked == "138****5678"
    assert url not in rows["sms"].shown_body and CODE_HIDDEN in rows["sms"].shown_body
    # A second dispatch of the event and a retried send task: nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_after_commit(event.pk)
        services.message_send(rows["sms"].pk)
    assert len(sms_lines(tmp_path)) == 1 and len(mail.outbox) == 1
    assert not OutboundMessage.objects.exists()  # the old sender's log is history


def test_the_rating_link_uses_the_organisations_template_and_honours_the_opt_out(
    answered, officer, admin, tmp_path, django_capture_on_commit_callbacks
):
    services.template_save(
        actor=admin,
        purpose="rating_link",
        medium="sms",
        language="zh-hans",
        subject="",
        body="【{{ org }}】请为{{ number }}打分：{{ rating_link }}",
    )
    with django_capture_on_commit_callbacks(execute=True):
        _link, url = rating_link_issue(actor=officer, callback_id=Callback.objects.get(case=answered).pk)
    assert sms_lines(tmp_path)[0]["body"] == f"【示范市12345热线中心】请为{answered.number}打分：{url}"
    # The complainant asked for no texts: the next link goes by e-mail only, the SMS kept as withheld.
    party = answered.party
    party.sms_opt_out = True
    party.save(update_fields=["sms_opt_out"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        rating_link_issue(actor=officer, callback_id=Callback.objects.get(case=answered).pk)
    assert len(sms_lines(tmp_path)) == 1 and len(mail.outbox) == 1
    withheld = Message.objects.filter(case=answered, purpose="rating_link", medium="sms").order_by("-pk").first()
    assert withheld.status == MessageStatus.WITHHELD and withheld.body == ""


def test_the_rating_link_in_english_for_a_complainant_who_chose_english(
    answered, officer, tmp_path, django_capture_on_commit_callbacks
):
    party = answered.party
    party.language = "en"
    party.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        _link, url = rating_link_issue(actor=officer, callback_id=Callback.objects.get(case=answered).pk)
    body = sms_lines(tmp_path)[0]["body"]
    assert url in body and "rate" in body.lower() and "评价" not in body


# --- the extension notice ----------------------------------------------------------------------------


def test_an_approved_extension_tells_the_complainant_by_sms_and_email(
    org,
    clerk,
    handler,
    departments,
    hospital_offices,
    admin,
    immediate_tasks,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    activate(org, "hospital")
    supervisor = make_staff(org, "supervisor", [Role.SUPERVISOR])
    with django_capture_on_commit_callbacks(execute=True):
        case, _code = case_register(
            actor=clerk,
            data=intake(
                channel="visit",
                party=PartyInput(name="张伟", phone=PHONE, email=EMAIL),
                complainant_kind="inpatient",
            ),
        )
        handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    mail.outbox.clear()
    (tmp_path / "outbox" / "sms.jsonl").unlink(missing_ok=True)
    ext = extension_request(actor=handler, case_id=case.pk, stage="reply", amount=3, reason="需调取病历并组织专家讨论")
    with django_capture_on_commit_callbacks(execute=True):
        extension_decide(actor=supervisor, extension_id=ext.pk, approve=True, note="同意")
    ext.refresh_from_db()
    event = Event.objects.get(case=case, kind=DeadlineEvent.EXTENSION_DECIDED)
    assert event.data["notify_complainant"] is True
    due = ext.new_due_at.astimezone().strftime("%Y-%m-%d")
    [sms] = sms_lines(tmp_path)
    assert sms["phone"] == PHONE and "需调取病历并组织专家讨论" in sms["body"]
    [email] = mail.outbox
    assert email.to == [EMAIL] and "办理期限延长" in email.subject and "需调取病历" in email.body
    rows = Message.objects.filter(case=case, purpose="extension")
    assert {m.medium for m in rows} == {"sms", "email"} and all(due in m.body for m in rows)
    # A rejected one says nothing to the complainant.
    with django_capture_on_commit_callbacks(execute=True):
        other, _code = case_register(
            actor=clerk,
            data=intake(
                channel="visit", party=PartyInput(name="李娜", phone="13900001111"), complainant_kind="outpatient"
            ),
        )
        handling_actions.case_dispatch(actor=clerk, case_id=other.pk, department_id=departments["city"].pk)
        refused = extension_request(actor=handler, case_id=other.pk, stage="reply", amount=3, reason="等待检验结果")
        extension_decide(actor=supervisor, extension_id=refused.pk, approve=False, note="不予延期")
    assert not Message.objects.filter(case=other, purpose="extension").exists()


# --- the repeat call, to staff ----------------------------------------------------------------------------


def test_the_repeat_call_goes_by_sms_to_the_handlers_mobile_where_switched_on(
    org, clerk, handler, departments, admin, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    activate(org, "city_hotline")
    services.switch_set(actor=admin, purpose="repeat_contact", medium="sms", enabled=True)
    services.staff_contact_save(actor=handler, email="", mobile="13700007777")
    services.template_save(
        actor=admin,
        purpose="repeat_contact",
        medium="sms",
        language="zh-hans",
        subject="",
        body="{{ name }}：{{ number }} 又来电了：{{ text }}",
    )
    with django_capture_on_commit_callbacks(execute=True):
        case, _code = case_register(actor=clerk, data=intake(channel="phone"))
        case_accept(actor=clerk, case_id=case.pk)
        handling_actions.case_dispatch(
            actor=clerk, case_id=case.pk, department_id=departments["city"].pk, handler_id=handler.pk
        )
    (tmp_path / "outbox" / "sms.jsonl").unlink(missing_ok=True)
    with django_capture_on_commit_callbacks(execute=True):
        contact_add(actor=clerk, case_id=case.pk, channel="phone", text="井盖还没盖上。")
    [sms] = sms_lines(tmp_path)
    assert (sms["phone"], sms["body"]) == ("13700007777", f"handler：{case.number} 又来电了：井盖还没盖上。")
    (row,) = Message.objects.filter(case=case, purpose="repeat_contact")
    assert (row.staff_id, row.medium, row.recipient_masked) == (handler.pk, "sms", "137****7777")


def test_the_new_purposes_are_on_the_template_page_in_both_languages(client, admin):
    client.force_login(admin)
    page = client.get(reverse("notifications:templates")).content.decode()
    for label in ("评价邀请", "延期告知", "重复来电"):
        assert label in page
    for purpose in ("rating_link", "extension", "repeat_contact"):
        for language in ("zh-hans", "en"):
            url = reverse("notifications:template_edit", args=[purpose, "email", language])
            response = client.get(url)
            assert response.status_code == 200, (purpose, language)


# --- a complainant registered by staff with an e-mail address -----------------------------------------------


def test_a_complainant_registered_by_staff_with_an_email_gets_the_receipt_and_the_answer_by_email(
    clerk, immediate_tasks, client, django_capture_on_commit_callbacks
):
    client.force_login(clerk)
    form = {
        "party_phone": "",
        "party_name": "王芳",
        "party_email": "wang.fang@example.org",
        "nature": "complaint",
        "text": "小区门口路灯不亮已经一周。",
        "urgency": "normal",
        "intake_token": "mail-form-1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("cases:intake", args=["letter"]), form)
    assert response.status_code == 302
    case = Case.objects.get()
    [receipt] = mail.outbox
    assert receipt.to == ["wang.fang@example.org"] and case.number in receipt.subject
    with django_capture_on_commit_callbacks(execute=True):
        case_answer_on_spot(actor=clerk, case_id=case.pk, reply="已通知物业更换灯泡。")
    assert mail.outbox[-1].to == ["wang.fang@example.org"] and "已通知物业更换灯泡。" in mail.outbox[-1].body
    masked = {m.recipient_masked for m in Message.objects.filter(case=case)}
    assert masked == {"w***@example.org"}
