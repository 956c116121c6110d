"""Related cases (关联) and the merge of a duplicate (合并), issue 19 part 4: a merge keeps
every contact and event of both cases and both hash chains verify; the duplicate's clocks
stop; refusals (its state, the same case, an unknown or another organisation's number, a
target no longer handled, a handler of another department); links are symmetric, stored
once, with an event on both cases, and taken away the same way; the case page and the API
offer both."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from huiyin.cases import actions
from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.errors import InvalidTransition
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Contact, Event, Party
from huiyin.cases.selectors import verify_event_chain
from huiyin.cases.services import PartyInput, case_accept, case_register, contact_add
from huiyin.cases.workflow import CaseState
from huiyin.core.errors import ApplicationError, NotFound, ValidationFailed
from huiyin.deadlines.models import Clock, ClockState, StopReason
from huiyin.handling.actions import case_dispatch
from huiyin.orgs.models import Organization
from huiyin.orgs.roles import Role
from huiyin.portal.selectors import PLAIN
from huiyin.triage.actions import case_merge
from huiyin.triage.events import TriageEvent
from huiyin.triage.links import case_link, case_unlink, links_of
from huiyin.triage.models import CaseLink, IntakeLink, LinkKind
from tests.conftest import intake, make_staff
from tests.policy.conftest import activate

pytestmark = pytest.mark.django_db

NOISE = "幸福小区3号楼旁边的建筑工地每天晚上十点以后还在施工打桩，噪音很大，影响居民休息，请尽快处理。"


@pytest.fixture
def petition(org):
    """Acceptance decision on: a case waits in 已登记, then 已受理; clocks run from receipt."""
    return activate(org, "petition_office")


@pytest.fixture
def pair(petition, register, clerk):
    """The case being handled (accepted, a repeat call on it) and a duplicate by another caller
    (registered, a repeat call too)."""
    target = register(text=NOISE, party=PartyInput(name="张伟", phone="13812345678"))
    case_accept(actor=clerk, case_id=target.pk)
    contact_add(actor=clerk, case_id=target.pk, channel="phone", text="再次来电催办")
    duplicate = register(text=NOISE, party=PartyInput(name="李娜", phone="13900001111"), location="幸福小区3号楼")
    contact_add(actor=clerk, case_id=duplicate.pk, channel="phone", text="第二次来电，噪音仍在")
    for case in (target, duplicate):  # the text index the repeat candidates read, written after commit
        dispatch_after_commit(Event.objects.get(case=case, kind=EventKind.REGISTERED).pk)
    return Case.objects.get(pk=target.pk), Case.objects.get(pk=duplicate.pk)


def _snapshot(case: Case) -> tuple[list[tuple], list[tuple]]:
    contacts = list(Contact.objects.filter(case=case).order_by("id").values_list("id", "text", "occurred_at"))
    events = list(Event.objects.filter(case=case).order_by("id").values_list("id", "kind", "hash"))
    return contacts, events


def _unchanged(case: Case, before: tuple[list[tuple], list[tuple]]) -> None:
    assert _snapshot(case) == before


# --- merge -----------------------------------------------------------------------------------------


def test_a_merge_keeps_every_contact_and_event_of_both_cases(pair, clerk):
    target, duplicate = pair
    (t_contacts, t_events), (d_contacts, d_events) = _snapshot(target), _snapshot(duplicate)
    assert len(d_contacts) == 2 and len(t_contacts) == 2

    merged = actions.perform(
        actor=clerk,
        case_id=duplicate.pk,
        name="merge",
        values={"into_number": target.number, "note": "同一工地噪音"},
        expected_version=duplicate.version,
    )

    assert merged.state == CaseState.MERGED
    # The duplicate keeps its own contacts and every event, with one more: its move.
    contacts_after, events_after = _snapshot(duplicate)
    assert contacts_after == d_contacts
    assert events_after[: len(d_events)] == d_events and len(events_after) == len(d_events) + 1
    move = Event.objects.filter(case=duplicate).latest("id")
    assert move.data["action"] == "merge" and move.data["other_number"] == target.number
    assert move.data["contacts_copied"] == 2 and move.data["note"] == "同一工地噪音"
    # The target has its own contacts and a copy of each of the duplicate's, naming the original.
    copies = Contact.objects.filter(case=target, copied_from__isnull=False).order_by("id")
    assert (
        list(Contact.objects.filter(case=target).order_by("id").values_list("id", "text", "occurred_at"))[
            : len(t_contacts)
        ]
        == t_contacts
    )
    assert [(c.copied_from.case_id, c.text, c.occurred_at) for c in copies] == [
        (duplicate.pk, text, at) for _id, text, at in d_contacts
    ]
    assert not any(c.is_initial for c in copies)
    # ...and every event it had, plus the merged-in event naming the duplicate.
    t_after = list(Event.objects.filter(case=target).order_by("id").values_list("id", "kind", "hash"))
    assert t_after[: len(t_events)] == t_events and len(t_after) == len(t_events) + 1
    merged_in = Event.objects.filter(case=target).latest("id")
    assert merged_in.kind == TriageEvent.MERGED_IN and merged_in.data["other_number"] == duplicate.number
    assert merged_in.data["copied_from"] == [c[0] for c in d_contacts]
    assert verify_event_chain(target) and verify_event_chain(duplicate)
    # The duplicate's complainant is a co-party of the target; the two are linked as merged.
    assert list(target.co_parties.values_list("pk", flat=True)) == [duplicate.party_id]
    link = CaseLink.objects.get()
    assert link.kind == LinkKind.MERGED and link.merged_into_id == target.pk
    assert links_of(target) == links_of(duplicate) == [link]


def test_the_duplicates_clocks_stop_and_the_targets_run_on(pair, clerk):
    target, duplicate = pair
    running = Clock.objects.filter(case=duplicate, state=ClockState.RUNNING)
    assert running.exists()
    target_running = set(Clock.objects.filter(case=target, state=ClockState.RUNNING).values_list("pk", flat=True))
    case_merge(actor=clerk, case_id=duplicate.pk, into_number=target.number)
    assert not Clock.objects.filter(case=duplicate, state=ClockState.RUNNING).exists()
    assert set(Clock.objects.filter(case=duplicate).values_list("stop_reason", flat=True)) == {StopReason.CANCELLED}
    assert target_running == set(
        Clock.objects.filter(case=target, state=ClockState.RUNNING).values_list("pk", flat=True)
    )


def test_a_co_party_already_on_the_target_is_not_added_twice(petition, register, clerk):
    target = register(text=NOISE, party=PartyInput(name="张伟", phone="13812345678"))
    duplicate = register(text=NOISE, party=PartyInput(name="张伟", phone="13812345678"))
    same = Party.objects.filter(pk__in=[target.party_id, duplicate.party_id]).count()
    case_merge(actor=clerk, case_id=duplicate.pk, into_number=target.number)
    expected = 0 if same == 1 else 1
    assert Case.objects.get(pk=target.pk).co_parties.count() == expected


def _refused(call, *cases: Case) -> ApplicationError:
    before = [_snapshot(c) for c in cases]
    states = [Case.objects.get(pk=c.pk).state for c in cases]
    links = CaseLink.objects.count()
    with pytest.raises(ApplicationError) as caught:
        call()
    for case, snap, state in zip(cases, before, states, strict=True):
        _unchanged(case, snap)
        assert Case.objects.get(pk=case.pk).state == state
    assert CaseLink.objects.count() == links
    return caught.value


def test_a_dispatched_duplicate_is_refused_naming_its_state(pair, clerk, departments):
    target, duplicate = pair
    case_accept(actor=clerk, case_id=duplicate.pk)
    case_dispatch(actor=clerk, case_id=duplicate.pk, department_id=departments["city"].pk)
    error = _refused(
        lambda: case_merge(actor=clerk, case_id=duplicate.pk, into_number=target.number), target, duplicate
    )
    assert isinstance(error, InvalidTransition)
    assert "已派遣" in str(error.message) and "关联" in str(error.message)


def test_merging_a_case_into_itself_is_refused(pair, clerk):
    _target, duplicate = pair
    error = _refused(lambda: case_merge(actor=clerk, case_id=duplicate.pk, into_number=duplicate.number), duplicate)
    assert isinstance(error, ValidationFailed)
    assert "不能把一件并入它自己" in error.errors["into_number"][0]


@pytest.mark.parametrize("number", ["", "20990101-99999", "  \x00abc"])
def test_an_unknown_or_missing_number_is_refused_on_the_field(pair, clerk, number):
    target, duplicate = pair
    error = _refused(lambda: case_merge(actor=clerk, case_id=duplicate.pk, into_number=number), target, duplicate)
    assert isinstance(error, ValidationFailed)
    assert error.errors["into_number"][0].startswith("并入案件编号：")


def test_another_organisations_number_is_unknown(pair, clerk):
    target, duplicate = pair
    other = Organization.objects.create(code="other", name="别的热线")
    activate(other, "petition_office")
    theirs = make_staff(other, "their_clerk", [Role.INTAKE_CLERK])
    numbers = set(Case.objects.filter(organization=target.organization).values_list("number", flat=True))
    foreign = None
    for _ in range(len(numbers) + 1):
        foreign, _code = case_register(actor=theirs, data=intake(text=NOISE))
    assert foreign is not None and foreign.number not in numbers
    error = _refused(
        lambda: case_merge(actor=clerk, case_id=duplicate.pk, into_number=foreign.number), target, duplicate, foreign
    )
    assert isinstance(error, ValidationFailed) and "本单位没有" in error.errors["into_number"][0]
    # ...and their clerk cannot reach our case at all.
    with pytest.raises(Case.DoesNotExist):
        case_merge(actor=theirs, case_id=duplicate.pk, into_number=foreign.number)


def test_a_target_no_longer_handled_is_refused(pair, register, clerk):
    target, duplicate = pair
    case_merge(actor=clerk, case_id=duplicate.pk, into_number=target.number)
    third = register(text=NOISE, party=PartyInput(name="王芳", phone="13700002222"))
    error = _refused(lambda: case_merge(actor=clerk, case_id=third.pk, into_number=duplicate.number), third, duplicate)
    assert isinstance(error, ValidationFailed)
    message = error.errors["into_number"][0]
    assert duplicate.number in message and "已合并" in message and "关联" in message


def test_a_handler_of_another_department_may_not_merge(pair, other_handler, head):
    target, duplicate = pair
    for actor in (other_handler, head):
        _refused(
            lambda a=actor: case_merge(actor=a, case_id=duplicate.pk, into_number=target.number), target, duplicate
        )
    assert "merge" not in {a.name for a in actions.allowed_actions(other_handler, duplicate)}


# --- link and unlink -----------------------------------------------------------------------------------


def test_a_link_is_symmetric_stored_once_and_on_both_timelines(pair, clerk):
    target, duplicate = pair
    link = case_link(actor=clerk, case_id=duplicate.pk, other_number=target.number, reason="同一工地")
    assert (link.low_id, link.high_id) == tuple(sorted((target.pk, duplicate.pk)))
    assert link.created_by == clerk and link.reason == "同一工地" and link.kind == LinkKind.RELATED
    assert links_of(target) == links_of(duplicate) == [link]
    for one, two in ((target, duplicate), (duplicate, target)):
        event = Event.objects.filter(case=one).latest("id")
        assert event.kind == TriageEvent.CASE_LINKED and event.data["other_number"] == two.number
        assert event.data["reason"] == "同一工地" and event.actor == clerk
    # The other way round is the same link: refused, nothing added.
    error = _refused(
        lambda: case_link(actor=clerk, case_id=target.pk, other_number=duplicate.number, reason="再关联"),
        target,
        duplicate,
    )
    assert error.field == "other_number" and duplicate.number in str(error.message)
    # Taken away from the other case: gone for both, an event on both, chains intact.
    case_unlink(actor=clerk, case_id=target.pk, link_id=link.pk)
    assert links_of(target) == links_of(duplicate) == []
    for one in (target, duplicate):
        event = Event.objects.filter(case=one).latest("id")
        assert event.kind == TriageEvent.CASE_UNLINKED and event.data["linked_reason"] == "同一工地"
        assert verify_event_chain(one)


def test_link_refusals(pair, clerk, other_handler):
    target, duplicate = pair
    for number, field_message in (
        (duplicate.number, "不能把一件与它自己关联"),
        ("", "请填写案件编号"),
        ("19990101-00001", "本单位没有"),
    ):
        error = _refused(
            lambda n=number: case_link(actor=clerk, case_id=duplicate.pk, other_number=n, reason="理由"), duplicate
        )
        assert field_message in error.errors["other_number"][0]
    error = _refused(
        lambda: case_link(actor=clerk, case_id=duplicate.pk, other_number=target.number, reason=" "), duplicate
    )
    assert "关联理由" in error.errors["reason"][0]
    # A handler of a department that has neither case sees neither: refused.
    _refused(
        lambda: case_link(actor=other_handler, case_id=duplicate.pk, other_number=target.number, reason="理由"),
        target,
        duplicate,
    )


def test_the_link_a_merge_left_cannot_be_taken_away(pair, clerk):
    target, duplicate = pair
    case_merge(actor=clerk, case_id=duplicate.pk, into_number=target.number)
    link = CaseLink.objects.get()
    _refused(lambda: case_unlink(actor=clerk, case_id=target.pk, link_id=link.pk), target, duplicate)
    with pytest.raises(NotFound):
        case_unlink(actor=clerk, case_id=target.pk, link_id=link.pk + 1000)


# --- the case page and the API -------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_case_page_offers_link_and_merge_here(pair, clerk):
    target, duplicate = pair
    client = _client(clerk)
    page = client.get(reverse("cases:detail", args=[target.pk])).content.decode()
    assert 'id="links-panel"' in page and reverse("triage:link", args=[target.pk]) in page
    assert f'data-candidate="{duplicate.pk}"' in page and "合并到此件" in page
    # The button posts the duplicate's merge with this case's number.
    response = client.post(
        reverse("cases:act", args=[duplicate.pk, "merge"]),
        {"into_number": target.number, "version": duplicate.version},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=duplicate.pk).state == CaseState.MERGED
    page = client.get(reverse("cases:detail", args=[target.pk])).content.decode()
    assert "已并入本件" in page and f"合并自 {duplicate.number}" in page
    page = client.get(reverse("cases:detail", args=[duplicate.pk])).content.decode()
    assert "本件已并入" in page and target.number in page


def test_the_workbench_merge_form_names_the_field(pair, clerk):
    target, duplicate = pair
    client = _client(clerk)
    page = client.get(reverse("cases:detail", args=[duplicate.pk])).content.decode()
    assert 'name="into_number"' in page
    response = client.post(
        reverse("cases:act", args=[duplicate.pk, "merge"]), {"into_number": "nope", "version": duplicate.version}
    )
    assert response.status_code == 400 and "并入案件编号：本单位没有" in response.content.decode()
    assert Case.objects.get(pk=duplicate.pk).state == CaseState.REGISTERED


def test_link_and_unlink_on_the_case_page(pair, clerk):
    target, duplicate = pair
    client = _client(clerk)
    response = client.post(
        reverse("triage:link", args=[duplicate.pk]), {"other_number": target.number, "reason": "同一工地"}
    )
    assert response.status_code == 302
    link = CaseLink.objects.get()
    page = client.get(reverse("cases:detail", args=[target.pk])).content.decode()
    assert reverse("triage:unlink", args=[target.pk, link.pk]) in page and duplicate.number in page
    refused = client.post(reverse("triage:link", args=[duplicate.pk]), {"other_number": "x", "reason": "r"})
    assert refused.status_code == 400 and "关联案件编号" in refused.content.decode()
    assert client.post(reverse("triage:unlink", args=[target.pk, link.pk])).status_code == 302
    assert not CaseLink.objects.exists()


def test_the_api_has_the_merge_endpoint(pair, clerk):
    target, duplicate = pair
    client = _client(clerk)
    listed = client.get(reverse("api:actions", kwargs={"case_id": duplicate.pk})).json()
    assert "merge" in {a["name"] for a in listed}
    bad = client.post(
        reverse("api:action-merge", kwargs={"case_id": duplicate.pk}),
        {"into_number": duplicate.number},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "into_number" in bad.json()["fields"]
    done = client.post(
        reverse("api:action-merge", kwargs={"case_id": duplicate.pk}),
        {"into_number": target.number, "version": duplicate.version},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["state"] == "merged"


def test_the_public_status_page_words_the_merge(pair, clerk):
    assert "合并" in str(PLAIN[CaseState.MERGED][1])


# --- 关联 from the intake form's repeat candidates -------------------------------------------------------


def test_a_candidate_marked_on_the_intake_form_is_linked_once_registered(pair, clerk):
    target, _duplicate = pair
    client = _client(clerk)
    token = uuid.uuid4().hex
    page = client.get(reverse("cases:intake", args=["phone"])).content.decode()
    assert reverse("triage:intake_link") in page and "登记为新件并与该件关联" in page
    url = reverse("triage:intake_link")
    assert client.post(url, {"intake_token": token, "case_id": target.pk}).json() == {"ok": True}
    assert client.post(url, {"intake_token": token, "case_id": target.pk}).status_code == 200  # once
    assert client.post(url, {"intake_token": "x", "case_id": target.pk}).status_code == 400
    assert client.post(url, {"intake_token": token, "case_id": "abc"}).status_code == 404
    assert client.post(url, {"intake_token": token, "case_id": 10**11}).status_code == 404
    assert IntakeLink.objects.count() == 1
    new, _code = case_register(actor=clerk, data=intake(text=NOISE, intake_token=token))
    dispatch_after_commit(Event.objects.get(case=new, kind=EventKind.REGISTERED).pk)
    link = CaseLink.objects.get()
    assert {link.low_id, link.high_id} == {new.pk, target.pk} and link.created_by == clerk
    assert Event.objects.filter(case=target, kind=TriageEvent.CASE_LINKED).count() == 1
    assert not IntakeLink.objects.exists()


def test_a_handler_may_not_mark_intake_links(pair, other_handler):
    target, _duplicate = pair
    response = _client(other_handler).post(
        reverse("triage:intake_link"), {"intake_token": uuid.uuid4().hex, "case_id": target.pk}
    )
    assert response.status_code == 403 and not IntakeLink.objects.exists()
