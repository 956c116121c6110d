"""F34 daily review: the last days' repeat contacts and unresolved cases, repeats first,
with what changed since the clerk's last completed review."""

from __future__ import annotations

import dataclasses

import pytest

from huiyin.cases.services import case_answer_on_spot, case_close, contact_add
from huiyin.core.errors import PermissionDeniedError
from huiyin.policy.presets import load_preset
from huiyin.policy.services import policy_activate, presets_dir
from huiyin.supervision.models import DailyReview
from huiyin.supervision.selectors import daily_review_queue, review_rows
from huiyin.supervision.services import daily_review_complete
from tests.policy.conftest import activate

from .conftest import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 3, 5, 9)  # Thursday morning: the window starts on Monday 2 March


@pytest.fixture
def scene(org, drive, clerk, departments):
    activate(org, "city_hotline")
    old_repeat = drive.register(at(2026, 2, 20, 10), title="旧案重复来电")
    drive.call(
        at(2026, 3, 4, 15),
        contact_add,
        actor=clerk,
        case_id=old_repeat.pk,
        channel="phone",
        text="再次来电催办。",
    )
    new_repeat = drive.register(at(2026, 3, 3, 10), title="新案重复来电")
    drive.call(
        at(2026, 3, 3, 16),
        contact_add,
        actor=clerk,
        case_id=new_repeat.pk,
        channel="phone",
        text="第二次来电。",
    )
    new_open = drive.dispatched(at(2026, 3, 4, 11), departments["city"], title="新案在办")
    answered = drive.register(at(2026, 3, 2, 8), nature="consultation", title="已答复待回访")
    drive.call(
        at(2026, 3, 2, 8, 5),
        case_answer_on_spot,
        actor=clerk,
        case_id=answered.pk,
        reply="已当场答复。",
    )
    closed = drive.register(at(2026, 3, 4, 9), nature="consultation", title="已办结")
    drive.call(at(2026, 3, 4, 9, 5), case_answer_on_spot, actor=clerk, case_id=closed.pk, reply="已答复。")
    drive.call(at(2026, 3, 4, 9, 6), case_close, actor=clerk, case_id=closed.pk, satisfaction="satisfied")
    drive.register(at(2026, 3, 1, 23, 59), title="窗口之前")
    return {"old_repeat": old_repeat, "new_repeat": new_repeat, "new_open": new_open}


def queue_titles(actor, now=NOW):
    return [c.title for c in daily_review_queue(actor=actor, now=now).cases]


def test_repeats_first_then_unresolved(scene, clerk):
    assert queue_titles(clerk) == ["新案重复来电", "旧案重复来电", "新案在办", "已答复待回访"]
    queue = daily_review_queue(actor=clerk, now=NOW)
    assert (queue.lookback_days, queue.start) == (3, at(2026, 3, 2))
    assert queue.counts == {"total": 4, "repeats": 2, "unresolved": 4, "changed": 4}
    rows = review_rows(cases=list(queue.cases), since=queue.since)
    assert [r.repeat_contacts for r in rows] == [1, 1, 0, 0]


def test_lookback_comes_from_the_running_policy(org, scene, clerk):
    preset = load_preset(presets_dir() / "city_hotline.yaml")
    one_day = dataclasses.replace(preset, daily_review=dataclasses.replace(preset.daily_review, lookback_days=1))
    policy_activate(organization=org, preset=one_day, actor=None)
    assert queue_titles(clerk) == ["旧案重复来电", "新案在办"]


def test_changed_since_last_review(scene, drive, clerk):
    review = drive.call(
        at(2026, 3, 5, 9, 30),
        daily_review_complete,
        actor=clerk,
        note="已逐件查看",
        covered_until=at(2026, 3, 5, 9, 20),
    )
    assert (review.covered_until, review.reviewed_at) == (
        at(2026, 3, 5, 9, 20),
        at(2026, 3, 5, 9, 30),
    )
    assert review.counts["total"] == 4 and review.lookback_days == 3

    drive.call(
        at(2026, 3, 5, 9, 25),
        contact_add,
        actor=clerk,
        case_id=scene["new_open"].pk,
        channel="phone",
        text="又打来问进展。",
    )
    later = at(2026, 3, 5, 11)
    queue = daily_review_queue(actor=clerk, now=later)
    assert queue.since == at(2026, 3, 5, 9, 20)
    marked = {c.title: c.changed for c in queue.cases}
    assert marked == {
        "新案在办": True,
        "新案重复来电": False,
        "旧案重复来电": False,
        "已答复待回访": False,
    }
    assert queue.counts["changed"] == 1
    assert queue_titles(clerk, later)[0] == "新案在办"  # a repeat now: first
    rows = {r.case.title: r for r in review_rows(cases=list(queue.cases), since=queue.since)}
    assert rows["新案在办"].changes == ["新增来电/来访记录"]
    assert rows["新案重复来电"].changes == []


def test_each_reviewer_has_own_last_review(scene, drive, clerk, org):
    from tests.conftest import make_staff

    colleague = make_staff(org, "clerk2", ["intake_clerk"])
    drive.call(at(2026, 3, 5, 9, 30), daily_review_complete, actor=clerk)
    assert daily_review_queue(actor=colleague, now=NOW).counts["changed"] == 4
    assert daily_review_queue(actor=clerk, now=at(2026, 3, 5, 10)).counts["changed"] == 0


def test_covered_until_cannot_be_in_the_future(scene, drive, clerk):
    review = drive.call(at(2026, 3, 5, 9), daily_review_complete, actor=clerk, covered_until=at(2026, 3, 6))
    assert review.covered_until == at(2026, 3, 5, 9)


def test_handlers_do_not_review(scene, handler, drive):
    with pytest.raises(PermissionDeniedError):
        daily_review_queue(actor=handler, now=NOW)
    with pytest.raises(PermissionDeniedError):
        drive.call(NOW, daily_review_complete, actor=handler)
    assert not DailyReview.objects.exists()
