"""The transition table itself, without a database: every (from, to) pair."""

from __future__ import annotations

import itertools

import pytest

from huiyin.cases.workflow import EDGES, CaseState, Stage, edges_from, find_edge, mermaid_diagram

ALL = list(CaseState)
LEGAL_DEFAULT = {(e.src, e.dst) for e in EDGES if e.skips_stage is None}  # approval + callback on


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(ALL, ALL)))
def test_every_pair_is_either_in_the_table_or_refused(src, dst):
    allowed = {e.dst for e in edges_from(src)}
    assert (dst in allowed) == ((src, dst) in LEGAL_DEFAULT)


def test_issue_lifecycle_edges_exist():
    S = CaseState
    for src, dst in [
        (S.REGISTERED, S.ACCEPTED), (S.REGISTERED, S.NOT_ACCEPTED), (S.REGISTERED, S.NOT_REACCEPTED),
        (S.REGISTERED, S.RETURNED), (S.REGISTERED, S.TRANSFERRED), (S.ACCEPTED, S.DISPATCHED),
        (S.DISPATCHED, S.IN_PROGRESS), (S.IN_PROGRESS, S.PENDING_APPROVAL), (S.PENDING_APPROVAL, S.REPLIED),
        (S.REPLIED, S.CLOSED), (S.CLOSED, S.ARCHIVED), (S.CLOSED, S.ACCEPTED),
    ]:
        assert dst in {e.dst for e in edges_from(src)}, (src, dst)


def test_archived_is_terminal():
    assert edges_from(CaseState.ARCHIVED) == []


def test_approval_switched_off_replaces_approval_with_direct_reply():
    on = {e.action for e in edges_from(CaseState.IN_PROGRESS)}
    off = {e.action for e in edges_from(CaseState.IN_PROGRESS, {Stage.APPROVAL: False})}
    assert on == {"submit_for_approval"}
    assert off == {"reply"}
    assert edges_from(CaseState.PENDING_APPROVAL, {Stage.APPROVAL: False}) == []


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
