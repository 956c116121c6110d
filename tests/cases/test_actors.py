"""Actors beyond staff: the public (portal) and registered systems (API clients) register
cases through the same ``case_register``, numbering and hash chain as staff; intake with
its attachments is one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from huiyin.cases import services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Attachment, Case, Event
from huiyin.cases.selectors import verify_event_chain
from huiyin.cases.triggers import events_writable
from huiyin.core.errors import PermissionDeniedError, ValidationFailed
from huiyin.orgs.actors import ActorKind, public_actor, system_actor
from huiyin.orgs.models import ExternalSystem
from huiyin.orgs.roles import Cap
from tests.conftest import intake

pytestmark = pytest.mark.django_db


def test_public_submission_shares_numbering_events_and_chain_with_staff(org, clerk):
    staff_case, _ = services.case_register(actor=clerk, data=intake())
    public_case, code = services.case_register(actor=public_actor(org), data=intake(channel="online"))

    assert public_case.number[:8] == staff_case.number[:8]
    assert int(public_case.number[-5:]) == int(staff_case.number[-5:]) + 1  # one gapless sequence
    assert len(code) == 8 and services.query_code_matches(public_case, code)
    assert public_case.first_contact is None
    assert public_case.submitter_kind == ActorKind.PUBLIC
    assert public_case.submitter_system.kind == ExternalSystem.Kind.PORTAL
    assert public_case.submitter_label == "公众（网上平台）"
    registered = public_case.events.get(kind=EventKind.REGISTERED)
    assert registered.actor is None and registered.actor_kind == ActorKind.PUBLIC
    assert registered.actor_system == public_case.submitter_system
    assert registered.actor_label == "公众（网上平台）"
    assert public_case.contacts.get().staff is None
    assert verify_event_chain(public_case)
    # Staff rows keep their kind as well.
    assert staff_case.events.get(kind=EventKind.REGISTERED).actor_kind == ActorKind.STAFF


def test_outside_actor_is_hashed_into_the_chain(org):
    case, _ = services.case_register(actor=public_actor(org), data=intake(channel="online"))
    with events_writable():  # the database refuses the edit otherwise (tests/cases/test_audit.py)
        Event.objects.filter(case=case).update(actor_kind="")  # someone rewrites who acted
    assert not verify_event_chain(case)


def test_the_public_cannot_claim_a_phone_call_urgency_or_a_backdated_time(org):
    with pytest.raises(ValidationFailed) as refused:
        services.case_register(actor=public_actor(org), data=intake(channel="phone"))
    assert "channel" in refused.value.errors
    assert not Case.objects.exists()

    from datetime import timedelta

    from django.utils import timezone

    backdated = timezone.now() - timedelta(days=30)
    case, _ = services.case_register(
        actor=public_actor(org), data=intake(channel="online", urgency="major", received_at=backdated)
    )
    assert case.urgency == "normal"
    assert timezone.now() - case.received_at < timedelta(minutes=1)


def test_a_registered_system_registers_within_its_capabilities(org):
    platform = ExternalSystem.objects.create(
        organization=org, code="province", name="省信访信息系统", kind=ExternalSystem.Kind.API, caps=[Cap.REGISTER]
    )
    case, _ = services.case_register(
        actor=system_actor(platform), data=intake(channel="forwarded", forwarded_by="省信访局", forwarded_ref="X-1")
    )
    assert case.submitter_kind == ActorKind.SYSTEM and case.submitter_label == "省信访信息系统"
    assert case.events.get(kind=EventKind.REGISTERED).actor_label == "省信访信息系统"
    assert verify_event_chain(case)

    reader = ExternalSystem.objects.create(
        organization=org, code="reader", name="只读系统", kind=ExternalSystem.Kind.API, caps=[]
    )
    with pytest.raises(PermissionDeniedError):
        services.case_register(actor=system_actor(reader), data=intake(channel="forwarded"))
    platform.active = False
    platform.save()
    with pytest.raises(PermissionDeniedError):
        services.case_register(actor=system_actor(platform), data=intake(channel="forwarded"))
    assert Case.objects.count() == 1


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_intake_with_attachments_is_one_transaction(org, clerk, settings):
    photos = [
        SimpleUploadedFile("现场.pdf", b"%PDF-1.4 one", content_type="application/pdf"),
        SimpleUploadedFile("补充.pdf", b"%PDF-1.4 two", content_type="application/pdf"),
    ]
    case, _ = services.case_register(actor=clerk, data=intake(), uploads=photos)
    assert sorted(a.original_name for a in case.attachments.all()) == ["现场.pdf", "补充.pdf"]
    initial = case.contacts.get(is_initial=True)
    assert set(case.attachments.values_list("contact_id", flat=True)) == {initial.pk}
    assert case.events.filter(kind=EventKind.ATTACHMENT_ADDED).count() == 2
    assert verify_event_chain(case)


def test_a_bad_attachment_refuses_the_whole_intake(org, clerk, settings):
    uploads = [
        SimpleUploadedFile("现场.pdf", b"%PDF-1.4 one", content_type="application/pdf"),
        SimpleUploadedFile("病毒.exe", b"MZ", content_type="application/octet-stream"),
    ]
    with pytest.raises(ValidationFailed) as refused:
        services.case_register(actor=clerk, data=intake(), uploads=uploads)
    assert "attachments" in refused.value.errors
    assert not Case.objects.exists() and not Attachment.objects.exists() and not _stored_files(settings)


class BrokenUpload(SimpleUploadedFile):
    """An upload whose body cannot be read to the end (the client went away)."""

    def chunks(self, chunk_size=None):
        yield b"%PDF-1.4 part"
        raise OSError("connection reset while reading the upload")


def test_a_failure_while_storing_files_leaves_no_case_no_number_and_no_file(org, clerk, settings):
    uploads = [
        SimpleUploadedFile("现场.pdf", b"%PDF-1.4 one", content_type="application/pdf"),
        BrokenUpload("补充.pdf", b"%PDF-1.4 two", content_type="application/pdf"),
    ]
    with pytest.raises(OSError):
        services.case_register(actor=clerk, data=intake(), uploads=uploads)
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert not _stored_files(settings)
    # The number was not used up: the next case takes the first one of the day.
    case, _ = services.case_register(actor=clerk, data=intake())
    assert case.number.endswith("-00001")


def test_intake_form_shows_an_attachment_error_and_saves_nothing(client, clerk):
    client.force_login(clerk)
    response = client.post(
        reverse("cases:intake", args=["phone"]),
        {
            "nature": "complaint",
            "urgency": "normal",
            "text": "楼上漏水严重。",
            "party_name": "张伟",
            "party_phone": "13812345678",
            "attachments": SimpleUploadedFile("x.exe", b"MZ"),
        },
    )
    assert response.status_code == 400  # refused, the form shown again with the reason
    assert "附件" in response.content.decode() and "类型不允许" in response.content.decode()
    assert not Case.objects.exists()


def test_staff_case_page_names_the_public_submitter(client, org, leader):
    case, _ = services.case_register(actor=public_actor(org), data=intake(channel="online"))
    client.force_login(leader)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "公众（网上平台）" in page
