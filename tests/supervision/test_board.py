"""The supervision board: supervised, warned and overdue cases, by department and status,
nearest deadline first, scoped to what the viewer may see."""

from __future__ import annotations

import pytest

from huiyin.core.errors import PermissionDeniedError
from huiyin.supervision.selectors import BoardFilters, board, board_rows
from tests.policy.conftest import activate

from .conftest import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 3, 2, 12, 30)


@pytest.fixture
def scene(org, drive, supervisor, departments, handler, other_handler):
    """At 12:30 on Monday 2 March 2026 (city hotline preset):
    supervised — dispatched to city (交办时限 Friday), a notice to city due Wednesday;
    warned — dispatched to traffic at 09:00 with a 13:00 time limit, warned at 12:00;
    overdue — dispatched to housing with an 11:00 time limit;
    quiet — dispatched to city, due next week: not on the board."""
    activate(org, "city_hotline")
    nine = at(2026, 3, 2, 9)
    supervised = drive.dispatched(
        nine, departments["city"], handler=handler, due_at=at(2026, 3, 6, 17), title="路灯不亮"
    )
    warned = drive.dispatched(
        nine,
        departments["traffic"],
        handler=other_handler,
        due_at=at(2026, 3, 2, 13),
        title="占道经营",
    )
    overdue = drive.dispatched(nine, departments["housing"], due_at=at(2026, 3, 2, 11), title="噪音扰民")
    quiet = drive.dispatched(nine, departments["city"], due_at=at(2026, 3, 9, 17), title="井盖松动")
    notice = drive.issue(at(2026, 3, 2, 10), supervisor, supervised, departments["city"], at(2026, 3, 4, 17))
    drive.sweep_clocks(NOW)
    return {
        "supervised": supervised,
        "warned": warned,
        "overdue": overdue,
        "quiet": quiet,
        "notice": notice,
    }


def titles(actor, **filters):
    return [c.title for c in board(actor=actor, filters=BoardFilters(**filters), now=NOW)]


def test_board_lists_supervised_warned_and_overdue_nearest_first(scene, supervisor):
    assert titles(supervisor) == ["噪音扰民", "占道经营", "路灯不亮"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("supervised", ["路灯不亮"]),
        ("warned", ["占道经营"]),
        ("overdue", ["噪音扰民"]),
    ],
)
def test_board_filters_by_status(scene, supervisor, status, expected):
    assert titles(supervisor, status=status) == expected


def test_board_filters_by_department(scene, supervisor, departments, drive):
    assert titles(supervisor, department_id=departments["city"].pk) == ["路灯不亮"]
    assert titles(supervisor, department_id=departments["traffic"].pk) == ["占道经营"]
    assert titles(supervisor, department_id=departments["traffic"].pk, status="overdue") == []
    # A notice to traffic about the housing case puts it on traffic's board too.
    drive.issue(at(2026, 3, 2, 12), supervisor, scene["overdue"], departments["traffic"], at(2026, 3, 3, 12))
    assert titles(supervisor, department_id=departments["traffic"].pk) == ["噪音扰民", "占道经营"]


def test_rows_show_time_left_stage_and_notice(scene, supervisor):
    rows = {
        r.case.title: r
        for r in board_rows(cases=list(board(actor=supervisor, filters=BoardFilters(), now=NOW)), now=NOW)
    }
    over, warned, supervised = rows["噪音扰民"], rows["占道经营"], rows["路灯不亮"]
    assert over.statuses == ["overdue"] and over.time_left.total_seconds() == -90 * 60
    assert warned.statuses == ["warned"] and warned.time_left.total_seconds() == 30 * 60
    assert warned.clock.label == "交办时限"
    assert supervised.statuses == ["supervised"]
    assert [n.number for n in supervised.notices] == [scene["notice"].number]
    # the department signs for it within 1 working day (the 12345 limit): before the notice's Wednesday
    assert supervised.clock.stage == "sign_for" and supervised.due_at < at(2026, 3, 4, 17)


def test_department_head_sees_own_department_only(scene, head, traffic_head, supervisor, drive, departments):
    assert titles(head) == ["路灯不亮"]
    assert titles(traffic_head) == ["占道经营"]
    assert titles(traffic_head, department_id=departments["city"].pk) == []  # cannot widen the scope
    drive.issue(at(2026, 3, 2, 12), supervisor, scene["overdue"], departments["city"], at(2026, 3, 3, 12))
    assert titles(head) == ["噪音扰民", "路灯不亮"]


def test_analyst_and_leader_see_the_board_handlers_and_clerks_do_not(scene, analyst, leader, handler, clerk):
    assert titles(analyst) == titles(leader) == ["噪音扰民", "占道经营", "路灯不亮"]
    for person in (handler, clerk):
        with pytest.raises(PermissionDeniedError):
            board(actor=person, filters=BoardFilters(), now=NOW)


def test_closed_notice_leaves_the_board(scene, supervisor, drive):
    from huiyin.supervision.services import supervision_close

    drive.call(at(2026, 3, 2, 12), supervision_close, actor=supervisor, notice_id=scene["notice"].pk)
    assert titles(supervisor, status="supervised") == []


def test_a_notices_clock_is_not_shown_as_the_cases_deadline(org, drive, supervisor, departments, handler):
    """Without a preset a case has no clock of its own: its notice's clock (the deadline
    engine times the notice) must not stand in for one."""
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler, title="无预设")
    drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 2, 12))
    (row,) = board_rows(cases=[case], now=NOW)
    assert row.clock is None and row.due_at == at(2026, 3, 2, 12)
    (listed,) = board(actor=supervisor, filters=BoardFilters(), now=NOW)
    assert listed.deadline == at(2026, 3, 2, 12)
