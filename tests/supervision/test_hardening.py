"""Supervision under bad input (issue 13, holes 2, 10, 11): a feedback deadline years away,
a review "as of" before 2000, an over-long requirement and a notice that is not there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.core.errors import NotFound, ValidationFailed
from huiyin.supervision import services
from huiyin.supervision.models import DailyReview, SupervisionNotice

from .conftest import at

pytestmark = pytest.mark.django_db


def test_a_feedback_deadline_years_away_is_refused(drive, supervisor, departments):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"])
    with pytest.raises(ValidationFailed) as info:
        drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(9999, 12, 31, 23))
    assert info.value.errors["due_at"][0].startswith("反馈期限不能晚于 2031-")
    with pytest.raises(ValidationFailed) as info:
        drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 5), requirement="督" * 2001)
    assert info.value.errors == {"requirement": ["督办要求过长：最多 2000 字，当前 2001 字。"]}
    assert not SupervisionNotice.objects.exists()


def test_a_daily_review_as_of_before_2000_is_refused(drive, clerk):
    with pytest.raises(ValidationFailed) as info:
        drive.call(at(2026, 3, 5, 9), services.daily_review_complete, actor=clerk, covered_until=at(1, 1, 2))
    assert info.value.errors == {"as_of": ["复查截至时间不能早于 2000-01-01。"]}
    assert not DailyReview.objects.exists()


def test_a_notice_that_is_not_there_is_a_404(client, supervisor):
    with pytest.raises(NotFound):
        services.supervision_close(actor=supervisor, notice_id=999_999)
    client.force_login(supervisor)
    for view in ("supervision:answer", "supervision:close"):
        assert client.post(reverse(view, args=[999_999]), {"answer": "x", "note": "x"}).status_code == 404
