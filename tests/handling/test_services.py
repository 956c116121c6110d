"""Handling services against a real database, under the shipped presets: acceptance
decisions, dispatch records, approval chains, review and re-review, rectification,
investigation records, documents and joint handling.

Every step is checked for its state, its records and its events; every refusal for
changing nothing (state, version, events, records, clocks)."""

from __future__ import annotations

import base64
import io
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from PIL import Image

from huiyin.cases import services as cs
from huiyin.cases.errors import InvalidTransition
from huiyin.cases.events import EventKind
from huiyin.cases.inputs import PartyInput
from huiyin.cases.models import Attachment, Case, CaseRound, Event
from huiyin.cases.selectors import my_desk
from huiyin.cases.workflow import CaseState, find_edge, required_step
from huiyin.core.errors import ApplicationError, PermissionDeniedError, StaleObject, ValidationFailed
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.models import Clock
from huiyin.handling import actions as handling_actions
from huiyin.handling import documents, records, selectors
from huiyin.handling import services as hs
from huiyin.handling.events import HandlingEvent
from huiyin.handling.models import (
    ApprovalStep,
    AuthorityRequest,
    ConfirmationKind,
    Dispatch,
    DispatchStatus,
    Document,
    DocumentStatus,
    DocumentTemplate,
    Investigation,
    JointHandling,
    JointPart,
    Proposal,
    ProposalStatus,
    Rectification,
    Review,
)
from tests.conftest import intake, make_staff
from tests.policy.conftest import signed_interview

from .conftest import at

pytestmark = pytest.mark.django_db

S = CaseState
CITY = "市容环境科"


# --- helpers ---------------------------------------------------------------------------------


def snapshot(case) -> dict:
    """Everything a refused call must leave as it was."""
    case = Case.objects.get(pk=case.pk)
    return {
        "state": case.state,
        "version": case.version,
        "lead": case.lead_department_id,
        "handler": case.handler_id,
        "assisting": sorted(case.assisting_departments.values_list("pk", flat=True)),
        "events": Event.objects.filter(case=case).count(),
        "dispatches": list(Dispatch.objects.filter(case=case).values_list("pk", "status")),
        "investigations": Investigation.objects.filter(case=case).count(),
        "proposals": list(Proposal.objects.filter(case=case).values_list("pk", "status")),
        "steps": ApprovalStep.objects.filter(proposal__case=case).count(),
        "rectifications": list(
            Rectification.objects.filter(case=case).values_list(
                "pk", "verdict", "plan_received_at", "complainant_informed_at"
            )
        ),
        "documents": list(Document.objects.filter(case=case).values_list("pk", "status")),
        "reviews": Review.objects.filter(case=case).count(),
        "joints": list(JointHandling.objects.filter(case=case).values_list("pk", "concluded_at")),
        "parts": list(JointPart.objects.filter(joint__case=case).values_list("pk", "recorded_at")),
        "authority": AuthorityRequest.objects.filter(case=case).count(),
        "attachments": Attachment.objects.filter(case=case).count(),
        "clocks": list(Clock.objects.filter(case=case).values_list("pk", "state")),
    }


@contextmanager
def refused(case, exc=ApplicationError, *, field=None, code=None, match=None):
    """Expect ``exc`` (with its field, code, message fragment) and nothing changed."""
    before = snapshot(case)
    with pytest.raises(exc) as info:
        yield info
    if field is not None:
        assert info.value.field == field, info.value.field
    if code is not None:
        assert info.value.code == code
    if match is not None:
        assert match in str(info.value), str(info.value)
    assert snapshot(case) == before


def last_event(case, kind=None) -> Event:
    qs = Event.objects.filter(case=case)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-id").first()


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


class Flow:
    """Take a case along the main path with the usual actors, from wherever it stands."""

    def __init__(self, *, clerk, handler, head, leader):
        self.clerk, self.handler, self.head, self.leader = clerk, handler, head, leader

    def in_progress(self, case, **dispatch):
        case = fresh(case)
        if find_edge(case.state, "accept", case.stage_switches):
            cs.case_accept(actor=self.clerk, case_id=case.pk)
        if fresh(case).state in (S.REGISTERED, S.ACCEPTED):
            dispatch.setdefault("department_id", self.handler.department_id)
            if required_step(case.stage_switches, "proposal_by_handler"):  # the report is the handler's
                dispatch.setdefault("handler_id", self.handler.pk)
            handling_actions.case_dispatch(actor=self.clerk, case_id=case.pk, **dispatch)
        if fresh(case).state == S.DISPATCHED:
            handling_actions.case_sign_for(actor=self.handler, case_id=case.pk)
        case = fresh(case)
        assert case.state == S.IN_PROGRESS
        return case

    def pending(self, case, *, proposal="拟责成物业限期维修", outcome="resolved", responsible_unit="", **dispatch):
        if fresh(case).state != S.PENDING_APPROVAL:
            self.in_progress(case, **dispatch)
            if required_step(case.stage_switches, "signed_investigation"):
                signed_interview(self.handler, case)
            handling_actions.case_submit_for_approval(
                actor=self.handler,
                case_id=case.pk,
                proposal=proposal,
                outcome=outcome,
                responsible_unit=responsible_unit,
            )
        return fresh(case)

    def approved(self, case, **kwargs):
        self.pending(case, **kwargs)
        proposal = records.pending_proposal(case)
        for role in proposal.chain[proposal.next_level :]:
            handling_actions.case_approve(
                actor=self.head if role == "dept_head" else self.leader, case_id=case.pk, comments="同意"
            )
        case = fresh(case)
        assert case.state == S.APPROVED
        return case

    def replied(self, case, reply="物业已于今日修复漏水点。", **kwargs):
        case = fresh(case)
        if case.stage_switches.get("approval", True):
            self.approved(case, **kwargs)
        else:
            self.in_progress(case, **kwargs)
        if required_step(case.stage_switches, "plan_told_before_reply"):  # the unit's plan, told first
            row = hs.rectification_notify(actor=self.handler, case_id=case.pk)
            hs.rectification_plan_receive(actor=self.handler, rectification_id=row.pk, plan_text="十日内完成修复")
            hs.rectification_plan_check(actor=self.handler, rectification_id=row.pk, verdict="accepted")
            hs.rectification_inform_complainant(actor=self.handler, rectification_id=row.pk, method="phone")
        if required_step(case.stage_switches, "investigation_before_reply"):
            hs.investigation_add(actor=self.handler, case_id=case.pk, kind="phone", text="电话核实。")
        if required_step(case.stage_switches, "respondent_statement_before_reply"):
            hs.investigation_add(actor=self.handler, case_id=case.pk, kind="statement", text="被投诉人书面说明。")
        remedy = "当日更换破损水管" if required_step(case.stage_switches, "remedy_in_reply") else ""
        cs.case_reply(actor=self.handler, case_id=case.pk, reply=reply, method="letter", remedy=remedy)
        case = fresh(case)
        assert case.state == S.REPLIED
        return case


