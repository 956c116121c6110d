"""The demo's history is dated day by day: services take the moment a step happened
(``at``) where history is recreated, and the demo's stories use it.

The tests that only read what `huiyin demo` built (its history, reminders, supervision
notices, clocks and on-time rates under the hotline preset) share one demo per module
and worker (``hotline_demo``), committed as the command commits it (what runs after a
commit runs, as in `huiyin demo`), the database emptied after the last of them; each test
runs in a transaction of its own, rolled back, so what one test writes the next never sees. They
are marked ``heavy`` together: the suite sorts heavy tests first, and the module's tests
must stay next to each other for the demo to be built once. Every test here reads that demo:
a test that needs an empty database belongs in another module (while the module runs, the
demo is there)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from io import StringIO
from itertools import groupby
from operator import itemgetter

import pytest
from django.core.management import call_command
from django.db.models import F, Max, Min
from django.test import override_settings
from django.utils import timezone

from huiyin.cases.models import Case, CaseRound, Contact, Event
from huiyin.cases.workflow import CaseState
from huiyin.core.models import Notification
from huiyin.deadlines.models import Clock
from huiyin.evaluation.selectors import evaluation
from huiyin.followup.models import Callback, PromisedAnswer
from huiyin.orgs.models import Organization
from huiyin.policy.services import calendar_for, current_policy
from huiyin.policy.services.calendars import invalidate_calendars

pytestmark = pytest.mark.one_engine  # step 1 only (SQLite): see pyproject.toml's markers

DEPARTMENT_STEPS = ("sign_for", "send_back", "submit_for_approval", "approve", "reply")


def _month_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


DEMO_CASES = 150  # `huiyin demo --cases 150 --days 63 --seed 3`, under its default preset (city_hotline)


@pytest.fixture(scope="module")
def hotline_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo organisation as `huiyin demo` builds it, once per module and worker; the
    database emptied after the module's last test (as a transactional test leaves it).
    Its files and outbox in a directory of its own."""
    data = tmp_path_factory.mktemp("hotline-demo")
    with override_settings(MEDIA_ROOT=data / "media", DATA_DIR=data), django_db_blocker.unblock():
        invalidate_calendars()
        try:
            call_command("huiyin_demo", cases=DEMO_CASES, days=63, seed=3, stdout=StringIO())
            yield Organization.objects.get(code="demo")
        finally:
            call_command("flush", interactive=False, verbosity=0)
    invalidate_calendars()


def generated(org):
    """The demo's generated cases: not those its reception registered at a visitor's check-in."""
    return Case.objects.filter(organization=org).exclude(intake_token__startswith="appointment-")


