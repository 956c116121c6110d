"""Department staff see exactly the cases their department leads or assists, and the ones
they handle or received — through dispatch with assisting departments, joint handling,
a new handler, send-back and redispatch.

On PostgreSQL the department part is one GIN-indexed column kept by triggers (cases
migration 0020, ``selectors.InScope``); elsewhere an EXISTS. Both must answer as the case
page's own rule (``permissions.may_view_case``) after every step, and the ledger's pages,
filters and exports must list the same cases."""

# ruff: noqa: F811 - the handling tests' fixtures are imported by name below
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from huiyin.cases import selectors
from huiyin.cases import services as cs
from huiyin.cases.models import Case
from huiyin.cases.permissions import may_view_case
from huiyin.cases.selectors import LedgerFilters, cases_for, ledger, ledger_total
from huiyin.handling import actions as handling_actions
from huiyin.handling import services as handling_services
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.handling.conftest import city_colleague, housing_handler, housing_head, petition  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic_head(org, departments):
    return make_staff(org, "traffic_head", [Role.DEPT_HEAD], departments["traffic"])


@pytest.fixture
def people(handler, city_colleague, head, housing_handler, housing_head, other_handler, traffic_head, clerk):
    return {
        "handler": handler,
        "city_colleague": city_colleague,
        "head": head,
        "housing_handler": housing_handler,
        "housing_head": housing_head,
        "other_handler": other_handler,
        "traffic_head": traffic_head,
        "clerk": clerk,
    }


def _seen(actor) -> set[int]:
    return set(cases_for(actor).values_list("pk", flat=True))


def _stored_scope() -> dict[int, list[int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, scope_departments FROM cases_case")
        return {pk: list(scope) for pk, scope in cursor.fetchall()}


def check(people: dict, expected: dict[str, set[int]] | None = None) -> None:
    """Every person's view from the database equals the case page's rule (and ``expected``
    where given); on PostgreSQL the stored scope is each case's lead and assisting departments."""
    cases = list(Case.objects.all())
    for name, person in people.items():
        by_rule = {c.pk for c in cases if may_view_case(person, c)}
        assert _seen(person) == by_rule, name
        listed = [c.pk for c in ledger(actor=person, filters=LedgerFilters())]
        assert sorted(listed) == sorted(by_rule), name
        if expected is not None and name in expected:
            assert by_rule == expected[name], name
    if connection.vendor == "postgresql":
        stored = _stored_scope()
        for case in cases:
            wanted = sorted(
                {
                    *([case.lead_department_id] if case.lead_department_id else []),
                    *case.assisting_departments.values_list("pk", flat=True),
                }
            )
            assert stored[case.pk] == wanted, case.number


def test_a_department_sees_what_it_leads_or_assists_through_every_step(
    petition,
    register,
    clerk,
    departments,
    people,
    handler,
    head,
    city_colleague,
    housing_handler,
):
    city, housing, traffic = departments["city"], departments["housing"], departments["traffic"]
    a = register(text="甲：路灯不亮。")
    b = register(text="乙：井盖松动。")
    c = register(text="丙：占道经营。", received_at=timezone.now() - timedelta(hours=2))
    check(people, {"handler": set(), "housing_handler": set(), "clerk": {a.pk, b.pk, c.pk}})

    # Dispatched: a to city with housing assisting, b to traffic.
    for case in (a, b):
        cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=a.pk, department_id=city.pk, assisting_ids=[housing.pk])
    handling_actions.case_dispatch(actor=clerk, case_id=b.pk, department_id=traffic.pk)
    check(people, {"handler": {a.pk}, "housing_handler": {a.pk}, "other_handler": {b.pk}, "traffic_head": {b.pk}})

    # A handler named in city; the case stays the department's for the colleague too.
    handling_actions.case_sign_for(actor=handler, case_id=a.pk)
    handling_services.handler_assign(actor=head, case_id=a.pk, handler_id=city_colleague.pk)
    check(people, {"handler": {a.pk}, "city_colleague": {a.pk}})

    # Joint handling on b brings city and housing in as assisting departments.
    handling_services.joint_convene(
        actor=clerk,
        case_id=b.pk,
        department_ids=[traffic.pk, city.pk, housing.pk],
        topic="占道协调",
        meeting_at=timezone.now() + timedelta(days=1),
    )
    check(people, {"handler": {a.pk, b.pk}, "housing_handler": {a.pk, b.pk}, "other_handler": {b.pk}})


def test_send_back_and_redispatch_move_the_case_between_departments(
    petition,
    register,
    clerk,
    departments,
    people,
    handler,
    other_handler,
    housing_handler,
):
    city, housing, traffic = departments["city"], departments["housing"], departments["traffic"]
    case = register(text="丁：楼道堆物。")
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=city.pk, assisting_ids=[housing.pk])
    check(people, {"handler": {case.pk}, "housing_handler": {case.pk}, "other_handler": set()})

    handling_actions.case_redispatch(actor=clerk, case_id=case.pk, department_id=traffic.pk)
    check(people, {"handler": set(), "housing_handler": set(), "other_handler": {case.pk}})

    handling_actions.case_send_back(actor=other_handler, case_id=case.pk, reason="不属于本科职责")
    check(people, {"handler": set(), "other_handler": set(), "housing_handler": set()})  # no department now

    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=housing.pk)
    check(people, {"housing_handler": {case.pk}, "other_handler": set()})


def test_the_filtered_ledger_and_its_total_keep_the_scope(
    petition,
    register,
    clerk,
    departments,
    category,
    handler,
    other_handler,
):
    """A category or a department filter (on PostgreSQL: candidates read by bitmaps first)
    lists the department's cases of it, and counts them, and nothing of another's."""
    city, traffic = departments["city"], departments["traffic"]
    ours = [register(text=f"城管{n}：路灯不亮。", category_id=category.pk) for n in range(3)]
    theirs = [register(text=f"交通{n}：占道经营。", category_id=category.pk) for n in range(2)]
    for case, department in [*((c, city) for c in ours), *((c, traffic) for c in theirs)]:
        cs.case_accept(actor=clerk, case_id=case.pk)
        handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=department.pk)
    by_category = LedgerFilters(category_id=category.pk)
    assert [c.pk for c in ledger(actor=handler, filters=by_category)] == [c.pk for c in reversed(ours)]
    assert ledger_total(actor=handler, filters=by_category).count == 3
    assert [c.pk for c in ledger(actor=other_handler, filters=by_category)] == [c.pk for c in reversed(theirs)]
    elsewhere = LedgerFilters(department_id=traffic.pk)
    assert list(ledger(actor=handler, filters=elsewhere)) == []
    assert ledger_total(actor=handler, filters=elsewhere).count == 0
    assert ledger_total(actor=clerk, filters=elsewhere).count == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the scope column is PostgreSQL's")
def test_the_scope_condition_holds_inside_a_subquery(petition, register, clerk, departments, handler):
    """``case__in=cases_for(actor)`` renames the case table inside the subquery: the scope
    condition follows the rename (it reads the table's alias from the primary key)."""
    case = register(text="戊：噪音扰民。")
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    inner = Case.objects.filter(pk__in=cases_for(handler).values("pk"))
    assert 'U0."scope_departments"' in str(inner.query)
    assert list(inner.values_list("pk", flat=True)) == [case.pk]


def test_the_scope_is_the_department_rule_on_every_backend(handler):
    assert selectors.scoped(handler) and not selectors.scoped(make_staff(handler.organization, "l2", [Role.LEADER]))
