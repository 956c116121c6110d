"""Registration, numbering, contacts, bad input: nothing half-saved."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection

from huiyin.cases import services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Attachment, Case, CaseSequence, Contact, Event, Party
from huiyin.cases.services import PartyInput, case_register, query_code_matches
from huiyin.core.errors import DuplicateSubmission, PermissionDeniedError, ValidationFailed
from huiyin.core.validators import id_check_digit
from tests.conftest import intake

pytestmark = pytest.mark.django_db


def valid_id(first17: str = "11010519491231002") -> str:
    return first17 + id_check_digit(first17)


def test_register_creates_case_contact_round_and_event(clerk):
    case, code = case_register(actor=clerk, data=intake())
    assert case.number.endswith("-00001") and len(case.number) == 14
    assert case.title == "楼上漏水严重，天花板已经发霉"  # derived from the first sentence
    assert case.first_contact == clerk and case.state == "registered"
    assert Contact.objects.filter(case=case, is_initial=True).count() == 1
    assert case.rounds.count() == 1
    event = Event.objects.get(case=case)
    assert event.kind == EventKind.REGISTERED and event.actor == clerk
    assert case.promised_due_at > case.received_at


def test_query_code_is_stored_only_as_a_hash(clerk):
    case, code = case_register(actor=clerk, data=intake())
    assert len(code) == 8
    assert code not in case.query_code_hash
    assert query_code_matches(case, code)
    assert not query_code_matches(case, "AAAAAAAA")


def test_numbers_are_sequential_per_organisation_and_day(clerk, org):
    numbers = [case_register(actor=clerk, data=intake())[0].number for _ in range(3)]
    assert [n[-5:] for n in numbers] == ["00001", "00002", "00003"]
    assert len({n[:8] for n in numbers}) == 1


def test_failed_registration_does_not_consume_a_number(clerk):
    case_register(actor=clerk, data=intake())
    with pytest.raises(ValidationFailed):
        case_register(actor=clerk, data=intake(text=""))
    second, _ = case_register(actor=clerk, data=intake())
    assert second.number.endswith("-00002")


@pytest.mark.django_db(transaction=True)
def test_parallel_registration_has_no_gap_and_no_duplicate(org, clerk):
    threads, errors, per_thread = 8, [], 6

    def work():
        try:
            for _ in range(per_thread):
                case_register(actor=clerk, data=intake(text="并发登记测试：路灯不亮。"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    suffixes = sorted(int(n[-5:]) for n in Case.objects.filter(organization=org).values_list("number", flat=True))
    assert suffixes == list(range(1, threads * per_thread + 1))
    assert CaseSequence.objects.get(organization=org).last == threads * per_thread


def test_duplicate_submit_of_one_form_registers_once(clerk):
    first, _ = case_register(actor=clerk, data=intake(intake_token="tok-1"))
    with pytest.raises(DuplicateSubmission) as info:
        case_register(actor=clerk, data=intake(intake_token="tok-1"))
    assert info.value.case_number == first.number
    assert Case.objects.count() == 1


def race(submit, *, threads: int = 6) -> tuple[list, list, list]:
    """Run ``submit`` in several threads at once: (results, DuplicateSubmission numbers,
    statements that failed on a constraint — each one an ERROR with the statement in
    PostgreSQL's log)."""
    results, duplicates, failed, errors = [], [], [], []
    start = threading.Barrier(threads)

    def watch(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except IntegrityError:
            failed.append(sql)
            raise

    def work():
        try:
            with connection.execute_wrapper(watch):
                start.wait()
                results.append(submit())
        except DuplicateSubmission as exc:
            duplicates.append(exc.case_number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    return results, duplicates, failed


@pytest.mark.django_db(transaction=True)
def test_racing_submits_of_one_form_register_once_without_a_failing_insert(org, clerk):
    """The duplicate-submit race is settled before the INSERT: no unique violation, so no
    statement with the complaint text in the server log; numbering stays gapless."""
    for n in range(1, 4):
        results, duplicates, failed = race(
            lambda n=n: case_register(actor=clerk, data=intake(intake_token=f"race-{n}"))[0].number
        )
        assert len(results) == 1 and duplicates == results * 5
        assert failed == []
    assert sorted(int(n[-5:]) for n in Case.objects.values_list("number", flat=True)) == [1, 2, 3]
    assert CaseSequence.objects.get(organization=org).last == 3


@pytest.mark.django_db(transaction=True)
def test_racing_repeat_calls_of_one_form_add_one_contact_without_a_failing_insert(clerk):
    case, _code = case_register(actor=clerk, data=intake())
    results, duplicates, failed = race(
        lambda: (
            services.contact_add(
                actor=clerk, case_id=case.pk, channel="phone", text="又打来催问。", intake_token="repeat-1"
            ).pk
        )
    )
    assert len(results) == 1 and duplicates == [case.number] * 5
    assert failed == []
    assert case.contacts.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        (dict(text=""), "text", "诉求内容不能为空"),
        (dict(text="漏" * 20001), "text", "诉求内容过长"),
        (dict(title="标" * 121), "title", "标题过长"),
        (dict(party=PartyInput(name="李四", phone="12345678901")), "party_phone", "联系电话格式不正确"),
        (dict(party=PartyInput(name="李四", phone="1381234567")), "party_phone", "联系电话格式不正确"),
        (
            dict(party=PartyInput(name="李四", phone="13812345678", id_number="110105194912310021")),
            "party_id_number",
            "校验位",
        ),
        (
            dict(party=PartyInput(name="李四", phone="13812345678", id_number="110105194913310028")),
            "party_id_number",
            "出生日期",
        ),
        (dict(party=PartyInput(name="李四", phone="13812345678", id_number="12345")), "party_id_number", "18位"),
        (dict(party=PartyInput()), "party_name", "匿名"),
        (dict(channel="forwarded"), "forwarded_by", "转办单位"),
        (dict(nature="gossip"), "nature", "性质"),
        (dict(group_size=0), "group_size", "来访人数"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(clerk, overrides, field, fragment):
    with pytest.raises(ValidationFailed) as info:
        case_register(actor=clerk, data=intake(**overrides))
    assert fragment in " ".join(info.value.errors[field])
    assert Case.objects.count() == 0 and Party.objects.count() == 0 and Contact.objects.count() == 0
    assert CaseSequence.objects.count() == 0


def test_oversized_text_is_refused_not_truncated(clerk):
    text = "噪音" * 10001
    with pytest.raises(ValidationFailed) as info:
        case_register(actor=clerk, data=intake(text=text))
    assert "20002" in info.value.errors["text"][0]


def test_valid_identity_numbers_and_landlines_are_accepted(clerk):
    case, _ = case_register(
        actor=clerk,
        data=intake(
            party=PartyInput(name="王芳", phone="0571-87654321", id_number=valid_id()[:-1] + valid_id()[-1].lower())
        ),
    )
    assert case.party.id_number == valid_id()
    assert case.party.phone == "0571-87654321"


def test_phone_is_normalised(clerk):
    case, _ = case_register(actor=clerk, data=intake(party=PartyInput(name="王芳", phone="+86 138 1234 5678")))
    assert case.party.phone == "13812345678"


def test_anonymous_registration(clerk):
    case, _ = case_register(actor=clerk, data=intake(party=PartyInput(anonymous=True)))
    assert case.party.anonymous and case.party.display_name == "匿名"


def test_group_visit_with_representatives(clerk):
    case, _ = case_register(
        actor=clerk,
        data=intake(
            channel="visit",
            group_size=25,
            representatives=[PartyInput(name="赵六", phone="13900001111"), PartyInput(name="钱七")],
        ),
    )
    assert case.group_size == 25
    assert sorted(p.name for p in case.co_parties.all()) == ["赵六", "钱七"]


def test_known_caller_is_reused(clerk):
    first, _ = case_register(actor=clerk, data=intake())
    second, _ = case_register(actor=clerk, data=intake(text="小区门口占道经营。"))
    assert first.party_id == second.party_id


def test_analyst_may_not_register(analyst):
    with pytest.raises(PermissionDeniedError):
        case_register(actor=analyst, data=intake())


def test_repeat_call_is_a_contact_on_the_same_case(clerk, register):
    case = register()
    services.contact_add(
        actor=clerk,
        case_id=case.pk,
        channel="phone",
        text="又打来催问，漏水更严重了。",
        party=PartyInput(name="张伟", phone="13812345678"),
        intake_token="c-1",
    )
    with pytest.raises(DuplicateSubmission):
        services.contact_add(actor=clerk, case_id=case.pk, channel="phone", text="重复提交", intake_token="c-1")
    assert Case.objects.count() == 1
    assert case.contacts.count() == 2
    assert Event.objects.filter(case=case, kind=EventKind.CONTACT_ADDED).count() == 1


def test_empty_repeat_call_text_is_refused(clerk, register):
    case = register()
    with pytest.raises(ValidationFailed) as info:
        services.contact_add(actor=clerk, case_id=case.pk, channel="phone", text=" ")
    assert info.value.field == "text"
    assert case.contacts.count() == 1


def test_attachment_type_size_and_content_checked(clerk, register, settings):
    case = register()
    pdf = SimpleUploadedFile("现场照片.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    attachment = services.attachment_add(actor=clerk, case_id=case.pk, upload=pdf)
    assert attachment.size == len(b"%PDF-1.4 test") and attachment.file.read() == b"%PDF-1.4 test"

    with pytest.raises(ValidationFailed, match="类型不允许"):
        services.attachment_add(actor=clerk, case_id=case.pk, upload=SimpleUploadedFile("a.exe", b"MZ"))
    with pytest.raises(ValidationFailed, match="内容与扩展名不符"):
        services.attachment_add(actor=clerk, case_id=case.pk, upload=SimpleUploadedFile("b.png", b"not a png"))
    settings.HUIYIN_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationFailed, match="过大"):
        services.attachment_add(actor=clerk, case_id=case.pk, upload=SimpleUploadedFile("c.txt", b"x" * 11))
    assert Attachment.objects.count() == 1


def test_edit_with_a_stale_version_is_refused(clerk, register):
    from huiyin.core.errors import StaleObject

    case = register()
    services.case_update(actor=clerk, case_id=case.pk, expected_version=case.version, changes={"urgency": "urgent"})
    with pytest.raises(StaleObject):
        services.case_update(actor=clerk, case_id=case.pk, expected_version=case.version, changes={"title": "旧表单"})
    case.refresh_from_db()
    assert case.urgency == "urgent" and case.title != "旧表单"
    event = Event.objects.get(case=case, kind=EventKind.UPDATED)
    assert event.data == {"before": {"urgency": "normal"}, "after": {"urgency": "urgent"}}


def test_registration_day_is_local_time(clerk, settings):
    import time_machine

    with time_machine.travel("2026-11-22 16:30:00+00:00", tick=False):  # 00:30 on the 23rd in Shanghai
        case, _ = case_register(actor=clerk, data=intake())
    assert case.number.startswith("20261123-")
    assert date(2026, 11, 23) == CaseSequence.objects.get().day


def test_caller_giving_only_the_number_is_the_known_party(clerk, register):
    case = register()
    contact = services.contact_add(
        actor=clerk, case_id=case.pk, channel="phone", text="再次来电。", party=PartyInput(phone="13812345678")
    )
    assert contact.party_id == case.party_id
    assert Party.objects.count() == 1


def test_letter_received_earlier_joins_that_days_sequence(clerk):
    from datetime import datetime, timedelta

    from django.utils import timezone

    yesterday = timezone.now() - timedelta(days=1)
    case, _ = case_register(actor=clerk, data=intake(channel="letter", received_at=yesterday))
    assert case.number.startswith(f"{timezone.localdate(yesterday):%Y%m%d}-")
    with pytest.raises(ValidationFailed) as info:
        case_register(actor=clerk, data=intake(received_at=timezone.now() + timedelta(days=1)))
    assert "received_at" in info.value.errors
    assert isinstance(yesterday, datetime)


def test_registration_texts_the_complainant_once_after_commit(
    clerk, org, settings, tmp_path, django_capture_on_commit_callbacks
):
    import json

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        case, _ = case_register(actor=clerk, data=intake())
    lines = (tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    message = json.loads(lines[0])
    assert message["phone"] == "13812345678" and case.number in message["body"]
    from huiyin.cases.bus import dispatch_after_commit

    dispatch_after_commit(Event.objects.get(case=case, kind=EventKind.REGISTERED).pk)  # a task retried
    assert len((tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_no_texts_for_an_organisation_that_switched_them_off(
    clerk, org, settings, tmp_path, django_capture_on_commit_callbacks
):
    org.notify_complainants = False
    org.save()
    clerk.organization.refresh_from_db()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        case_register(actor=clerk, data=intake())
    assert not (tmp_path / "outbox" / "sms.jsonl").exists()
