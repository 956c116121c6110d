"""Status tables: every record with a status moves only along its table's edges."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import models

import huiyin
from huiyin.core.errors import InvalidStatus
from huiyin.core.states import StatusTable
from huiyin.deadlines.models import CLOCK_STATES, EXTENSION_STATUSES
from huiyin.followup.errors import CallbackDone
from huiyin.followup.models import CALLBACK_STATUSES, TASK_STATUSES, Callback, CallbackStatus
from huiyin.handling.models import DISPATCH_STATUSES, DOCUMENT_STATUSES, PROPOSAL_STATUSES
from huiyin.supervision.models import NOTICE_STATES
from huiyin.surveys.models import CAMPAIGN_STATUSES, ITEM_STATUSES

SRC = Path(huiyin.__file__).parent
TABLES = [
    NOTICE_STATES,
    CALLBACK_STATUSES,
    TASK_STATUSES,
    CAMPAIGN_STATUSES,
    ITEM_STATUSES,
    DISPATCH_STATUSES,
    PROPOSAL_STATUSES,
    DOCUMENT_STATUSES,
    EXTENSION_STATUSES,
    CLOCK_STATES,
]


class Colour(models.TextChoices):
    RED = "red", "红"
    GREEN = "green", "绿"


def test_a_table_refuses_statuses_its_choices_do_not_have():
    with pytest.raises(ValueError, match="blue"):
        StatusTable(Colour, {Colour.RED: {"blue"}})


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.choices.__name__)
def test_every_status_is_in_its_table(table):
    """A status missing from the table could be neither reached nor left."""
    targets = {d for dsts in table.edges.values() for d in dsts}
    assert set(table.choices.values) <= targets | set(table.edges)
    assert len(set(table.edges) - targets) <= 1  # at most one status records start in and never return to


def test_a_move_not_in_the_table_is_refused_with_both_statuses_named():
    row = Callback(status=CallbackStatus.DONE)
    with pytest.raises(CallbackDone) as refused:
        CALLBACK_STATUSES.move(row, CallbackStatus.UNREACHABLE)
    assert isinstance(refused.value, InvalidStatus)
    assert "已回访" in refused.value.message and "联系不上" in refused.value.message
    assert row.status == CallbackStatus.DONE
    CALLBACK_STATUSES.move(row2 := Callback(status=CallbackStatus.DUE), CallbackStatus.UNREACHABLE)
    assert row2.status == CallbackStatus.UNREACHABLE


def test_no_code_assigns_a_status_field_directly():
    """Statuses move through their table (``TABLE.move``); the case through its workflow edge."""
    allowed = {
        ("cases/services.py", "state"),  # the case's own state machine (cases.workflow)
        ("ops/taskqueue.py", "status"),  # the task library's rows (django_tasks_db), re-queued by the reaper
    }
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = str(path.relative_to(SRC))
        if "/migrations/" in rel or rel == "core/states.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                elements = target.elts if isinstance(target, ast.Tuple) else [target]
                for el in elements:
                    if (
                        isinstance(el, ast.Attribute)
                        and el.attr in {"status", "state"}
                        and (rel, el.attr) not in allowed
                    ):
                        offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
