"""The demo organisation, the case spec generator and populating through the services."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from huiyin.cases.models import Case, Category, Channel, Contact, Nature
from huiyin.cases.selectors import verify_event_chain
from huiyin.cases.workflow import CaseState, stages_with_defaults
from huiyin.core.validators import id_number_error, phone_error
from huiyin.demo import texts
from huiyin.demo.generator import (
    DEMO_PASSWORD,
    build_organization,
    generate_case_specs,
)
from huiyin.demo.history import populate
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Role
from tests.demo.test_history import generated

SH = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 3, 31, 17, 30, tzinfo=SH)
START = END - timedelta(days=120)


@pytest.fixture(scope="module")
def specs():
    return list(generate_case_specs(3000, seed=7, start=START, end=END))


# --- organisation --------------------------------------------------------------------


@pytest.mark.django_db
def test_organization_has_departments_roles_and_categories():
    demo = build_organization()
    org = demo.org
    assert org.hotline == "12345"
    assert 8 <= Department.objects.filter(organization=org).count() <= 13
    assert Department.objects.filter(organization=org, parent__isnull=False).exists()  # a tree
    assert not demo.departments["intake"].handles_cases
    roles = {r for s in Staff.objects.filter(organization=org) for r in s.roles}
    assert roles == set(Role.values)
    admin = Staff.objects.get(username="admin")
    # the organisation's administrator works in the product, not in Django's /admin/
    assert Role.ADMIN in admin.roles and not admin.is_staff and not admin.is_superuser
    assert Staff.objects.get(username="clerk").check_password(DEMO_PASSWORD)
    # every handling department has a head and someone to handle its cases
    for code, dept in demo.departments.items():
        if dept.handles_cases:
            members = Staff.objects.filter(department=dept)
            assert any(Role.DEPT_HEAD in s.roles for s in members), code
            assert any(Role.HANDLER in s.roles for s in members), code

    leaves = demo.categories
    assert 35 <= len(leaves) <= 50
    for name, leaf in leaves.items():
        assert leaf.full_name == name and not leaf.children.exists()
        assert 2 <= name.count("/") + 1 <= 3
        ids = [int(i) for i in leaf.path.strip("/").split("/")]
        assert ids[-1] == leaf.pk and len(ids) == name.count("/") + 1
        assert Category.objects.get(pk=ids[0]).parent is None
        assert demo.routing[name].handles_cases
    assert {
        "城乡建设",
        "环境保护",
        "交通运输",
        "劳动和社会保障",
        "教育文体",
        "卫生计生",
        "商贸旅游",
        "市政设施",
        "城管执法",
    } <= {n.split("/")[0] for n in leaves}


@pytest.mark.django_db
def test_build_organization_is_idempotent():
    first = build_organization()
    counts = (Department.objects.count(), Staff.objects.count(), Category.objects.count())
    second = build_organization()
    assert (Department.objects.count(), Staff.objects.count(), Category.objects.count()) == counts
    assert first.org.pk == second.org.pk and Organization.objects.filter(code="demo").count() == 1
    assert {k: c.pk for k, c in first.categories.items()} == {k: c.pk for k, c in second.categories.items()}


# --- specs (pure) --------------------------------------------------------------------------


def test_specs_are_deterministic_per_seed():
    a = list(generate_case_specs(300, seed=1, start=START, end=END))
    b = list(generate_case_specs(300, seed=1, start=START, end=END))
    c = list(generate_case_specs(300, seed=2, start=START, end=END))
    assert a == b
    assert [s.text for s in a] != [s.text for s in c]
    assert list(generate_case_specs(50, seed=1, start=START, end=END)) == a[:50]  # prefix-stable


def test_specs_cover_channels_natures_and_states(specs):
    assert {s.channel for s in specs} == set(Channel.values)
    assert {s.nature for s in specs} == set(Nature.values)
    assert {s.urgency for s in specs} == {"normal", "urgent", "major"}
    states = Counter(s.target_state for s in specs)
    assert set(states) >= {
        "registered",
        "dispatched",
        "in_progress",
        "pending_approval",
        "replied",
        "closed",
        "archived",
        "not_accepted",
        "returned",
        "transferred",
    }
    channels = Counter(s.channel for s in specs)
    assert 0.5 < channels["phone"] / len(specs) < 0.7
    assert Counter(s.nature for s in specs).most_common(1)[0][0] == "complaint"
    # consultations are often answered on the spot
    consult = [s for s in specs if s.nature == "consultation"]
    assert sum(s.decision == "answer_on_spot" for s in consult) > len(consult) / 3
    # older cases mostly done, recent ones mostly open
    old = [s for s in specs if END - s.received_at > timedelta(days=60)]
    recent = [s for s in specs if END - s.received_at < timedelta(days=3)]
    assert sum(s.target_state in ("closed", "archived") for s in old) > 0.8 * len(old)
    assert sum(
        s.target_state in ("registered", "accepted", "dispatched", "in_progress", "pending_approval") for s in recent
    ) > 0.5 * len(recent)
    assert any(s.reopened for s in specs) and any(s.misrouted_to for s in specs)
    assert {len(s.repeat_contacts) for s in specs} == {0, 1, 2, 3}


def test_spec_fields_are_valid(specs):
    categories = {leaf.path for leaf in texts.LEAVES}
    for s in specs:
        assert START <= s.received_at <= END
        assert 50 <= len(s.text) <= 300, s.text
        assert 0 < len(s.title) <= 60
        assert s.category in categories
        assert phone_error(s.party.phone) is None, s.party.phone
        assert id_number_error(s.party.id_number) is None, s.party.id_number
        assert s.party.anonymous or s.party.name or s.party.phone
        for rep in s.representatives:
            assert phone_error(rep.phone) is None and id_number_error(rep.id_number) is None
        if s.channel == "forwarded":
            assert s.forwarded_by and s.forwarded_ref.endswith("号") and "〔" in s.forwarded_ref
        if s.group_size > 1:
            assert s.channel == "visit"
        for c in s.repeat_contacts:
            # before END: a call not yet made is not in the history (held at END, all such
            # calls would ring together at the moment the demo was loaded)
            assert s.received_at <= c.occurred_at < END and c.text
        if s.target_state in ("closed", "archived") and s.decision in ("accept", "answer_on_spot"):
            assert s.satisfaction in ("satisfied", "basically_satisfied")
    parties = [s.party for s in specs]
    assert any(p.id_number for p in parties)
    assert any(p.anonymous for p in parties)
    assert any(p.phone.startswith("0571-") for p in parties)
    assert any(s.group_size > 1 for s in specs)
    assert len({s.text for s in specs}) > 0.9 * len(specs)  # texts differ


def test_received_at_leans_to_working_hours(specs):
    hours = Counter(s.received_at.hour for s in specs)
    working = sum(hours[h] for h in range(8, 18))
    assert working > 0.6 * len(specs)
    assert hours[3] < hours[10]


def test_texts_contain_common_two_character_words(specs):
    corpus = "\n".join(s.title + s.text for s in specs)
    for word in texts.COMMON_WORDS:
        assert word in corpus, word
    for word in ("漏水", "噪音", "停车", "欠薪", "油烟", "路灯"):
        assert sum(word in s.text for s in specs) >= 5, word


def test_safety_words_raise_urgency(specs):
    gas = [s for s in specs if "燃气管道泄漏" in s.text]
    assert gas
    assert sum(s.urgency != "normal" for s in gas) >= 0.8 * len(gas)


# --- populate through the services --------------------------------------------------------


LIFECYCLE_ORDER = (
    "registered",
    "accepted",
    "dispatched",
    "in_progress",
    "pending_approval",
    "replied",
    "closed",
    "archived",
)


def _path_to(spec) -> tuple[str, ...]:
    """The states a spec's case passes on the way to its target, in order."""
    if spec.decision in ("not_accept", "return", "transfer"):
        return ("registered", spec.target_state) if spec.target_state != "archived" else ("registered", "archived")
    if spec.decision == "answer_on_spot":
        return ("registered", "replied", "closed", "archived")
    return LIFECYCLE_ORDER


