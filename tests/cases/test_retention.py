"""Retention and deletion (F81): `huiyin retention apply` erases the personal data of
cases past their preset's period and leaves what statistics count untouched."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from huiyin.cases import services
from huiyin.cases.models import Attachment, Case, Contact, Event, Party
from huiyin.cases.retention import months_before, retention_apply
from huiyin.cases.selectors import caller_history, verify_event_chain
from huiyin.cases.services import PartyInput
from huiyin.cases.workflow import CaseState
from huiyin.core.models import OutboundMessage
from huiyin.handling import actions as handling_actions
from huiyin.handling import services as handling_services
from huiyin.handling.models import Investigation
from huiyin.notifications.models import Message
from huiyin.policy.presets import Retention, load_preset
from huiyin.policy.services import policy_activate, presets_dir
from tests.cases.test_lifecycle_services import run_to
from tests.conftest import intake

pytestmark = pytest.mark.django_db

S = CaseState
LONG_AGO = datetime(2021, 3, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


def old_log(key: str, phone: str) -> None:
    """A row of the outbound log messages went to before huiyin.notifications (read-only history)."""
    OutboundMessage.objects.bulk_create(
        [OutboundMessage(key=key, channel="sms", recipient=phone, body="您反映的问题已登记")]
    )


def activate(org, **rule):
    """The city hotline preset with the given retention rule, as the running policy."""
    preset = load_preset(presets_dir() / "city_hotline.yaml")
    policy_activate(organization=org, preset=dataclasses.replace(preset, retention=Retention(**rule)), actor=None)


def stored(party: Party) -> tuple[str, str, str, str]:
    party = Party.objects.get(pk=party.pk)
    return party.name, party.phone, party.id_number, party.address


def statistics(org) -> list[tuple]:
    """What reports count: every case's number, channel, nature, category, dates and state,
    and the event log as written."""
    cases = list(
        Case.objects.filter(organization=org)
        .order_by("pk")
        .values_list("number", "channel", "nature", "category_id", "received_at", "closed_at", "state")
    )
    events = list(Event.objects.order_by("pk").values_list("pk", "kind", "at", "hash"))
    return [*cases, *events, Contact.objects.count()]


@pytest.fixture
def world(org, clerk, handler, leader, category):
    """Two cases that finished in 2021 (one archived), one closed today, one still open."""
    with time_machine.travel(LONG_AGO, tick=False):
        archived, _code = services.case_register(
            actor=clerk,
            data=intake(
                category_id=category.pk,
                party=PartyInput(name="王芳", phone="13900001111", address="示范市江南区解放路8号"),
                representatives=[PartyInput(name="赵磊", phone="13700002222")],
            ),
        )
        services.contact_add(
            actor=clerk,
            case_id=archived.pk,
            channel="phone",
            text="家属来电催问。",
            party=PartyInput(name="王强", phone="13600003333"),
        )
        file = services.attachment_add(
            actor=clerk, case_id=archived.pk, upload=SimpleUploadedFile("王芳身份证.jpg", b"\xff\xd8\xff" + b"1" * 64)
        )
        run_to(archived, S.IN_PROGRESS, clerk=clerk, handler=handler, leader=leader)
        handling_services.investigation_add(
            actor=handler, case_id=archived.pk, kind="interview", text="询问物业经理", interviewee="物业经理钱某"
        )
        handling_actions.case_submit_for_approval(
            actor=handler, case_id=archived.pk, proposal="已协调物业维修", outcome="resolved"
        )
        handling_actions.case_approve(actor=leader, case_id=archived.pk, comments="同意")
        services.case_reply(actor=handler, case_id=archived.pk, reply="物业已维修")
        services.case_close(actor=clerk, case_id=archived.pk, satisfaction="satisfied")
        services.case_archive(actor=leader, case_id=archived.pk)
        closed, _code = services.case_register(
            actor=clerk, data=intake(party=PartyInput(name="张伟", phone="13812345678"))
        )
        run_to(closed, S.CLOSED, clerk=clerk, handler=handler, leader=leader)
        old_log("old-sms", "13900001111")
    recent, _code = services.case_register(actor=clerk, data=intake(party=PartyInput(name="刘洋", phone="13500004444")))
    run_to(recent, S.CLOSED, clerk=clerk, handler=handler, leader=leader)
    # The same caller as the 2021 closed case, on a case still open: that party must stay.
    still_open, _code = services.case_register(
        actor=clerk, data=intake(party=PartyInput(name="张伟", phone="13812345678"))
    )
    assert still_open.party_id == closed.party_id
    old_log("new-sms", "13500004444")
    return {"archived": archived, "closed": closed, "recent": recent, "open": still_open, "file": file}


def test_dry_run_counts_and_changes_nothing(org, world):
    activate(org, keep_for=3, unit="years", attachments="delete")
    before = statistics(org)
    people = {p.pk: stored(p) for p in Party.objects.all()}
    reports, messages = retention_apply(dry_run=True)
    (report,) = reports
    assert (report.cases, report.parties_erased, report.parties_kept) == (2, 3, 1)
    # The receipts queued for the two old cases (huiyin.notifications) are counted too.
    assert (report.attachments_deleted, report.others) == (
        1,
        {
            "handling.interviewee_names": 1,
            "notifications.recipients_and_texts": 2,
            "reception.visitors": 0,
            "frontoffice.visitors": 0,
            "frontoffice.guests_and_receipts": 0,
            "reception.bookings_without_case": 0,
        },
    )
    assert messages == 1
    assert statistics(org) == before and {p.pk: stored(p) for p in Party.objects.all()} == people
    assert Path(world["file"].file.path).exists()


def test_apply_erases_personal_data_past_the_period_and_keeps_the_statistics(
    org, world, clerk, client, django_capture_on_commit_callbacks
):
    activate(org, keep_for=3, unit="years", attachments="delete")
    before = statistics(org)
    path = Path(world["file"].file.path)
    archived, closed = world["archived"], world["closed"]

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the rows are committed
        (report,), messages = retention_apply()

    assert (report.cases, report.parties_erased, report.parties_kept, report.attachments_deleted) == (2, 3, 1, 1)
    erased = [archived.party, *archived.co_parties.all(), Contact.objects.get(case=archived, is_initial=False).party]
    for party in erased:
        assert stored(party) == ("", "", "", "")
        party = Party.objects.get(pk=party.pk)
        assert party.erased_at is not None
        assert (party.phone_hash, party.id_number_hash, party.affiliation) == ("", "", "")
    # The 2021 caller who is on an open case too keeps everything; the recent case is untouched.
    assert stored(closed.party)[:2] == ("张伟", "13812345678")
    assert stored(world["recent"].party)[:2] == ("刘洋", "13500004444")
    # The file is gone, the row stays with its size; the interviewee's name is gone, the record stays.
    assert not path.exists()
    attachment = Attachment.objects.get(pk=world["file"].pk)
    assert (attachment.file.name, attachment.original_name, attachment.size) == ("", "", 67)
    assert attachment.erased_at is not None
    investigations = Investigation.objects.filter(case=archived)
    assert list(investigations.values_list("interviewee", "text")) == [("", "询问物业经理")]
    assert OutboundMessage.objects.get(key="old-sms").recipient == ""
    old_receipt = Message.objects.get(case=archived, purpose="receipt")
    assert (old_receipt.recipient, old_receipt.body, old_receipt.recipient_masked) == ("", "", "")
    assert Message.objects.get(case=world["recent"], purpose="receipt").recipient == "13500004444"
    assert OutboundMessage.objects.get(key="new-sms").recipient == "13500004444"
    # Statistics and the audit trail: unchanged, and every chain still verifies.
    assert statistics(org) == before
    assert all(verify_event_chain(case) for case in Case.objects.all())
    assert caller_history(actor=clerk, phone="13900001111") == []
    # What people see: no name, no file.
    client.force_login(clerk)
    page = client.get(reverse("cases:detail", args=[archived.pk])).content.decode()
    assert "个人信息已按保存期限删除" in page and "王芳" not in page and "身份证.jpg" not in page
    assert client.get(reverse("cases:download_attachment", args=[attachment.pk])).status_code == 410

    (again,), messages = retention_apply()  # nothing left to erase
    assert (again.cases, again.parties_erased, again.attachments_deleted, messages) == (2, 0, 0, 0)


def test_attachments_kept_where_the_rule_says_so(org, world):
    activate(org, keep_for=3, unit="years", attachments="keep")
    (report,), _messages = retention_apply()
    assert (report.attachments_deleted, report.attachments_kept, report.parties_erased) == (0, 1, 3)
    assert Path(world["file"].file.path).exists()


def test_nothing_is_erased_within_the_period_or_without_a_rule(org, world):
    (report,), messages = retention_apply()  # no policy activated: no rule
    assert report.rule is None and (report.cases, report.parties_erased, messages) == (0, 0, 0)
    activate(org, keep_for=10, unit="years", attachments="delete")
    (report,), messages = retention_apply()
    assert (report.cases, report.parties_erased, report.attachments_deleted, messages) == (0, 0, 0, 0)
    assert stored(world["archived"].party)[0] == "王芳"


def test_command_reports_counts_only(org, world):
    activate(org, keep_for=3, unit="years", attachments="delete")
    out = io.StringIO()
    call_command("huiyin_retention", "apply", "--dry-run", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["dry_run"] and result["outbound_messages"] == 1
    assert {k: result["organizations"][0][k] for k in ("cases", "parties_erased", "parties_kept")} == {
        "cases": 2,
        "parties_erased": 3,
        "parties_kept": 1,
    }
    out = io.StringIO()
    call_command("huiyin_retention", "apply", "--as-of", "2022-01-01", stdout=out)
    assert "0 cases" in out.getvalue()
    for secret in ("王芳", "13900001111", "解放路"):
        assert secret not in out.getvalue()


def test_months_before_keeps_the_day_or_the_months_last():
    at = datetime(2024, 3, 31, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert months_before(at, 1) == at.replace(month=2, day=29)
    assert months_before(at, 36) == at.replace(year=2021)
    assert months_before(at, 14) == at.replace(year=2023, month=1)
