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

from huiyin.cases.categories import _ancestor_ids, category_terms, terms_of
from huiyin.cases.models import Category
from huiyin.cases.services import PartyInput, case_register
from huiyin.cases.validation import validate_intake
from huiyin.deadlines.models import Clock
from huiyin.notifications.models import Message
from huiyin.notifications.purposes import Medium, Purpose
from tests.conftest import intake
from tests.policy.conftest import activate

pytestmark = pytest.mark.django_db(transaction=True)

# The task queue's own rows (the database backend's; RQ, with Redis, writes none): what a
# registration costs the ledger is counted without them.
_TASK_ROW = 'INSERT INTO "django_tasks_database_'


def _own(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith(_TASK_ROW)]


_READ = re.compile(r'^SELECT .*? FROM "(\w+)"', re.S)
_INNER = re.compile(r"\([^()]*\)")


def _outer(statement: str) -> str:
    """The statement without its parenthesised parts (subqueries, IN lists, functions' arguments)."""
    while True:
        stripped = _INNER.sub("", statement)
        if stripped == statement:
            return statement
        statement = stripped


def _reads(statements: list[str]) -> Counter[str]:
    """Statements by the table they read (a subquery's table not counted as a statement)."""
    return Counter(m.group(1) for s in statements if (m := _READ.match(_outer(s))))


def _register_counted(clerk, category):
    # The first registration fills the process's caches (the preset parsed, the calendar).
    case_register(actor=clerk, data=intake(category_id=category.pk, party=PartyInput(name="李四", phone="13900000001")))
    with CaptureQueriesContext(connection) as captured:
        case, _code = case_register(actor=clerk, data=intake(category_id=category.pk))
    return case, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize(
    "preset, stages, total",
    [
        ("city_hotline", {"dispatch", "reply"}, 16),
        ("petition_office", {"acceptance"}, 15),
        ("hospital", set(), 14),  # its clocks start at acceptance
    ],
)
def test_a_registration_reads_the_policy_calendar_and_category_once(org, clerk, category, preset, stages, total):
    activate(org, preset)
    case, statements = _register_counted(clerk, category)
    reads = _reads(statements)
    # The running policy with the calendar's fingerprint, in one statement.
    assert reads["policy_policyversion"] == 1 and reads["policy_calendarday"] == 0, statements
    assert sum('"policy_calendarday"' in s for s in statements) == 1, statements
    # The chosen category with its ancestors joined (the rules' terms read them): once.
    assert reads["cases_category"] == 1, statements
    # Its receipt is a message of an event written a moment ago: inserted without asking
    # whether it was queued already and without a savepoint (and it is queued).
    assert reads["notifications_message"] == 0, statements
    assert not [s for s in statements if s.startswith("SAVEPOINT")], statements
    assert Message.objects.filter(case=case, purpose=Purpose.RECEIPT, medium=Medium.SMS).count() == 1
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
    # Every statement counts (18, 17 and 16 before the reads above were joined, the task
    # queue's rows not counted): one more fails here.
    assert len(_own(statements)) == total, "\n".join(statements)


TEXTS_NOBODY = 13


def test_an_organisation_that_texts_nobody_reads_no_switch_for_a_receipt(org, clerk, category):
    activate(org, "city_hotline")
    org.notify_complainants = clerk.organization.notify_complainants = False
    org.save(update_fields=["notify_complainants"])
    case, statements = _register_counted(clerk, category)
    assert _reads(statements)["notifications_channelswitch"] == 0, statements
    assert not Message.objects.filter(case=case).exists()
    assert len(_own(statements)) == TEXTS_NOBODY, "\n".join(statements)


def _chain(org, depth: int) -> list[Category]:
    """A branch ``depth`` categories deep, each tagged with its level."""
    nodes: list[Category] = []
    for level in range(depth):
        parent = nodes[-1] if nodes else None
        name = f"第{level}层"
        node = Category.objects.create(
            organization=org,
            parent=parent,
            name=name,
            full_name=f"{parent.full_name}/{name}" if parent else name,
            tags=f"level{level}",
        )
        node.path = f"{parent.path if parent else '/'}{node.pk}/"
        node.save()
        nodes.append(node)
    return nodes


@pytest.mark.parametrize("depth, reads", [(4, 0), (6, 1)])  # joined up to three ancestors; deeper reads the rest
def test_the_categorys_ancestors_come_with_it_or_are_read(org, depth, reads):
    leaf = _chain(org, depth)[-1]
    data = intake(category_id=leaf.pk, title="路灯不亮")
    category = validate_intake(data, organization_id=org.pk)
    with CaptureQueriesContext(connection) as captured:
        terms = category_terms(category)
    assert len(captured.captured_queries) == reads
    fresh = Category.objects.get(pk=leaf.pk)  # no ancestor joined: read as before
    assert terms == category_terms(fresh) == terms_of(fresh, Category.objects.filter(pk__in=_ancestor_ids(fresh)))
    assert {f"level{n}" for n in range(depth)} <= set(terms)