@pytest.fixture
def flow(clerk, handler, head, leader) -> Flow:
    return Flow(clerk=clerk, handler=handler, head=head, leader=leader)


def png_data_url() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    Image.new("L", (4, 2), color=0).save(buffer, format="PNG")
    data = buffer.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode(), data


# --- 1. acceptance decisions ----------------------------------------------------------------------


def test_not_accept_takes_a_ground_from_the_petition_preset(petition, register, clerk):
    case = register()
    with refused(case, ValidationFailed, field="ground"):
        handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="属于诉讼程序", refer_to="人民法院")
    with refused(case, ValidationFailed, field="ground"):  # a re-acceptance ground is not a non-acceptance one
        handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="review_concluded")
    with refused(case, ValidationFailed, field="refer_to"):  # this ground names the bodies to turn to
        handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="legal_procedure")

    handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="legal_procedure", refer_to="court")

    case = fresh(case)
    assert case.state == S.NOT_ACCEPTED
    event = last_event(case)
    assert event.kind == EventKind.STATE_CHANGED
    assert event.data["action"] == "not_accept"
    assert event.data["ground"] == "已经或者依法应当通过诉讼、仲裁、行政复议等法定途径解决的"
    assert event.data["ground_code"] == "legal_procedure"
    assert event.data["refer_to"] == "人民法院"  # the listed body's code, stored by its name


def test_ground_by_label_and_without_bodies_needs_no_referral(petition, register, clerk):
    case = register()
    handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="无实质性内容的")
    data = last_event(case).data
    assert (data["ground_code"], data["refer_to"]) == ("no_substance", "")
    assert fresh(case).state == S.NOT_ACCEPTED


def test_not_reaccept_with_review_concluded(petition, register, clerk):
    case = register()
    with refused(case, ValidationFailed, field="ground"):
        handling_actions.case_not_reaccept(actor=clerk, case_id=case.pk, ground="已复核终结")
    handling_actions.case_not_reaccept(actor=clerk, case_id=case.pk, ground="review_concluded")
    case = fresh(case)
    assert case.state == S.NOT_REACCEPTED
    data = last_event(case).data
    assert data["action"] == "not_reaccept"
    assert (data["ground_code"], data["ground"]) == ("review_concluded", "有权处理的党政机关已经复核终结的")


def assert_documents_offered_from_the_panel_agree(case):
    """The case page answers "which letters can this case produce" from the handling panel's
    rows it already loaded; the answer is the one the database gives."""
    case = fresh(case)
    assert documents.available_kinds(case, selectors.handling_panel(case)) == documents.available_kinds(case)


def test_documents_offered_follow_the_decisions_taken_in_one_look_up(petition, register, clerk):
    """The case page offers a decision's letter once the case went through it; the
    decisions are read in one query, not one per kind of letter."""
    from django.test.utils import CaptureQueriesContext

    K = documents.DocumentKind
    accepted = register()
    cs.case_accept(actor=clerk, case_id=accepted.pk)
    refused_case = register()
    handling_actions.case_not_reaccept(actor=clerk, case_id=refused_case.pk, ground="review_concluded")

    def kinds(case):
        return {kind for kind, _label in documents.available_kinds(fresh(case))}

    decided = {K.ACCEPTANCE_NOTICE, K.NOT_ACCEPTED_NOTICE, K.NOT_REACCEPTED_NOTICE, K.RETURN_LETTER, K.TRANSFER_LETTER}
    assert kinds(accepted) & decided == {K.ACCEPTANCE_NOTICE}
    assert kinds(refused_case) & decided == {K.NOT_REACCEPTED_NOTICE}
    assert kinds(register()) & decided == set()
    case = fresh(accepted)
    with CaptureQueriesContext(connection) as captured:
        documents.available_kinds(case)
    assert sum('"cases_event"' in q["sql"] for q in captured.captured_queries) == 1


def test_return_within_the_construction_limit_stops_the_acceptance_clock(construction, drive):
    case = drive.register(at(2025, 3, 3, 9))
    clock = Clock.objects.get(case=case, stage="acceptance")  # return_within times the decision
    assert clock.state == "running" and clock.started_at == case.received_at
    assert timezone.localtime(clock.due_at).date().isoformat() == "2025-03-18"  # day 15, counted from 4 March
    assert clock.due_at == records.return_due(case)

    with drive.at(at(2025, 3, 10, 9)), refused(case, ValidationFailed, field="returned_to"):
        handling_actions.case_return(actor=drive.clerk, case_id=case.pk, reason="不属于本站职责")
    case = drive.do(at(2025, 3, 10, 9), "return", case, reason="不属于本站职责", returned_to="原批转单位")

    assert case.state == S.RETURNED
    data = last_event(case).data
    assert (data["reason"], data["returned_to"], data["within_limit"]) == ("不属于本站职责", "原批转单位", True)
    assert abs(parse_datetime(data["return_due_at"]) - clock.due_at) < timedelta(milliseconds=1)  # JSON: ms
    clock.refresh_from_db()
    assert (clock.state, clock.stop_reason, clock.stopped_at) == ("stopped", "done", at(2025, 3, 10, 9))


def test_a_late_return_is_recorded_as_such(construction, drive):
    case = drive.register(at(2025, 3, 3, 9))
    case = drive.do(at(2025, 4, 1, 9), "return", case, reason="不属于本站职责", returned_to="来信人")
    assert last_event(case).data["within_limit"] is False
    assert Clock.objects.get(case=case, stage="acceptance").is_overdue(timezone.now())


def test_transfer_is_forbidden_by_the_construction_preset(construction, register, clerk):
    case = register()
    with refused(case, ApplicationError, code="transfer_forbidden", field="to_body", match="不得自行转送"):
        handling_actions.case_transfer(actor=clerk, case_id=case.pk, to_body="区住房和城乡建设局")


def test_transfer_is_allowed_by_the_petition_preset(petition, register, clerk):
    case = register()
    handling_actions.case_transfer(actor=clerk, case_id=case.pk, to_body="区市场监督管理局")
    case = fresh(case)
    assert case.state == S.TRANSFERRED
    assert last_event(case).data["to_body"] == "区市场监督管理局"


# --- 2. dispatch ----------------------------------------------------------------------------------------


