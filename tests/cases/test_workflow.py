"""The transition table itself, without a database: every (from, to) pair."""

from __future__ import annotations

import itertools

import pytest

from huiyin.cases.workflow import (
    DEFAULT_STAGES,
    EDGES,
    CaseState,
    Stage,
    edges_from,
    find_edge,
    mermaid_diagram,
)

S = CaseState
ALL = list(CaseState)
# With the default stages (acceptance decision, sign-for, approval, callback on; review
# off), written out by hand so a changed table has to change this list too.
LEGAL_DEFAULT = {
    (S.REGISTERED, S.ACCEPTED),
    (S.REGISTERED, S.NOT_ACCEPTED),
    (S.REGISTERED, S.NOT_REACCEPTED),
    (S.REGISTERED, S.RETURNED),
    (S.REGISTERED, S.TRANSFERRED),
    (S.REGISTERED, S.REPLIED),
    (S.REGISTERED, S.MERGED),
    (S.ACCEPTED, S.MERGED),
    (S.ACCEPTED, S.DISPATCHED),
    (S.DISPATCHED, S.DISPATCHED),
    (S.DISPATCHED, S.IN_PROGRESS),
    (S.DISPATCHED, S.ACCEPTED),
    (S.IN_PROGRESS, S.PENDING_APPROVAL),
    (S.PENDING_APPROVAL, S.APPROVED),
    (S.PENDING_APPROVAL, S.IN_PROGRESS),
    (S.APPROVED, S.REPLIED),
    (S.REPLIED, S.CLOSED),
    (S.REPLIED, S.ACCEPTED),
    (S.CLOSED, S.ACCEPTED),
    (S.CLOSED, S.ARCHIVED),
    (S.NOT_ACCEPTED, S.ARCHIVED),
    (S.NOT_REACCEPTED, S.ARCHIVED),
    (S.RETURNED, S.ARCHIVED),
    (S.TRANSFERRED, S.ARCHIVED),
    (S.MERGED, S.ARCHIVED),
}


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(ALL, ALL)))
def test_every_pair_is_either_in_the_table_or_refused(src, dst):
    allowed = {e.dst for e in edges_from(src)}
    assert (dst in allowed) == ((src, dst) in LEGAL_DEFAULT)


def test_archived_is_terminal():
    assert edges_from(CaseState.ARCHIVED) == []


def test_approval_switched_off_replaces_approval_with_direct_reply():
    on = {e.action for e in edges_from(CaseState.IN_PROGRESS)}
    off = {e.action for e in edges_from(CaseState.IN_PROGRESS, {Stage.APPROVAL: False})}
    assert on == {"submit_for_approval"}
    assert off == {"reply"}
    assert edges_from(CaseState.PENDING_APPROVAL, {Stage.APPROVAL: False}) == []


def test_without_acceptance_decision_the_desk_dispatches_from_the_ledger():
    """首问负责 (property, hospital): no accept step; without sign-for the department has it at once."""
    switches = {Stage.ACCEPTANCE: False}
    assert find_edge(S.REGISTERED, "accept", switches) is None
    assert find_edge(S.REGISTERED, "dispatch", switches).dst == S.DISPATCHED
    no_sign_for = {Stage.ACCEPTANCE: False, Stage.SIGN_FOR: False}
    assert find_edge(S.REGISTERED, "dispatch", no_sign_for).dst == S.IN_PROGRESS
    assert find_edge(S.ACCEPTED, "dispatch", no_sign_for).dst == S.IN_PROGRESS
    assert find_edge(S.REGISTERED, "dispatch") is None  # with a decision, accept first


def test_review_edges_exist_only_with_the_review_stage():
    on = {Stage.REVIEW: True}
    assert {e.action for e in edges_from(S.REPLIED, on)} >= {"request_review", "request_rereview"}
    assert find_edge(S.UNDER_REVIEW, "decide_review", on).dst == S.REPLIED
    assert find_edge(S.UNDER_REREVIEW, "decide_rereview", on).dst == S.CLOSED
    assert not {"request_review", "request_rereview"} & {e.action for e in edges_from(S.REPLIED)}


def test_one_action_has_at_most_one_edge_per_state_under_any_switches():
    for values in itertools.product([True, False], repeat=len(DEFAULT_STAGES)):
        switches = dict(zip(DEFAULT_STAGES, values, strict=True))
        for state in ALL:
            actions = [e.action for e in edges_from(state, switches)]
            assert len(actions) == len(set(actions)), (state, switches)


def test_find_edge_by_action():
    assert find_edge(CaseState.REGISTERED, "accept").dst == CaseState.ACCEPTED
    assert find_edge(CaseState.REGISTERED, "close") is None


def test_every_state_is_reachable_from_registered():
    reachable, frontier = {CaseState.REGISTERED}, [CaseState.REGISTERED]
    while frontier:
        state = frontier.pop()
        for e in EDGES:
            if e.src == state and e.dst not in reachable:
                reachable.add(e.dst)
                frontier.append(e.dst)
    assert reachable == set(CaseState)


def test_diagram_is_generated_from_the_table():
    diagram = mermaid_diagram()
    for e in EDGES:
        assert f"{e.src} --> {e.dst}: {e.action}" in diagram