@pytest.mark.django_db
def test_populate_drives_cases_towards_their_target_states_as_time_allows():
    """Each case gets as far towards its target as its history had time for by now: every
    case on its way, every case received long enough ago at its target."""
    demo = build_organization()
    end = datetime.now(SH)
    specs = list(generate_case_specs(40, seed=11, start=end - timedelta(days=100), end=end))
    assert populate(demo, specs, now=end) == 40

    cases = {c.received_at: c for c in Case.objects.filter(organization=demo.org)}
    assert len(cases) == 40
    states = Counter(c.state for c in cases.values())
    assert states[CaseState.CLOSED] and states[CaseState.IN_PROGRESS]
    assert len(states) >= 5
    old = 0
    for spec in specs:
        case = cases[spec.received_at]
        expected = spec.target_state
        approval = stages_with_defaults(case.stage_switches)["approval"]
        if expected == "pending_approval" and not approval:
            expected = "in_progress"  # without the approval stage it stays with the handler
        path = _path_to(spec)
        if spec.decision in ("not_accept", "return", "transfer") and expected not in path:
            expected = path[-1]  # returned instead of transferred where the preset forbids transfers
        if case.state != expected:
            assert case.state in path, (spec.index, case.state)
            # Past its target: left there it would have sat weeks past a time limit by now
            # (history.STALE), so its story went on, late.
            went_on = path.index(case.state) > path.index(expected) and expected not in ("closed", "archived")
            assert went_on or end - spec.received_at < timedelta(days=60), (spec.index, spec.target_state, case.state)
            if not spec.reopened and not went_on:  # a reopened case went round once already
                assert path.index(case.state) < path.index(expected), (spec.index, case.state)
        else:
            old += end - spec.received_at >= timedelta(days=60)
        assert verify_event_chain(case)
        assert case.title == spec.title and case.received_at == spec.received_at
        assert case.category_id == demo.categories[spec.category].pk
        assert Contact.objects.filter(case=case).count() <= 1 + len(spec.repeat_contacts)
        dispatched = case.state not in ("registered", "accepted", "not_accepted", "returned", "transferred")
        if dispatched and spec.decision == "accept":
            assert case.lead_department_id == demo.routing[spec.category].pk
            assert case.handler is None or case.handler.department_id == case.lead_department_id
        if spec.reopened and case.state in ("closed", "archived"):
            assert case.round == 2
        if spec.channel == "visit":
            assert case.first_contact.username == "reception"
    assert old >= 10  # most cases are old enough to have reached their target