def test_dispatch_records_lead_and_assisting_rows(petition, register, clerk, departments):
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    due = timezone.now() + timedelta(days=5)
    handling_actions.case_dispatch(
        actor=clerk,
        case_id=case.pk,
        department_id=departments["city"].pk,
        assisting_ids=[departments["housing"].pk],
        instructions="请三日内到现场核查",
        due_at=due,
    )

    case = fresh(case)
    assert (case.state, case.lead_department, case.handler) == (S.DISPATCHED, departments["city"], None)
    assert list(case.assisting_departments.all()) == [departments["housing"]]
    rows = {
        (r.department.code, r.is_lead, r.status, r.instructions, r.due_at, r.dispatched_by_id)
        for r in Dispatch.objects.filter(case=case)
    }
    assert rows == {
        ("city", True, "pending", "请三日内到现场核查", due, clerk.pk),
        ("housing", False, "pending", "请三日内到现场核查", due, clerk.pk),
    }
    data = last_event(case).data
    assert (data["action"], data["department_name"], data["assisting_names"]) == ("dispatch", CITY, ["住房保障科"])
    assert_documents_offered_from_the_panel_agree(case)


def test_send_back_returns_the_case_to_the_dispatcher_with_its_reason(petition, register, clerk, handler, departments):
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(
        actor=clerk, case_id=case.pk, department_id=departments["city"].pk, assisting_ids=[departments["housing"].pk]
    )
    with refused(case, ValidationFailed, field="reason"):
        handling_actions.case_send_back(actor=handler, case_id=case.pk, reason="  ")

    handling_actions.case_send_back(actor=handler, case_id=case.pk, reason="属于住房保障科职责")

    case = fresh(case)
    assert (case.state, case.lead_department, case.handler) == (S.ACCEPTED, None, None)
    assert not case.assisting_departments.exists()
    lead = Dispatch.objects.get(case=case, is_lead=True)
    assert (lead.status, lead.reason, lead.answered_by) == (DispatchStatus.SENT_BACK, "属于住房保障科职责", handler)
    assert Dispatch.objects.get(case=case, is_lead=False).status == DispatchStatus.WITHDRAWN
    data = last_event(case).data
    assert (data["action"], data["reason"], data["sent_back_by"]) == ("send_back", "属于住房保障科职责", CITY)

    queued = my_desk(actor=clerk)["to_dispatch"].get(pk=case.pk)
    assert (queued.sent_back_reason, queued.sent_back_by) == ("属于住房保障科职责", CITY)

    # Dispatched again, elsewhere: the sent-back row stays in the history.
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["housing"].pk)
    rows = list(Dispatch.objects.filter(case=case).order_by("id").values_list("department__code", "status"))
    assert rows == [("city", "sent_back"), ("housing", "withdrawn"), ("housing", "pending")]
    assert fresh(case).lead_department == departments["housing"]
    assert not my_desk(actor=clerk)["to_dispatch"].filter(pk=case.pk).exists()


def test_redispatch_withdraws_the_pending_rows(petition, register, clerk, handler, other_handler, departments):
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(
        actor=clerk, case_id=case.pk, department_id=departments["city"].pk, assisting_ids=[departments["housing"].pk]
    )
    handling_actions.case_redispatch(
        actor=clerk, case_id=case.pk, department_id=departments["traffic"].pk, instructions="改派"
    )

    case = fresh(case)
    assert (case.state, case.lead_department) == (S.DISPATCHED, departments["traffic"])
    assert not case.assisting_departments.exists()
    rows = list(
        Dispatch.objects.filter(case=case).order_by("id").values_list("department__code", "status", "answered_by")
    )
    assert rows == [("city", "withdrawn", clerk.pk), ("housing", "withdrawn", clerk.pk), ("traffic", "pending", None)]
    assert last_event(case).data["action"] == "redispatch"
    with refused(case, PermissionDeniedError):  # the first department let go of it
        handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    handling_actions.case_sign_for(actor=other_handler, case_id=case.pk)
    assert Dispatch.objects.get(case=case, status="signed").department == departments["traffic"]


def test_lead_department_head_assigns_handlers(
    petition,
    register,
    clerk,
    head,
    handler,
    city_colleague,
    housing_handler,
    housing_head,
    other_handler,
    departments,
):
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(
        actor=clerk, case_id=case.pk, department_id=departments["city"].pk, assisting_ids=[departments["housing"].pk]
    )

    with refused(case, PermissionDeniedError, match="只有主办部门负责人"):  # sees the case, but assists only
        hs.handler_assign(actor=housing_head, case_id=case.pk, handler_id=housing_handler.pk)
    with refused(case, ValidationFailed, field="handler"):
        hs.handler_assign(actor=head, case_id=case.pk, handler_id=other_handler.pk)
    with refused(case, ValidationFailed, field="assisting_handlers"):
        hs.handler_assign(actor=head, case_id=case.pk, handler_id=handler.pk, assisting_ids=[other_handler.pk])

    version = fresh(case).version
    hs.handler_assign(
        actor=head,
        case_id=case.pk,
        handler_id=city_colleague.pk,
        assisting_ids=[handler.pk, housing_handler.pk],
        expected_version=version,
    )

    case = fresh(case)
    assert case.handler == city_colleague and case.version == version + 1
    assert set(case.assisting_handlers.all()) == {handler, housing_handler}
    assert CaseRound.objects.get(case=case, number=1).handler == city_colleague
    event = last_event(case)
    assert event.kind == HandlingEvent.HANDLER_ASSIGNED
    assert event.data["handler_name"] == "city_colleague"
    assert sorted(event.data["assisting_names"]) == ["handler", "housing_handler"]


def test_head_of_another_department_cannot_assign(petition, register, clerk, org, departments, handler):
    traffic_head = make_staff(org, "traffic_head", ["dept_head"], departments["traffic"])
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    with refused(case, PermissionDeniedError):
        hs.handler_assign(actor=traffic_head, case_id=case.pk, handler_id=handler.pk)


# --- 3. property preset: no acceptance decision, confirmation to close -----------------------------------


def test_property_case_from_ledger_to_closure_with_confirmation(property_rules, register, clerk, handler):
    case = register()
    with refused(case, InvalidTransition):
        cs.case_accept(actor=clerk, case_id=case.pk)

    handling_actions.case_dispatch(
        actor=clerk, case_id=case.pk, department_id=handler.department_id, instructions="当日上门"
    )
    case = fresh(case)
    assert case.state == S.DISPATCHED
    assert (last_event(case).data["from"], last_event(case).data["to"]) == (S.REGISTERED, S.DISPATCHED)
    assert Dispatch.objects.get(case=case).status == DispatchStatus.PENDING

    handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    assert fresh(case).state == S.IN_PROGRESS and fresh(case).handler == handler
    assert Dispatch.objects.get(case=case).status == DispatchStatus.SIGNED
    with refused(case, InvalidTransition):  # no approval stage
        handling_actions.case_submit_for_approval(actor=handler, case_id=case.pk, proposal="拟维修", outcome="resolved")
    with refused(case, ValidationFailed, field="remedy"):  # the answer states the remedy (seeds/000 行 342)
        cs.case_reply(actor=handler, case_id=case.pk, reply="维修班已修复楼道顶棚。")
    cs.case_reply(actor=handler, case_id=case.pk, reply="维修班已修复楼道顶棚。", remedy="更换顶棚防水层")
    assert fresh(case).state == S.REPLIED
    assert CaseRound.objects.get(case=case, number=1).remedy == "更换顶棚防水层"

    with refused(case, ValidationFailed, field="confirmed"):
        cs.case_close(actor=clerk, case_id=case.pk, satisfaction="satisfied")
    with refused(case, ValidationFailed, field="satisfaction"):  # the callback stage is on
        cs.case_close(actor=clerk, case_id=case.pk, confirmed=True)
    with refused(case, ValidationFailed, field="satisfaction"):
        cs.case_close(actor=clerk, case_id=case.pk, satisfaction="dissatisfied", confirmed=True)

    cs.case_close(
        actor=clerk, case_id=case.pk, satisfaction="satisfied", confirmed=True, confirmation_note="业主签字确认"
    )
    case = fresh(case)
    assert case.state == S.CLOSED and case.closed_at is not None
    rnd = CaseRound.objects.get(case=case, number=1)
    assert (rnd.satisfaction, rnd.confirmed_by_complainant, rnd.confirmation_note) == (
        "satisfied",
        True,
        "业主签字确认",
    )
    assert last_event(case).data["confirmed"] is True


