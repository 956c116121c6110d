"""The case page's statements do not grow with the office: the handling panel's assignment
form lists the department's staff read once with their departments (it once read each
helper's department on its own, one statement per person), and the panel's lists of
handling records are probed in one statement instead of one read each."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huiyin.cases import services as cs
from huiyin.handling import actions as handling_actions
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def _statements(client, case) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_case_page_reads_the_staff_once_however_many_there_are(client, org, register, clerk, head, handler):
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=handler.department_id)
    handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    client.force_login(head)

    before, page = _statements(client, case)
    assert 'id="assign-form"' in page and f'<option value="{handler.pk}"' in page
    added = [make_staff(org, f"city{i}", [Role.HANDLER], handler.department) for i in range(8)]
    after, page = _statements(client, case)
    assert f'<option value="{added[-1].pk}"' in page  # the new staff are offered
    assert after == before, f"{after - before} more statements for 8 more staff"
    # The page as a whole: the handling records that do not exist (investigations, proposals,
    # rectifications, reviews, joint handling, requests to a higher authority) cost nothing.
    assert before <= 40, before
