"""Issue 13, hole 9: write rights are the minimum each role needs, and the services enforce them
(the matrix in test_matrix.py checks the same through every URL).

Each refusal below was a success before: the head of an *assisting* department redispatched,
closed, reopened, convened joint handling and filed an authority request on a case another
department leads; any whole-ledger role marked another department's rectification task put
right; read-only roles uploaded attachments; any role that could see a case reissued its
query code, silently invalidating the complainant's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from huiyin.cases import services as cs
from huiyin.cases.models import Attachment, Case, Event
from huiyin.cases.selectors import case_capabilities
from huiyin.core.errors import PermissionDeniedError
from huiyin.deadlines.models import Clock, Extension
from huiyin.deadlines.services.handling import case_suspend, extension_decide, extension_request
from huiyin.followup import services as followup
from huiyin.followup.models import Callback, RectificationTask
from huiyin.handling import actions as ha
from huiyin.handling import services as hs
from huiyin.handling.models import AuthorityRequest, JointHandling
from huiyin.handling.selectors import handling_capabilities
from huiyin.orgs.roles import Role
from tests.conftest import intake, make_staff

from .world import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def housing_head(org, departments):
    return make_staff(org, "housing_head", [Role.DEPT_HEAD], departments["housing"])


@pytest.fixture
def callback_officer(org):
    return make_staff(org, "callback_officer", [Role.CALLBACK_OFFICER])


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


def events(case: Case) -> int:
    return Event.objects.filter(case=case).count()


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def dispatched(register, clerk, departments) -> Case:
    """A petition case led by the city department, housing assisting."""
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    ha.case_dispatch(
        actor=clerk,
        case_id=case.pk,
        department_id=departments["city"].pk,
        assisting_ids=[departments["housing"].pk],
    )
    return fresh(case)


def replied(register, clerk, departments, handler, head, leader) -> Case:
    case = dispatched(register, clerk, departments)
    ha.case_sign_for(actor=handler, case_id=case.pk)
    ha.case_submit_for_approval(actor=handler, case_id=case.pk, proposal="拟维修", outcome="resolved")
    ha.case_approve(actor=head, case_id=case.pk, comments="同意")
    ha.case_approve(actor=leader, case_id=case.pk, comments="同意")
    cs.case_reply(actor=handler, case_id=case.pk, reply="已修复", method="letter")
    return fresh(case)


def refused(case: Case, call) -> None:
    before = (fresh(case).state, fresh(case).version, events(case))
    with pytest.raises(PermissionDeniedError):
        call()
    after = fresh(case)
    assert (after.state, after.version, events(case)) == before


# --- the assisting department's head ----------------------------------------------------------------------


def test_an_assisting_head_does_not_redispatch(petition, register, clerk, departments, housing_head, head):
    case = dispatched(register, clerk, departments)
    assert housing_head.department_id in case.assisting_departments.values_list("pk", flat=True)
    refused(
        case,
        lambda: ha.case_redispatch(actor=housing_head, case_id=case.pk, department_id=departments["housing"].pk),
    )
    ha.case_redispatch(actor=head, case_id=case.pk, department_id=departments["traffic"].pk)  # the lead's head may
    assert fresh(case).lead_department_id == departments["traffic"].pk


def test_an_assisting_head_does_not_close_or_reopen(
    petition, register, clerk, departments, handler, head, leader, housing_head
):
    case = replied(register, clerk, departments, handler, head, leader)
    refused(case, lambda: cs.case_close(actor=housing_head, case_id=case.pk, satisfaction="satisfied"))
    refused(case, lambda: cs.case_reopen(actor=housing_head, case_id=case.pk, reason="不满意"))
    cs.case_close(actor=head, case_id=case.pk, satisfaction="satisfied")
    refused(case, lambda: cs.case_reopen(actor=housing_head, case_id=case.pk, reason="不满意"))
    cs.case_reopen(actor=head, case_id=case.pk, reason="反映人不满意")
    assert fresh(case).state == "accepted"


def test_an_assisting_head_does_not_convene_or_file_an_authority_request(
    petition, register, clerk, departments, handler, head, housing_head
):
    case = dispatched(register, clerk, departments)
    ha.case_sign_for(actor=handler, case_id=case.pk)
    both = [departments["city"].pk, departments["housing"].pk]
    due = timezone.now() + timedelta(days=10)
    refused(case, lambda: hs.joint_convene(actor=housing_head, case_id=case.pk, topic="协调", department_ids=both))
    refused(
        case,
        lambda: hs.authority_request_set(actor=housing_head, case_id=case.pk, authority="市信访局", due_at=due),
    )
    refused(case, lambda: hs.document_issue(actor=housing_head, case_id=case.pk, kind="handling_notice"))
    assert not JointHandling.objects.exists() and not AuthorityRequest.objects.exists()
    caps = handling_capabilities(housing_head, fresh(case))
    assert not (caps.convene or caps.set_authority or caps.issue_documents or caps.steer)
    assert caps.investigate  # the assisting department still contributes investigations
    hs.joint_convene(actor=head, case_id=case.pk, topic="协调", department_ids=both)
    hs.authority_request_set(actor=head, case_id=case.pk, authority="市信访局", due_at=due)


def test_an_assisting_head_does_not_suspend(petition, register, clerk, departments, handler, housing_head):
    case = dispatched(register, clerk, departments)
    ha.case_sign_for(actor=handler, case_id=case.pk)
    refused(case, lambda: case_suspend(actor=housing_head, case_id=case.pk, reason="等待材料"))
    case_suspend(actor=handler, case_id=case.pk, reason="等待材料")


def test_an_extension_is_approved_by_the_lead_departments_head_only(
    property_rules, register, clerk, departments, handler, head, housing_head
):
    case = register()
    ha.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    ha.case_sign_for(actor=handler, case_id=case.pk)
    clock = Clock.objects.get(case=case, stage="overall", state="running")
    extension = extension_request(actor=handler, case_id=case.pk, clock_id=clock.pk, amount=1, reason="等待配件")
    refused(case, lambda: extension_decide(actor=housing_head, extension_id=extension.pk, approve=True))
    extension_decide(actor=head, extension_id=extension.pk, approve=True)
    assert Extension.objects.get(pk=extension.pk).status == "approved"


# --- rectification tasks found at a callback --------------------------------------------------------


def test_only_the_responsible_department_or_a_leader_marks_a_task_done(
    petition, register, clerk, departments, handler, head, leader, analyst, supervisor, callback_officer, admin
):
    case = replied(register, clerk, departments, handler, head, leader)
    callback = Callback.objects.filter(case=case).first() or Callback.objects.create(
        case=case, round=1, reason="sample", role=Role.CALLBACK_OFFICER, planned_at=timezone.now()
    )
    task = RectificationTask.objects.create(
        callback=callback,
        case=case,
        problem="楼道灯不亮",
        department_id=departments["city"].pk,
        created_by=callback_officer,
        created_at=timezone.now(),
        due_at=timezone.now() + timedelta(days=1),
    )
    for whole_ledger in (clerk, analyst, supervisor, callback_officer, admin):
        with pytest.raises(PermissionDeniedError):
            followup.task_done(actor=whole_ledger, task_id=task.pk, note="已整改")
        assert RectificationTask.objects.get(pk=task.pk).status == "open"
    followup.task_done(actor=handler, task_id=task.pk, note="已更换灯泡")
    assert RectificationTask.objects.get(pk=task.pk).status == "done"


# --- attachments and the query code ----------------------------------------------------------------------


def test_read_only_roles_do_not_upload(
    petition, register, clerk, departments, handler, analyst, supervisor, callback_officer, admin, housing_head
):
    case = dispatched(register, clerk, departments)
    for reader in (analyst, supervisor, callback_officer, admin):
        refused(case, lambda reader=reader: cs.attachment_upload(actor=reader, case_id=case.pk, upload=upload()))
        assert not case_capabilities(reader, case).upload_attachment
    assert not Attachment.objects.exists()
    for writer in (clerk, handler, housing_head):  # the desk, the lead and the assisting department
        cs.attachment_upload(actor=writer, case_id=case.pk, upload=upload())
        assert case_capabilities(writer, case).upload_attachment
    assert Attachment.objects.filter(case=case).count() == 3


def test_only_the_receipt_desk_reissues_the_query_code(
    petition, org, register, clerk, departments, handler, head, analyst, callback_officer
):
    case, code = cs.case_register(actor=clerk, data=intake())
    Case.objects.filter(pk=case.pk).update(lead_department=departments["city"])
    case = fresh(case)
    for viewer in (handler, head, analyst, callback_officer):
        refused(case, lambda viewer=viewer: cs.receipt_issue(actor=viewer, case_id=case.pk))
        assert not case_capabilities(viewer, case).reissue_receipt
        assert cs.query_code_matches(fresh(case), code)  # the complainant's code still works
    reception = make_staff(org, "reception", [Role.RECEPTION])
    new = cs.receipt_issue(actor=reception, case_id=case.pk)
    assert cs.query_code_matches(fresh(case), new) and not cs.query_code_matches(fresh(case), code)


def test_a_heads_callback_queue_holds_only_the_cases_their_department_leads(
    petition, register, clerk, departments, handler, head, leader, housing_head
):
    from huiyin.followup.selectors import queue

    case = replied(register, clerk, departments, handler, head, leader)
    callback, _created = Callback.objects.update_or_create(
        case=case,
        round=1,
        defaults={"reason": "sample", "role": Role.DEPT_HEAD, "planned_at": timezone.now(), "status": "due"},
    )
    assert list(queue(head)) == [callback]
    assert list(queue(housing_head)) == []  # holds the role, not the case
    with pytest.raises(PermissionDeniedError):
        followup.callback_record(
            actor=housing_head, callback_id=callback.pk, outcome="reached", satisfaction="satisfied"
        )
    assert Callback.objects.get(pk=callback.pk).status == "due"