# --- 4. approval chain (petition: dept_head, then leader) ------------------------------------------------


def test_two_level_approval_then_reply(petition, register, flow, clerk, handler, head, leader, other_handler):
    case = flow.in_progress(register())
    with refused(case, ValidationFailed, field="outcome"):
        handling_actions.case_submit_for_approval(actor=handler, case_id=case.pk, proposal="拟责成物业维修")
    with refused(case, ValidationFailed, field="proposal"):
        handling_actions.case_submit_for_approval(actor=handler, case_id=case.pk, proposal="", outcome="resolved")
    with refused(case, PermissionDeniedError):
        handling_actions.case_submit_for_approval(
            actor=other_handler, case_id=case.pk, proposal="越权", outcome="resolved"
        )

    handling_actions.case_submit_for_approval(
        actor=handler, case_id=case.pk, proposal="拟责成物业维修", outcome="resolved", responsible_unit="安居物业"
    )
    case = fresh(case)
    assert case.state == S.PENDING_APPROVAL
    proposal = Proposal.objects.get(case=case)
    assert (proposal.chain, proposal.status, proposal.outcome, proposal.responsible_unit) == (
        ["dept_head", "leader"],
        ProposalStatus.PENDING,
        "resolved",
        "安居物业",
    )
    assert last_event(case).data["proposal_id"] == proposal.pk

    for outsider in (other_handler, handler):  # another department; the lead department's handler
        with refused(case, PermissionDeniedError):
            handling_actions.case_approve(actor=outsider, case_id=case.pk, comments="同意")

    handling_actions.case_approve(actor=head, case_id=case.pk, comments="审核同意")
    case = fresh(case)
    assert case.state == S.PENDING_APPROVAL
    event = last_event(case)
    assert event.kind == HandlingEvent.APPROVAL_SIGNED
    assert (event.data["level"], event.data["role"], event.data["from"], event.data["to"]) == (
        1,
        "dept_head",
        S.PENDING_APPROVAL,
        S.PENDING_APPROVAL,
    )
    step = ApprovalStep.objects.get(proposal=proposal)
    assert (step.level, step.role, step.decision, step.decided_by) == (1, "dept_head", "approved", head)

    with refused(case, PermissionDeniedError, match="您已签署过本审批"):
        handling_actions.case_approve(actor=head, case_id=case.pk, comments="再签")

    handling_actions.case_approve(actor=leader, case_id=case.pk, comments="签发")
    case = fresh(case)
    assert case.state == S.APPROVED
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    assert list(proposal.steps.values_list("level", "role", "decided_by")) == [
        (1, "dept_head", head.pk),
        (2, "leader", leader.pk),
    ]
    assert last_event(case).kind == EventKind.STATE_CHANGED and last_event(case).data["to"] == S.APPROVED

    with refused(case, ValidationFailed, field="reply"):
        cs.case_reply(actor=handler, case_id=case.pk, reply=" ")
    with refused(case, PermissionDeniedError):
        cs.case_reply(actor=other_handler, case_id=case.pk, reply="越权答复")
    cs.case_reply(actor=handler, case_id=case.pk, reply="物业已修复。", method="letter")
    case = fresh(case)
    assert case.state == S.REPLIED
    assert CaseRound.objects.get(case=case, number=1).reply_text == "物业已修复。"


def test_leader_does_not_stand_in_for_the_head_when_a_leader_signs_later(petition, register, flow, leader, head):
    """sign_refusal: in [dept_head, leader] the head signs first; a leader standing in at level 1
    would then be barred from level 2 (nobody signs twice) and leave the proposal stuck."""
    case = flow.pending(register())
    proposal = records.pending_proposal(case)
    assert records.sign_refusal(leader, case, proposal) is not None
    with refused(case, PermissionDeniedError, match="现待部门负责人审批（第 1 级，共 2 级）"):
        handling_actions.case_approve(actor=leader, case_id=case.pk, comments="代审核")
    handling_actions.case_approve(actor=head, case_id=case.pk, comments="同意")
    with refused(case, PermissionDeniedError, match="您已签署过本审批"):
        handling_actions.case_approve(actor=head, case_id=case.pk)
    handling_actions.case_approve(actor=leader, case_id=case.pk, comments="签发")
    assert fresh(case).state == S.APPROVED


def test_reject_by_the_due_signer_returns_the_proposal(petition, register, flow, handler, head, leader):
    case = flow.pending(register())
    handling_actions.case_approve(actor=head, case_id=case.pk, comments="同意")
    with refused(case, ValidationFailed, field="reason"):
        handling_actions.case_reject_approval(actor=leader, case_id=case.pk, reason="")
    with refused(case, PermissionDeniedError):  # level 2 is the leader's
        handling_actions.case_reject_approval(actor=head, case_id=case.pk, reason="再议")

    handling_actions.case_reject_approval(actor=leader, case_id=case.pk, reason="事实不清，请补充调查")

    case = fresh(case)
    assert case.state == S.IN_PROGRESS
    proposal = Proposal.objects.get(case=case)
    assert proposal.status == ProposalStatus.RETURNED
    step = proposal.steps.get(level=2)
    assert (step.decision, step.comments, step.decided_by) == ("returned", "事实不清，请补充调查", leader)
    data = last_event(case).data
    assert (data["action"], data["reason"], data["level"], data["to"]) == (
        "reject_approval",
        "事实不清，请补充调查",
        2,
        S.IN_PROGRESS,
    )

    # Resubmitted: a new proposal starts the chain from the first level again.
    handling_actions.case_submit_for_approval(
        actor=handler, case_id=case.pk, proposal="补充调查后拟维修", outcome="resolved"
    )
    assert records.pending_proposal(case).next_level == 0
    assert Proposal.objects.filter(case=case).count() == 2


