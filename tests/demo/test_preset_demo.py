"""What the demo shows under the presets other than the hotline: answers promised at
callbacks (the property preset: 回访中不能当即答复的，应告知预约时间答复) in every state, each
stamped when it happened; repeat calls recorded only while the matter is being handled; and
each preset's standard phrases of a call and knowledge entries of its own.

The promise tests read one property-management demo per module (``property_demo``), built in
a transaction rolled back after the module's last test, like ``test_history``'s hotline demo;
they are marked ``heavy`` together."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from huiyin.cases.models import Case, Event
from huiyin.cases.selectors import phone_script
from huiyin.deadlines.models import Clock
from huiyin.demo.generator import build_organization, generate_case_specs
from huiyin.demo.history import PROMISE_OVERDUE, REPEAT_WHILE, STUCK, populate
from huiyin.demo.knowledge import BY_PRESET, seed_knowledge
from huiyin.followup.models import AnswerStatus, CallbackAttempt, PromisedAnswer
from huiyin.knowledge.models import KnowledgeEntry
from huiyin.orgs.models import Organization
from huiyin.policy.presets import load_preset
from huiyin.policy.services import calendar_for, current_policy
from huiyin.policy.services.calendars import invalidate_calendars
from huiyin.policy.services.versions import presets_dir
from huiyin.surveys.models import ActivityOpinion
from tests.policy.conftest import activate

pytestmark = pytest.mark.one_engine  # step 1 only (SQLite): see pyproject.toml's markers

OWN_PHRASES = ("hospital", "construction_station", "company_front_office", "property_management", "petition_office")


@pytest.fixture(scope="module")
def property_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """`huiyin demo --preset property_management --cases 150 --days 63 --seed 3`, once per
    module and worker, rolled back after the module's last test."""
    data = tmp_path_factory.mktemp("property-demo")
    with (
        override_settings(MEDIA_ROOT=data / "media", DATA_DIR=data),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        invalidate_calendars()
        call_command("huiyin_demo", cases=150, days=63, seed=3, preset="property_management", stdout=StringIO())
        yield Organization.objects.get(code="demo")
        transaction.set_rollback(True)
    invalidate_calendars()


@pytest.mark.heavy
@pytest.mark.django_db
def test_the_property_demo_has_promised_answers_in_every_state_stamped_when_they_happened(property_demo):
    """Answered by the promised time, answered late, still to come and overdue now (by at most
    two working days): each made at its callback's reached call, timed by its clock, its
    answer recorded by the lead department before now."""
    now = timezone.now()
    calendar = calendar_for(organization_id=property_demo.pk, policy_version=current_policy(property_demo))
    promises = list(PromisedAnswer.objects.filter(case__organization=property_demo).select_related("callback"))
    kinds = {
        "on_time": [p for p in promises if p.status == AnswerStatus.ANSWERED and not p.late],
        "late": [p for p in promises if p.status == AnswerStatus.ANSWERED and p.late],
        "open": [p for p in promises if p.status == AnswerStatus.OPEN and p.answer_by > now],
        "overdue": [p for p in promises if p.status == AnswerStatus.OPEN and p.answer_by <= now],
    }
    assert {k: len(v) >= 1 for k, v in kinds.items()} == dict.fromkeys(kinds, True), kinds
    assert len(kinds["late"]) == len(kinds["open"]) == len(kinds["overdue"]) == 1
    (overdue,) = kinds["overdue"]
    lag = calendar.working_time_between(timezone.localtime(overdue.answer_by), timezone.localtime(now))
    assert lag <= PROMISE_OVERDUE  # overdue, not forgotten for weeks
    for p in promises:
        reached = CallbackAttempt.objects.filter(callback=p.callback, outcome="reached").get()
        assert p.created_at == reached.at < p.answer_by
        noted = Event.objects.filter(case=p.case, kind="note", data__promised_answer_id=p.pk).order_by("at")
        assert noted[0].at == p.created_at  # the case's history has it at the call
        clock = Clock.objects.get(subject_kind="callback_answer", subject_id=p.pk)
        if p.status == AnswerStatus.ANSWERED:
            assert p.created_at < p.answered_at < now and clock.state == "stopped"
            assert noted.last().at == p.answered_at
            assert p.answered_by.department_id == p.department_id == p.case.lead_department_id
        else:
            assert clock.state == "running" and (clock.overdue_at is not None) == (p is overdue)
    # Spread over the demo's weeks, not bunched in its first days.
    made = sorted(p.created_at for p in promises)
    assert made[-1] - made[0] > timedelta(days=28)


@pytest.mark.heavy
@pytest.mark.django_db
def test_the_demo_records_repeat_calls_only_while_the_matter_is_being_handled(property_demo):
    """A call urging a matter (仍未解决，要求加快办理) after it was answered or closed would
    contradict its history: every recorded repeat call falls while the case was open."""
    recorded = 0
    for event in Event.objects.filter(case__organization=property_demo, kind="contact_added").order_by("case", "at"):
        before = (
            Event.objects.filter(case_id=event.case_id, kind="state_changed", at__lte=event.at)
            .order_by("at", "id")
            .last()
        )
        state = before.data["to"] if before is not None else "registered"
        assert state in REPEAT_WHILE, (event.case.number, state, event.data["text"])
        recorded += 1
    assert recorded  # the demo still has repeat calls


@pytest.mark.heavy
@pytest.mark.django_db
def test_the_demo_leaves_only_its_few_long_overdue_cases_far_past_a_time_limit(property_demo):
    """Under the property preset's limits of days, a case left at its generated state for weeks
    would be weeks overdue on every desk: such a case went on (late), except the few
    (``STUCK``) long-overdue matters; no case (a visitor's at check-in, a call) sits
    undecided for days."""
    now = timezone.now()
    # Opinions raised at engagement activities are left as registered cases (not yet handled by the demo).
    opinions = ActivityOpinion.objects.filter(activity__organization=property_demo).values_list("case_id", flat=True)
    far = set(
        Clock.objects.filter(
            organization=property_demo, subject_kind="case", state="running", due_at__lt=now - timedelta(days=21)
        )
        .exclude(case_id__in=opinions)
        .values_list("case_id", flat=True)
    )
    assert len(far) <= STUCK, far
    assert (
        not Case.objects.filter(organization=property_demo, state="registered", received_at__lt=now - timedelta(days=3))
        .exclude(pk__in=opinions)
        .exists()
    )


@pytest.mark.parametrize("preset", OWN_PHRASES)
def test_each_preset_has_standard_phrases_that_validate_and_show_on_the_phone_form(preset, db, client):
    loaded = load_preset(presets_dir() / f"{preset}.yaml")  # validates (unique situations, types)
    rules = loaded.intake
    assert rules.phone_greeting and rules.phone_closing and len(rules.phone_phrases) >= 4
    assert "seeds/002" in rules.source  # the phrases say which seed lines they rest on
    demo = build_organization()
    activate(demo.org, preset)
    clerk = demo.staff["clerk"]
    script = phone_script(clerk)
    assert script is not None and demo.org.name in script.greeting and "{{" not in script.greeting
    client.force_login(clerk)
    form = client.get(reverse("cases:intake", args=["phone"])).content.decode()
    assert 'id="phone-phrases"' in form
    for situation, text in script.phrases:
        assert situation in form and text in form


@pytest.mark.parametrize("preset", ["hospital", "construction_station", "company_front_office"])
def test_each_preset_has_knowledge_entries_of_its_own_written_over_past_months(preset, db):
    """Not the hotline's entries: the preset's own, dated over past months, linked to the demo's
    categories they name."""
    demo = build_organization()
    activate(demo.org, preset)
    now = timezone.now()
    written = seed_knowledge(demo.org.pk, demo.staff["admin"], preset, now=now)
    entries = list(KnowledgeEntry.objects.filter(organization=demo.org))
    assert written == len(entries) >= 5
    titles = {e.title for e in entries}
    assert titles >= {e.title for e in BY_PRESET[preset]}
    assert not titles & {e.title for e in BY_PRESET["city_hotline"]}
    stamps = sorted(e.created_at for e in entries)
    assert stamps[-1] < now and stamps[-1] - stamps[0] > timedelta(days=60)
    named = {name for e in BY_PRESET[preset] for name in e.categories}
    linked = {c.full_name for e in entries for c in e.categories.all()}
    assert named == linked  # every category an entry names is one of the demo's
    assert seed_knowledge(demo.org.pk, demo.staff["admin"], preset, now=now) == 0  # once


@pytest.mark.parametrize("preset", ["company_front_office", "petition_office"])
def test_a_caller_who_comes_back_in_person_is_registered_as_the_visit_register_asks(preset, db):
    """The generator reuses an earlier caller's details for a later matter, now and then on a
    visit: registered with the work unit and age the preset's visit register asks for
    (``intake.visit_fields``), not refused (which stopped `huiyin demo --preset
    company_front_office`)."""
    demo = build_organization()
    activate(demo.org, preset)
    end = timezone.now()
    specs = [
        s
        for s in generate_case_specs(400, seed=0, start=end - timedelta(days=90), end=end)
        if s.channel == "visit" and s.party.name and not s.party.affiliation
    ]
    assert specs  # such a visit is among the default demo's
    assert populate(demo, specs[:2], now=end) == len(specs[:2])
    assert {c.party.affiliation for c in Case.objects.filter(organization=demo.org)} == {"无"}