@pytest.mark.heavy
@pytest.mark.django_db
def test_demo_history_is_spread_over_weeks_runs_forward_and_keeps_office_hours(hotline_demo):
    """A demo load dates every case's story when it happened: events over more than six
    weeks, no case whose events go backwards, none later than now, registration after
    receipt; the departments' steps in office hours on workdays; warnings and overdue
    steps where limits were missed, some cases still open; each month's figures count
    that month's work; the audit chain still verifies."""
    now = timezone.now()
    org = Organization.objects.get(code="demo")
    events = Event.objects.filter(case__organization=org)

    span = events.aggregate(first=Min("at"), last=Max("at"))
    assert span["last"] - span["first"] >= timedelta(weeks=6)
    assert span["last"] <= now
    by_day = Counter(timezone.localtime(at).date() for at in events.values_list("at", flat=True))
    assert len(by_day) >= 40  # day by day, not all at load time

    backwards = []
    rows = events.order_by("case_id", "id").values_list("case_id", "at")
    for case_id, chain in groupby(rows, key=itemgetter(0)):
        times = [at for _case, at in chain]
        if times != sorted(times):
            backwards.append(case_id)
    assert backwards == []

    cases = Case.objects.filter(organization=org)
    assert not cases.filter(registered_at__lt=F("received_at")).exists()
    assert not cases.filter(registered_at__gt=now).exists()
    assert not Contact.objects.filter(case__organization=org, occurred_at__gt=now).exists()
    assert not CaseRound.objects.filter(case__organization=org, replied_at__gt=now).exists()
    registered = dict(events.filter(kind="registered").values_list("case_id", "at"))
    assert all(registered[c.pk] == c.registered_at for c in cases)

    calendar = calendar_for(organization_id=org.pk, policy_version=current_policy(org))
    steps = events.filter(kind="state_changed", data__action__in=DEPARTMENT_STEPS)
    assert steps.count() > 100
    for at in steps.values_list("at", flat=True):
        local = timezone.localtime(at)
        assert calendar.is_workday(local.date()), local
        assert time(9) <= local.time() <= time(18), local

    states = Counter(cases.values_list("state", flat=True))
    assert states[CaseState.CLOSED] and states[CaseState.ARCHIVED]
    assert states[CaseState.IN_PROGRESS] + states[CaseState.DISPATCHED] + states[CaseState.REPLIED] > 0
    assert events.filter(kind="deadline_warning").exists()
    assert events.filter(kind="deadline_overdue").exists()
    # The callback desk called back on the day it did, before the case closed.
    done = Callback.objects.filter(case__organization=org, status="done")
    assert done.count() > 30
    assert len({timezone.localtime(at).date() for at in done.values_list("done_at", flat=True)}) > 20

    this_month = _month_start(now)
    last_month = _month_start(this_month - timedelta(days=1))
    this = evaluation(org.pk, this_month, now + timedelta(seconds=1), "department")
    last = evaluation(org.pk, last_month, this_month, "department")
    handled_last = {row.unit_id: row.handled for row in last.rows}
    handled_this = {row.unit_id: row.handled for row in this.rows}
    assert sum(handled_last.values()) > 0
    assert handled_last != handled_this
    # A month counts only the rounds answered in it.
    answered_last = CaseRound.objects.filter(
        case__organization=org, replied_at__gte=last_month, replied_at__lt=this_month, lead_department__isnull=False
    ).count()
    assert sum(handled_last.values()) >= answered_last > 0

    call_command("huiyin_audit", "anchor", "--lag", "0", stdout=StringIO())
    call_command("huiyin_audit", "verify", stdout=StringIO())  # CommandError on a broken chain


@pytest.mark.heavy
@pytest.mark.django_db
def test_demo_desk_reminders_are_dated_and_only_for_live_work(hotline_demo):
    """Reminders carry the moment of what they remind of, and the finished cases' are done."""
    org = hotline_demo
    reminders = Notification.objects.filter(case__organization=org)
    assert reminders.exists()
    assert reminders.aggregate(m=Max("created_at"))["m"] - reminders.aggregate(m=Min("created_at"))["m"] > timedelta(
        days=14
    )
    finished = ("closed", "archived", "not_accepted", "returned", "transferred")
    # An answer promised at the callback outlives the closing: its reminders (the promise, its
    # clock's warning, overdue and escalation notices) stay until it is given.
    promise_clocks = Clock.objects.filter(subject_kind="callback_answer", state="running").values_list("pk", flat=True)
    live = tuple(f"clock:{pk}:" for pk in promise_clocks)
    left = reminders.filter(done_at__isnull=True, case__state__in=finished).exclude(
        kind__in=("callback-task", "callback-question")
    )
    assert [n.key for n in left if not n.key.startswith(live)] == []
    for row in reminders.filter(kind="callback-question"):
        promise = PromisedAnswer.objects.get(pk=int(row.key.rsplit(":", 1)[1]))
        assert (row.done_at is None) == (promise.answered_at is None), row.key
    dispatched = reminders.filter(kind="dispatched")
    for row in dispatched.select_related("case")[:50]:
        dispatch_at = (
            Event.objects.filter(case=row.case, data__action="dispatch").order_by("id").values_list("at", flat=True)
        )
        assert row.created_at in list(dispatch_at)


@pytest.mark.heavy
@pytest.mark.django_db
def test_demo_runs_under_the_hotline_preset_with_live_clocks(hotline_demo):
    from huiyin.deadlines.models import Clock

    org = hotline_demo
    policy = current_policy(org)
    assert policy is not None and policy.preset_name == "city_hotline"
    assert generated(org).count() == DEMO_CASES
    assert not generated(org).filter(policy_version="").exists()
    # Phone cases get the preset's 3-minute dispatch clock: stopped once dispatched, running while waiting.
    phone_cases = Case.objects.filter(organization=org, channel="phone").exclude(
        state__in=["registered", "not_accepted", "returned", "transferred"]
    )
    dispatched = phone_cases.filter(events__data__action="dispatch").distinct()
    assert dispatched.exists()
    for case in dispatched:
        assert Clock.objects.filter(case=case, stage="dispatch").exists()
    for case in phone_cases.filter(state="accepted"):
        assert Clock.objects.filter(case=case, stage="dispatch", state="running").exists()