# --- 5. concurrency and stale forms ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_version", [True, False])
def test_approve_and_reject_at_once_one_wins(with_version, petition, register, flow, head, leader, leader2):
    case = flow.pending(register())
    handling_actions.case_approve(actor=head, case_id=case.pk, comments="同意")
    proposal = records.pending_proposal(case)
    version = fresh(case).version if with_version else None
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def work(name, call):
        try:
            barrier.wait()
            call()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - checked below
            results[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=work,
            args=(
                "approve",
                lambda: handling_actions.case_approve(
                    actor=leader, case_id=case.pk, comments="签发", expected_version=version
                ),
            ),
        ),
        threading.Thread(
            target=work,
            args=(
                "reject",
                lambda: handling_actions.case_reject_approval(
                    actor=leader2, case_id=case.pk, reason="退回", expected_version=version
                ),
            ),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [name for name, r in results.items() if r == "ok"]
    assert len(winners) == 1, results
    [loser] = [r for r in results.values() if r != "ok"]
    assert isinstance(loser, (InvalidTransition, PermissionDeniedError, StaleObject)), repr(loser)
    assert "案件当前状态为" in str(loser)
    if with_version:
        winner = leader if winners == ["approve"] else leader2
        assert f"该件已由{winner}处理，您的操作未执行。" in str(loser)
    assert ApprovalStep.objects.filter(proposal=proposal, level=2).count() == 1
    case = fresh(case)
    assert case.state == (S.APPROVED if winners == ["approve"] else S.IN_PROGRESS)
    proposal.refresh_from_db()
    assert proposal.status == (ProposalStatus.APPROVED if winners == ["approve"] else ProposalStatus.RETURNED)


def test_a_stale_form_is_refused(petition, register, flow, clerk, handler, head):
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=handler.department_id)
    dispatched_version = fresh(case).version
    handling_actions.case_sign_for(actor=handler, case_id=case.pk)

    # The state moved on since the form was made: who acted first is named.
    with refused(case, InvalidTransition, match="该件已由handler处理，您的操作未执行。"):
        handling_actions.case_send_back(
            actor=handler, case_id=case.pk, reason="不属于本部门", expected_version=dispatched_version
        )
    # Same state, but an older version: the optimistic lock.
    with refused(case, StaleObject, match="该案件已被其他人修改"):
        handling_actions.case_submit_for_approval(
            actor=handler, case_id=case.pk, proposal="拟维修", outcome="resolved", expected_version=dispatched_version
        )
    with refused(case, StaleObject):
        hs.handler_assign(actor=head, case_id=case.pk, handler_id=handler.pk, expected_version=dispatched_version)


# --- 6. review and re-review (petition) ---------------------------------------------------------------------


def test_review_request_after_the_limit_is_refused(petition, drive, flow, clerk):
    case = drive.register(at(2025, 3, 3, 9))
    with drive.at(at(2025, 3, 3, 10)):
        flow.replied(case)
    answered, due = records.review_limit(case, 1)
    assert answered == at(2025, 3, 3, 10)
    assert timezone.localtime(due).date().isoformat() == "2025-04-02"  # day 30, counted from 4 March

    with drive.at(at(2025, 4, 20, 10)), refused(case, ValidationFailed, field="requested_at") as info:
        handling_actions.case_request_review(
            actor=clerk, case_id=case.pk, reason="不服答复意见", requested_at=at(2025, 4, 10, 9)
        )
    message = str(info.value)
    assert "已超过请求期限" in message and "2025-03-03" in message
    assert f"{timezone.localtime(due):%Y-%m-%d %H:%M}" in message
    assert not Review.objects.filter(case=case).exists()


def test_review_request_dated_before_the_answer_is_refused(petition, drive, flow, clerk):
    """A petition clerk's afternoon: a review request dated 2001 (for 2026) was taken on a
    matter answered in 2025 — a request against an answer not yet given; the limit counted
    from the answer held it for timely."""
    case = drive.register(at(2025, 3, 3, 9))
    with drive.at(at(2025, 3, 3, 10)):
        flow.replied(case)
    with drive.at(at(2025, 3, 20, 10)):
        for when in (at(2001, 3, 20, 10), at(2025, 3, 3, 9, 59)):
            with refused(
                case, ValidationFailed, field="requested_at", match="不能早于书面答复作出的时间（2025-03-03 10:00）"
            ):
                handling_actions.case_request_review(
                    actor=clerk, case_id=case.pk, reason="不服答复意见", requested_at=when
                )
        assert not Review.objects.filter(case=case).exists()
        handling_actions.case_request_review(
            actor=clerk, case_id=case.pk, reason="不服答复意见", requested_at=at(2025, 3, 3, 10)
        )
    assert Review.objects.get(case=case, level=1).requested_at == at(2025, 3, 3, 10)


def test_review_and_rereview_conclude_the_matter(petition, drive, flow, clerk, leader):
    case = drive.register(at(2025, 3, 3, 9))
    with drive.at(at(2025, 3, 3, 10)):
        flow.replied(case)
        with refused(case, ApplicationError, code="no_review"):  # re-review needs a decided review
            handling_actions.case_request_rereview(actor=clerk, case_id=case.pk, reason="不服")

    with drive.at(at(2025, 3, 20, 10)):
        with refused(case, ValidationFailed, field="reason"):
            handling_actions.case_request_review(actor=clerk, case_id=case.pk, reason="")
        handling_actions.case_request_review(actor=clerk, case_id=case.pk, reason="不服答复意见")
    case = fresh(case)
    assert case.state == S.UNDER_REVIEW
    review = Review.objects.get(case=case, level=1)
    assert (review.body, review.reason, review.requested_at, review.requested_by) == (
        "原办理机关、单位的上一级机关、单位",
        "不服答复意见",
        at(2025, 3, 20, 10),
        clerk,
    )
    assert review.request_due_at == records.review_limit(case, 1)[1]
    assert last_event(case).data["body"] == review.body
    clock = Clock.objects.get(case=case, stage="review_decision")
    assert (clock.state, clock.started_at) == ("running", at(2025, 3, 20, 10))
    # Day 30 from 21 March is Saturday 19 April: rolled forward to Monday (on_holiday: roll_forward).
    assert timezone.localtime(clock.due_at).date().isoformat() == "2025-04-21"

    with drive.at(at(2025, 3, 25, 10)):
        with refused(case, ValidationFailed, field="decision"):
            handling_actions.case_decide_review(actor=leader, case_id=case.pk, decision="partly", opinion="部分维持")
        with refused(case, ValidationFailed, field="opinion"):
            handling_actions.case_decide_review(actor=leader, case_id=case.pk, decision="upheld", opinion="")
        with refused(case, PermissionDeniedError):  # the review body's opinion is recorded by a leader
            handling_actions.case_decide_review(actor=clerk, case_id=case.pk, decision="upheld", opinion="维持")
        handling_actions.case_decide_review(
            actor=leader, case_id=case.pk, decision="upheld", opinion="原处理意见并无不当"
        )
    case = fresh(case)
    assert case.state == S.REPLIED
    review.refresh_from_db()
    assert (review.decision, review.opinion, review.decided_by, review.decided_at) == (
        "upheld",
        "原处理意见并无不当",
        leader,
        at(2025, 3, 25, 10),
    )
    clock.refresh_from_db()
    assert (clock.state, clock.stop_reason) == ("stopped", "done")

    with drive.at(at(2025, 4, 1, 10)):
        with refused(case, ApplicationError, code="review_twice"):
            handling_actions.case_request_review(actor=clerk, case_id=case.pk, reason="再次复查")
        handling_actions.case_request_rereview(actor=clerk, case_id=case.pk, reason="不服复查意见")
    case = fresh(case)
    assert case.state == S.UNDER_REREVIEW
    assert Review.objects.get(case=case, level=2).body == "复查机关、单位的上一级机关、单位"

    with drive.at(at(2025, 4, 8, 10)):
        handling_actions.case_decide_rereview(actor=leader, case_id=case.pk, decision="upheld", opinion="维持复查意见")
    case = fresh(case)
    assert (case.state, case.review_concluded, case.closed_at) == (S.CLOSED, True, at(2025, 4, 8, 10))
    assert not Clock.objects.filter(case=case).exclude(state="stopped").exists()

    # The same complainant (same phone, another name given) comes again: the matter is concluded.
    again = cs.case_register(actor=clerk, data=intake(party=PartyInput(name="张伟家属", phone="13812345678")))[0]
    assert again.party_id != case.party_id
    assert records.concluded_matters(again) == [case]
    stranger = cs.case_register(actor=clerk, data=intake(party=PartyInput(name="王芳", phone="13900001111")))[0]
    assert records.concluded_matters(stranger) == []
    assert_documents_offered_from_the_panel_agree(case)