@pytest.mark.django_db
def test_demo_command_if_empty_does_not_duplicate():
    out = StringIO()
    call_command("huiyin_demo", "--cases", "6", "--if-empty", stdout=out)
    org = Organization.objects.get(code="demo")
    assert generated(org).count() == 6
    text = out.getvalue()
    assert "clerk" in text and "leader" in text and DEMO_PASSWORD in text and "http://127.0.0.1:8000/" in text
    assert "http://127.0.0.1:8000/administration/staff/" in text and "/admin/" not in text  # in-product admin

    out = StringIO()
    call_command("huiyin_demo", "--cases", "6", "--if-empty", stdout=out)
    assert generated(org).count() == 6
    assert Organization.objects.filter(code="demo").count() == 1
    assert "clerk" in out.getvalue() and DEMO_PASSWORD in out.getvalue()


@pytest.mark.parametrize(
    "preset",
    [
        "petition_office",
        "property_management",
        "construction_station",
        "hospital",
        "company_front_office",
        "city_hotline",
    ],
)
def test_demo_runs_under_every_preset(preset, db):
    """Every preset's stages (no acceptance decision, no sign-for, approval chains,
    confirmation to close, forbidden transfers) are driven through by the demo."""
    from huiyin.handling.models import ApprovalStep, Dispatch
    from tests.policy.conftest import activate

    demo = build_organization()
    activate(demo.org, preset)
    end = datetime.now(SH)
    specs = list(generate_case_specs(60, seed=5, start=end - timedelta(days=30), end=end))
    assert populate(demo, specs, now=end) == 60
    cases = list(Case.objects.filter(organization=demo.org))
    assert all(verify_event_chain(c) for c in cases)
    assert Counter(c.state for c in cases)[CaseState.CLOSED]
    assert Dispatch.objects.filter(case__organization=demo.org).exists()
    if preset in ("petition_office", "company_front_office"):  # two signatures per proposal
        assert ApprovalStep.objects.filter(proposal__case__organization=demo.org, level=2).exists()
    if preset == "hospital":  # 门诊部 receives outpatients' complaints, 医务科 inpatients' (seeds/000 行 283)
        offices = {"outpatient": "门诊部", "inpatient": "医务科"}
        assert {c.complainant_kind for c in cases} == set(offices)
        for c in cases:
            if c.lead_department_id is not None and c.lead_department.name != offices[c.complainant_kind]:
                assert offices[c.complainant_kind] in {d.name for d in c.assisting_departments.all()}