@pytest.mark.heavy
@pytest.mark.django_db
def test_the_hotline_demo_has_on_time_rates_with_a_sample(hotline_demo):
    """The 12345 answer limits time every answered round: the evaluation's on-time rate of the
    hotline demo is a figure, not —(0/0)."""
    from huiyin.evaluation.selectors import BY_DEPARTMENT

    org = hotline_demo
    now = timezone.now()
    table = evaluation(org.pk, now - timedelta(days=400), now + timedelta(days=1), BY_DEPARTMENT, now=now)
    assert table.stage == "reply"
    assert sum(row.on_time.denominator for row in table.rows) > 0


@pytest.mark.heavy
@pytest.mark.django_db
def test_demo_puts_some_cases_under_supervision(hotline_demo):
    from huiyin.supervision.models import SupervisionNotice

    notices = SupervisionNotice.objects.filter(case__organization=hotline_demo)
    in_progress = Case.objects.filter(organization=hotline_demo, state="in_progress").count()
    assert notices.count() == min(3, in_progress)
    assert all(n.case.state == "in_progress" for n in notices)
    # Issued over the last weeks, while each case was being handled, not all at the load.
    now = timezone.now()
    issued = sorted(n.created_at for n in notices)
    assert len({timezone.localdate(moment) for moment in issued}) == len(issued)
    assert issued[0] < now - timedelta(days=2) and issued[-1] < now
    for n in notices:
        assert n.case.received_at < n.created_at < n.due_at and n.due_at > now
        event = Event.objects.get(case=n.case, kind="supervision_issued")
        assert event.at == n.created_at


@pytest.mark.heavy
@pytest.mark.django_db
def test_the_demo_callback_desk_called_back_within_the_limit(hotline_demo):
    """A working centre calls back within its preset's limit: the callback queue holds the
    cases answered in the last days, and none past the limit without an attempt (the few
    complainants it could not reach have their attempts recorded)."""
    now = timezone.now()
    queue = Callback.objects.filter(case__organization=hotline_demo, status="due", case__state="replied")
    assert queue.exists()
    late = queue.filter(due_at__lt=now, attempts=0)
    assert list(late.values_list("case__number", "due_at")) == []
    answered = CaseRound.objects.filter(case__in=queue.values("case"), replied_at__isnull=False)
    assert answered.aggregate(m=Min("replied_at"))["m"] > now - timedelta(days=14)
    # ...and those it could not reach (a few of the recent ones, if any), each after its attempts.
    unreachable = Callback.objects.filter(case__organization=hotline_demo, status="unreachable")
    assert all(c.attempts >= 1 for c in unreachable)


@pytest.mark.heavy
@pytest.mark.django_db
def test_the_demo_numbers_each_days_cases_in_the_order_they_were_registered(hotline_demo):
    """Case numbers run per day in time order: a visitor's case (registered at check-in, the
    reception's) takes its place among the day's calls, not after them."""
    rows = Case.objects.filter(organization=hotline_demo).order_by("number").values_list("number", "registered_at")
    visits = generated(hotline_demo).count() < Case.objects.filter(organization=hotline_demo).count()
    assert visits  # the reception registered some
    for day, numbered in groupby(rows, key=lambda r: r[0].split("-")[0]):
        moments = [at for _number, at in numbered]
        assert moments == sorted(moments), day


@pytest.mark.heavy
@pytest.mark.django_db
def test_the_demo_has_last_months_analysis_report(hotline_demo):
    """The reports page a new user opens is not empty: last month's report, asked for by the
    analyst and generated from the demo's own history."""
    from huiyin.reports.models import Report

    (report,) = Report.objects.filter(organization=hotline_demo)
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    assert (report.kind, report.status, report.start, report.end) == (
        "month",
        "done",
        last_month.replace(day=1),
        last_month,
    )
    assert report.requested_by.username == "analyst" and report.data