# --- 7. rectification (construction station) ------------------------------------------------------------------


def test_rectification_notice_plan_and_check(construction, drive, flow, handler, register):
    case = drive.register(at(2025, 3, 3, 9))
    with drive.at(at(2025, 3, 3, 10)):
        flow.approved(case, responsible_unit="示范建筑工程有限公司")
        row = hs.rectification_notify(actor=handler, case_id=case.pk, unit="", requirements="修复外墙裂缝")

    assert row.unit == "示范建筑工程有限公司"  # from the approved proposal
    clock = Clock.objects.get(case=case, stage="rectification_plan")
    assert clock.state == "running" and row.plan_due_at == clock.due_at
    assert timezone.localtime(row.plan_due_at).date().isoformat() == "2025-03-17"  # day 14, counted from 4 March
    event = last_event(case, DeadlineEvent.UNIT_NOTIFIED)
    assert (event.data["unit"], event.data["note"]) == ("示范建筑工程有限公司", "修复外墙裂缝")

    with drive.at(at(2025, 3, 10, 10)):
        hs.rectification_plan_receive(actor=handler, rectification_id=row.pk, plan_text="三月底前完成修复")
    clock.refresh_from_db()
    assert (clock.state, clock.stop_reason, clock.stopped_at) == ("stopped", "done", at(2025, 3, 10, 10))
    row.refresh_from_db()
    assert (row.plan_text, row.plan_received_at) == ("三月底前完成修复", at(2025, 3, 10, 10))

    with refused(case, ApplicationError, code="plan_not_accepted"):
        hs.rectification_inform_complainant(actor=handler, rectification_id=row.pk, method="phone")
    with refused(case, ValidationFailed, field="note"):
        hs.rectification_plan_check(actor=handler, rectification_id=row.pk, verdict="revise", note=" ")

    with drive.at(at(2025, 3, 11, 10)):
        hs.rectification_plan_check(actor=handler, rectification_id=row.pk, verdict="revise", note="补充施工时间表")
    row.refresh_from_db()
    assert (row.verdict, row.verdict_note, row.checked_by) == ("revise", "补充施工时间表", handler)
    assert [e.kind for e in Event.objects.filter(case=case).order_by("-id")[:2]] == [
        DeadlineEvent.UNIT_NOTIFIED,
        HandlingEvent.PLAN_CHECKED,
    ]
    again = Clock.objects.get(case=case, stage="rectification_plan", state="running")  # timed afresh
    assert again.started_at == at(2025, 3, 11, 10)
    assert timezone.localtime(again.due_at).date().isoformat() == "2025-03-25"

    with drive.at(at(2025, 3, 14, 10)):
        hs.rectification_plan_receive(actor=handler, rectification_id=row.pk, plan_text="附施工时间表")
        hs.rectification_plan_check(actor=handler, rectification_id=row.pk, verdict="accepted")
        hs.rectification_inform_complainant(actor=handler, rectification_id=row.pk, method="phone", note="已电话告知")
    again.refresh_from_db()
    assert again.state == "stopped"
    row.refresh_from_db()
    assert (row.verdict, row.complainant_informed_at, row.complainant_informed_how) == (
        "accepted",
        at(2025, 3, 14, 10),
        "phone",
    )
    assert last_event(case).kind == HandlingEvent.COMPLAINANT_INFORMED
    assert_documents_offered_from_the_panel_agree(case)


def test_revised_plan_due_date_follows_the_new_clock(construction, drive, flow, handler):
    case = drive.register(at(2025, 3, 3, 9))
    with drive.at(at(2025, 3, 3, 10)):
        flow.approved(case, responsible_unit="示范建筑工程有限公司")
        row = hs.rectification_notify(actor=handler, case_id=case.pk)
    with drive.at(at(2025, 3, 10, 10)):
        hs.rectification_plan_receive(actor=handler, rectification_id=row.pk, plan_text="方案")
        hs.rectification_plan_check(actor=handler, rectification_id=row.pk, verdict="revise", note="补充")
    row.refresh_from_db()
    assert row.plan_due_at == Clock.objects.get(case=case, stage="rectification_plan", state="running").due_at


def test_a_whitespace_unit_falls_back_to_the_proposal(construction, register, flow, handler):
    case = flow.approved(register(), responsible_unit="示范建筑工程有限公司")
    row = hs.rectification_notify(actor=handler, case_id=case.pk, unit="  ")
    assert row.unit == "示范建筑工程有限公司"


def test_rectification_needs_the_stage(petition, register, flow, handler):
    case = flow.approved(register())
    with refused(case, ApplicationError, code="stage_off"):
        hs.rectification_notify(actor=handler, case_id=case.pk, unit="某公司")


def test_rectification_without_unit_or_proposal_is_refused(construction, register, flow, handler):
    case = flow.in_progress(register())
    with refused(case, ValidationFailed, field="unit"):
        hs.rectification_notify(actor=handler, case_id=case.pk)