@pytest.mark.parametrize("preset", ["property_management", "city_hotline"])
def test_demo_runs_a_survey_and_the_presets_activities(preset, db):
    """A campaign under way with paper and online answers, an item put right and one
    open, and every engagement kind held last period (with its opinion as a case) and
    planned in this one."""
    from huiyin.demo.outreach import seed_outreach
    from huiyin.evaluation.models import DeductionEntry
    from huiyin.surveys.models import Activity, ActivityOpinion, Campaign
    from huiyin.surveys.selectors import activity_plan_progress, campaign_stats
    from tests.policy.conftest import activate

    demo = build_organization()
    version = activate(demo.org, preset)
    end = datetime.now(SH)
    populate(demo, generate_case_specs(40, seed=3, start=end - timedelta(days=20), end=end), now=end)
    counts = seed_outreach(demo.org.pk, demo.staff)
    campaign = Campaign.objects.get(organization=demo.org)
    stats = campaign_stats(campaign)
    assert (stats.responses, stats.paper, stats.online) == (60, 40, 20) == (counts["responses"], 40, 20)
    assert len(stats.areas) == len(version.preset().survey.areas)
    assert 0 < stats.overall.numerator < stats.overall.denominator  # some dissatisfied, most not
    assert stats.common  # the demo opinions recur
    assert sorted(campaign.items.values_list("status", flat=True)) == ["done", "open"]
    kinds = version.preset().engagement
    assert Activity.objects.filter(organization=demo.org).count() == 2 * len(kinds) == counts["activities"]
    assert ActivityOpinion.objects.filter(activity__organization=demo.org).count() == len(kinds)
    assert all(p["planned"] >= 1 for p in activity_plan_progress(demo.org.pk, kinds))
    # 越级投诉 deductions where the preset has them (property: one case per level, 20 / 30 / 50)
    entries = DeductionEntry.objects.filter(organization=demo.org)
    assert entries.count() == counts["deductions"]
    if version.preset().deductions:
        assert sorted(set(entries.values_list("points", flat=True))) == [20, 30, 50]
    else:
        assert counts["deductions"] == 0


@pytest.mark.django_db
def test_the_demo_leaves_clustering_and_training_of_a_large_ledger_to_the_triage_commands(monkeypatch):
    """Demo cases added to a large ledger (a benchmark's, the plan guard's 20,000 old
    matters) would make the demo cluster and train over all of it: it says so and stops."""
    from huiyin.demo.management.commands import huiyin_demo
    from huiyin.triage.models import HotMember, TriageModel

    monkeypatch.setattr(huiyin_demo, "DEMO_TRIAGE_MAX_CASES", 5)
    out = StringIO()
    call_command("huiyin_demo", "--cases", "8", stdout=out)
    assert "huiyin triage hot" in out.getvalue()
    assert not HotMember.objects.exists() and not TriageModel.objects.exists()
