"""Two people at once on one case, neither with the form's version (the worst case): the
department signs for a dispatch while someone sends it back or the dispatcher redirects
it; two staff sign for it at once. Exactly one of them happens — one event, one answer
to the dispatch — and the other is told, not a 500 and not a second record. Meaningful on
PostgreSQL (row locks); SQLite serialises the writers anyway."""

from __future__ import annotations

import pytest

from huiyin.cases.models import Case, Event
from huiyin.cases.services import case_accept
from huiyin.cases.workflow import CaseState as S
from huiyin.core.errors import ApplicationError
from huiyin.handling import actions as handling_actions
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.race import at_once


@pytest.fixture
def dispatched(register, clerk, departments):
    def make() -> Case:
        case = register()
        case_accept(actor=clerk, case_id=case.pk)
        return handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)

    return make


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("other", ["send_back", "redispatch", "sign_for"])
def test_two_answers_to_one_dispatch_at_once_one_wins(other, dispatched, clerk, head, org, departments):
    case = dispatched()
    second = make_staff(org, "head2", [Role.DEPT_HEAD], departments["city"])
    before = Event.objects.filter(case=case).count()
    calls = {
        "send_back": lambda: handling_actions.case_send_back(actor=second, case_id=case.pk, reason="不属于本部门职责"),
        "redispatch": lambda: handling_actions.case_redispatch(
            actor=clerk, case_id=case.pk, department_id=departments["traffic"].pk
        ),
        "sign_for": lambda: handling_actions.case_sign_for(actor=second, case_id=case.pk),
    }
    results = at_once(lambda: handling_actions.case_sign_for(actor=head, case_id=case.pk), calls[other])
    results = ["ok" if not isinstance(r, Exception) else r for r in results]
    assert results.count("ok") == 1, results
    [loser] = [r for r in results if r != "ok"]
    assert isinstance(loser, ApplicationError), repr(loser)
    case.refresh_from_db()
    assert Event.objects.filter(case=case).count() == before + 1
    signed = results[0] == "ok"
    expected = {
        "send_back": S.IN_PROGRESS if signed else S.ACCEPTED,
        "redispatch": S.IN_PROGRESS if signed else S.DISPATCHED,
        "sign_for": S.IN_PROGRESS,
    }[other]
    assert case.state == expected
    if other == "redispatch" and not signed:
        assert case.lead_department == departments["traffic"]