# --- 8. investigation records -------------------------------------------------------------------------------


def test_interview_with_a_drawn_signature(petition, register, flow, handler):
    case = flow.in_progress(register())
    url, png = png_data_url()
    with refused(case, ValidationFailed, field="interviewee"):
        hs.investigation_add(actor=handler, case_id=case.pk, kind="interview", text="询问物业经理", signature_drawn=url)
    with refused(case, ValidationFailed, field="kind"):
        hs.investigation_add(actor=handler, case_id=case.pk, kind="chat", text="闲聊")
    with refused(case, ValidationFailed, field="occurred_at"):
        hs.investigation_add(
            actor=handler,
            case_id=case.pk,
            kind="site_visit",
            text="现场",
            occurred_at=timezone.now() + timedelta(hours=1),
        )

    record = hs.investigation_add(
        actor=handler,
        case_id=case.pk,
        kind="interview",
        text="物业经理承认漏水属实",
        interviewee="李经理",
        place="物业办公室",
        signature_drawn=url,
    )

    record.refresh_from_db()
    assert (record.kind, record.interviewee, record.round, record.recorded_by) == ("interview", "李经理", 1, handler)
    assert record.confirmation == ConfirmationKind.DRAWN and record.confirmed_at is not None
    signature = Attachment.objects.get(case=case)
    assert record.signature == signature
    assert (signature.original_name, signature.content_type, signature.uploaded_by) == (
        "signature.png",
        "image/png",
        handler,
    )
    with signature.file.open("rb") as f:
        assert f.read() == png
    kinds = list(Event.objects.filter(case=case).order_by("-id").values_list("kind", flat=True)[:2])
    assert kinds == [HandlingEvent.INVESTIGATION_RECORDED, EventKind.ATTACHMENT_ADDED]
    assert last_event(case).data["confirmed"] is True


@pytest.mark.parametrize(
    "drawn",
    [
        "data:image/png;base64,@@not-base64@@",
        "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff\xe0 jpeg").decode(),
        "data:image/png;base64," + base64.b64encode(b"GIF89a not a png").decode(),
    ],
)
def test_a_bad_signature_saves_nothing(drawn, petition, register, flow, handler):
    case = flow.in_progress(register())
    with refused(case, ValidationFailed, field="signature"):
        hs.investigation_add(
            actor=handler, case_id=case.pk, kind="interview", text="询问", interviewee="李经理", signature_drawn=drawn
        )
    assert not Investigation.objects.filter(case=case).exists()


def test_another_department_cannot_record_an_investigation(petition, register, flow, other_handler):
    case = flow.in_progress(register())
    with refused(case, PermissionDeniedError):
        hs.investigation_add(actor=other_handler, case_id=case.pk, kind="site_visit", text="现场核查")


# --- 9. documents -----------------------------------------------------------------------------------------


def test_not_accepted_notice_carries_the_ground_and_the_body(petition, register, clerk):
    case = register()
    with refused(case, ApplicationError, code="not_available"):
        hs.document_issue(actor=clerk, case_id=case.pk, kind="not_accepted_notice")
    handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="legal_procedure", refer_to="court")

    doc = hs.document_issue(actor=clerk, case_id=case.pk, kind="not_accepted_notice")

    assert (doc.title, doc.status, doc.number, doc.to_party) == (
        "不予受理告知书",
        DocumentStatus.ISSUED,
        f"{case.number}-01",
        case.party,
    )
    assert "已经或者依法应当通过诉讼、仲裁、行政复议等法定途径解决的" in doc.body
    assert "向人民法院提出" in doc.body
    event = last_event(case)
    assert (event.kind, event.data["document_id"], event.data["kind"]) == (
        HandlingEvent.DOCUMENT_ISSUED,
        doc.pk,
        "not_accepted_notice",
    )
    assert documents.render_pdf(doc, full=False).startswith(b"%PDF")


def test_reply_letter_after_the_reply(petition, register, flow, handler):
    case = flow.in_progress(register())
    with refused(case, ApplicationError, code="not_available"):
        hs.document_issue(actor=handler, case_id=case.pk, kind="reply_letter")
    with refused(case, ValidationFailed, field="kind"):
        hs.document_issue(actor=handler, case_id=case.pk, kind="love_letter")
    flow.replied(case, reply="经核实，物业已修复漏水点。")

    doc = hs.document_issue(actor=handler, case_id=case.pk, kind="reply_letter")

    assert doc.title == "答复意见书" and doc.status == DocumentStatus.ISSUED
    assert "经核实，物业已修复漏水点。" in doc.body
    assert "原办理机关、单位的上一级机关、单位请求复查" in doc.body  # the petition preset's review hint
    assert documents.render_pdf(doc, full=False).startswith(b"%PDF")


def test_result_report_is_approved_and_sent_before_closing(construction, register, flow, clerk, handler, head, leader):
    case = flow.in_progress(register())
    due = timezone.now() + timedelta(days=10)
    hs.authority_request_set(
        actor=clerk, case_id=case.pk, authority="市住建委", reference="住建交〔2025〕8号", due_at=due
    )
    clock = Clock.objects.get(case=case, stage="result_report")
    assert clock.state == "running" and due <= clock.due_at < due + timedelta(minutes=1)  # whole minutes
    flow.replied(case, proposal="责成施工单位修复裂缝", responsible_unit="示范建筑工程有限公司")

    report = hs.document_issue(actor=handler, case_id=case.pk, kind="result_report")
    assert (report.status, report.addressee, report.to_party) == (DocumentStatus.DRAFT, "市住建委", None)
    assert "市住建委（住建交〔2025〕8号）交办" in report.body and "责成施工单位修复裂缝" in report.body

    with refused(case, ApplicationError, code="not_approved"):
        hs.document_send(actor=handler, document_id=report.pk)
    with refused(case, PermissionDeniedError, match="须由领导审批"):
        hs.document_approve(actor=head, document_id=report.pk)
    with refused(case, ApplicationError, code="report_missing", match="市住建委"):
        cs.case_close(actor=clerk, case_id=case.pk, satisfaction="satisfied")

    hs.document_approve(actor=leader, document_id=report.pk)
    report.refresh_from_db()
    assert (report.status, report.approved_by) == (DocumentStatus.ISSUED, leader)
    with refused(case, ApplicationError, code="report_missing"):  # approved, not yet sent
        cs.case_close(actor=clerk, case_id=case.pk, satisfaction="satisfied")
    with refused(case, ApplicationError, code="not_draft"):
        hs.document_approve(actor=leader, document_id=report.pk)

    hs.document_send(actor=handler, document_id=report.pk)
    report.refresh_from_db()
    assert report.status == DocumentStatus.SENT and report.sent_at is not None
    assert AuthorityRequest.objects.get(case=case).report == report
    clock.refresh_from_db()
    assert (clock.state, clock.stop_reason) == ("stopped", "done")
    event = last_event(case)
    assert (event.kind, event.data["to"]) == (HandlingEvent.DOCUMENT_SENT, "市住建委")

    cs.case_close(actor=clerk, case_id=case.pk, satisfaction="satisfied")
    assert fresh(case).state == S.CLOSED
    assert documents.render_pdf(report, full=False).startswith(b"%PDF")
    assert_documents_offered_from_the_panel_agree(case)


