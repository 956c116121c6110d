"""What a registration costs in SQL statements. The core used to read the policy version
three times, the calendar's fingerprint twice, the category four times, and to ask a case
registered a moment ago whether it already had clocks, a suspension or events; at 250
registrations a second every round trip counts (docs/benchmarks.md, the REST API). These
tests fail when a repeated read comes back."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huiyin.cases.services import PartyInput, case_register
from huiyin.deadlines.models import Clock
from tests.conftest import intake
from tests.policy.conftest import activate

pytestmark = pytest.mark.django_db(transaction=True)

_READ = re.compile(r'^SELECT .*? FROM "(\w+)"', re.S)


def _reads(statements: list[str]) -> Counter[str]:
    return Counter(m.group(1) for s in statements if (m := _READ.match(s)))


def _register_counted(clerk, category):
    # The first registration fills the process's caches (the preset parsed, the calendar).
    case_register(actor=clerk, data=intake(category_id=category.pk, party=PartyInput(name="李四", phone="13900000001")))
    with CaptureQueriesContext(connection) as captured:
        case, _code = case_register(actor=clerk, data=intake(category_id=category.pk))
    return case, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize(
    "preset, stages",
    [
        ("city_hotline", {"dispatch", "reply"}),
        ("petition_office", {"acceptance"}),
        ("hospital", set()),  # its clocks start at acceptance
    ],
)
def test_a_registration_reads_the_policy_calendar_and_category_once(org, clerk, category, preset, stages):
    activate(org, preset)
    case, statements = _register_counted(clerk, category)
    reads = _reads(statements)
    assert reads["policy_policyversion"] == 1, statements
    assert reads["policy_calendarday"] == 1, statements  # the calendar's fingerprint
    # The chosen category (validation) and its ancestors (the rules' terms), once each.
    assert reads["cases_category"] == 2, statements
    # A case inserted in this transaction has no clock, suspension or event to look up.
    assert reads["policy_clock"] == 0 and reads["policy_suspension"] == 0 and reads["cases_event"] == 0, statements
    assert not [s for s in statements if s.startswith('UPDATE "cases_case"')], "the case is written in one INSERT"
    # What those reads fed is still right: the clocks run and the receipt promises the
    # overall clock's (else the reply clock's) due time.
    clocks = {c.stage: c for c in Clock.objects.filter(case=case)}
    assert set(clocks) == stages
    promised = clocks.get("overall") or clocks.get("reply")
    if promised is not None:
        case.refresh_from_db()
        assert case.promised_due_at == promised.due_at
    assert len(statements) <= 24, "\n".join(statements)
