"""What the demo shows under the presets other than the hotline: each preset's standard
phrases of a call and knowledge entries of its own, and a caller who comes back in person
registered as the visit register asks. (What a whole property demo tells is read in
``test_property_demo``.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from huiyin.cases.models import Case
from huiyin.cases.selectors import phone_script
from huiyin.demo.generator import build_organization, generate_case_specs
from huiyin.demo.history import populate
from huiyin.demo.knowledge import BY_PRESET, seed_knowledge
from huiyin.knowledge.models import KnowledgeEntry
from huiyin.policy.presets import load_preset
from huiyin.policy.services.versions import presets_dir
from tests.policy.conftest import activate

pytestmark = pytest.mark.one_engine  # step 1 only (SQLite): see pyproject.toml's markers

OWN_PHRASES = ("hospital", "construction_station", "company_front_office", "property_management", "petition_office")


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