@pytest.mark.parametrize("action", ["redispatch", "send_back"])
def test_the_authority_clock_survives_a_change_of_department(action, petition, register, clerk, handler, departments):
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    hs.authority_request_set(
        actor=clerk, case_id=case.pk, authority="市信访局", due_at=timezone.now() + timedelta(days=10)
    )
    assert Clock.objects.get(case=case, stage="result_report").state == "running"
    if action == "redispatch":
        handling_actions.case_redispatch(actor=clerk, case_id=case.pk, department_id=departments["housing"].pk)
    else:
        handling_actions.case_send_back(actor=handler, case_id=case.pk, reason="不属于本部门")
    assert Clock.objects.filter(case=case, stage="result_report", state="running").exists()


def test_a_template_saved_with_a_tag_now_refused_is_named_not_a_500(petition, register, clerk, admin, client):
    """A template saved before the engine lost a tag (here {% load %}) cannot be used: issuing
    the document says so and how to repair it, and the editor opens with the reason."""
    from django.urls import reverse

    DocumentTemplate.objects.create(
        organization=admin.organization,
        kind="not_accepted_notice",
        title="不予受理通知",
        body="{% load static %}旧模板",
        updated_by=admin,
    )
    case = register()
    handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="already_handled", refer_to="区人民政府")
    with pytest.raises(ApplicationError, match="模板无法使用") as info:
        hs.document_issue(actor=clerk, case_id=case.pk, kind="not_accepted_notice")
    assert info.value.field == "kind" and not Document.objects.filter(case=case).exists()
    client.force_login(admin)
    page = client.get(reverse("handling:template_edit", args=["not_accepted_notice"]))
    assert page.status_code == 200 and "模板语法错误" in page.content.decode()


def test_an_edited_template_is_checked_and_used(petition, register, clerk, admin):
    with pytest.raises(ValidationFailed) as info:
        hs.document_template_save(
            actor=admin, kind="not_accepted_notice", title="不予受理通知", body="依据：{% if ground %}{{ ground }}"
        )
    assert info.value.field == "body" and "模板语法错误" in str(info.value)
    # The engine loads no other template and no tag library: nothing outside the body is read.
    for body in ('{% include "base.html" %}', "{% load static %}{% static 'x' %}", "{% debug %}", '{% extends "a" %}'):
        with pytest.raises(ValidationFailed) as info:
            hs.document_template_save(actor=admin, kind="not_accepted_notice", title="不予受理通知", body=body)
        assert info.value.field == "body" and "可用的标签：if、for、with" in str(info.value), body
    with pytest.raises(PermissionDeniedError):
        hs.document_template_save(actor=clerk, kind="not_accepted_notice", title="不予受理通知", body="{{ ground }}")
    assert not DocumentTemplate.objects.exists()

    hs.document_template_save(
        actor=admin,
        kind="not_accepted_notice",
        title="不予受理通知",
        body="经研究不予受理。依据：{{ ground }}。请向{{ refer_to }}反映。",
    )
    case = register()
    handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="already_handled", refer_to="区人民政府")
    doc = hs.document_issue(actor=clerk, case_id=case.pk, kind="not_accepted_notice")
    assert doc.title == "不予受理通知"
    assert doc.body == "经研究不予受理。依据：有权处理的党政机关已经受理或正在办理的。请向区人民政府反映。"


# --- 10. joint handling -------------------------------------------------------------------------------------


def test_joint_handling_collects_every_part_before_concluding(
    petition,
    register,
    flow,
    clerk,
    head,
    handler,
    housing_handler,
    other_handler,
    departments,
):
    case = flow.in_progress(register())
    with refused(case, ValidationFailed, field="departments"):
        hs.joint_convene(actor=clerk, case_id=case.pk, topic="漏水责任划分", department_ids=[departments["housing"].pk])
    with refused(case, PermissionDeniedError):
        hs.joint_convene(
            actor=handler,
            case_id=case.pk,
            topic="漏水责任划分",
            department_ids=[departments["housing"].pk, departments["traffic"].pk],
        )

    joint = hs.joint_convene(
        actor=clerk,
        case_id=case.pk,
        topic="漏水责任划分",
        department_ids=[d.pk for d in departments.values()],
        place="三楼会议室",
    )
    case = fresh(case)
    assert set(case.assisting_departments.all()) == {departments["housing"], departments["traffic"]}
    assert case.lead_department == departments["city"]
    assert JointPart.objects.filter(joint=joint).count() == 3
    assert last_event(case).kind == HandlingEvent.JOINT_CONVENED

    hs.joint_record_part(
        actor=housing_handler, joint_id=joint.pk, department_id=departments["housing"].pk, text="负责核查房屋维修基金"
    )
    with refused(case, PermissionDeniedError):  # traffic's handler writing housing's part
        hs.joint_record_part(
            actor=other_handler, joint_id=joint.pk, department_id=departments["housing"].pk, text="越俎代庖"
        )
    hs.joint_record_part(
        actor=clerk, joint_id=joint.pk, department_id=departments["traffic"].pk, text="无交通管理职责"
    )  # the coordinator, on its behalf
    with refused(case, ValidationFailed, field="outcome") as info:
        hs.joint_conclude(actor=clerk, joint_id=joint.pk, outcome="由物业负责维修")
    assert CITY in str(info.value) and "住房保障科" not in str(info.value)

    hs.joint_record_part(actor=handler, joint_id=joint.pk, department_id=departments["city"].pk, text="督促物业维修")
    with refused(case, PermissionDeniedError, match="只有协调人"):
        hs.joint_conclude(actor=head, joint_id=joint.pk, outcome="由物业负责维修")
    hs.joint_conclude(actor=clerk, joint_id=joint.pk, outcome="由物业负责维修，住房保障科跟踪")

    joint.refresh_from_db()
    assert joint.outcome == "由物业负责维修，住房保障科跟踪" and joint.concluded_at is not None
    parts = dict(JointPart.objects.filter(joint=joint).values_list("department__code", "recorded_by"))
    assert parts == {"city": handler.pk, "housing": housing_handler.pk, "traffic": clerk.pk}
    event = last_event(case)
    assert (event.kind, event.data["outcome"]) == (HandlingEvent.JOINT_CONCLUDED, "由物业负责维修，住房保障科跟踪")
    with refused(case, ApplicationError, code="concluded"):
        hs.joint_record_part(actor=handler, joint_id=joint.pk, department_id=departments["city"].pk, text="补充")
