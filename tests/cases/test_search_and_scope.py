"""Chinese keyword search on the active database, department scoping, masking."""

from __future__ import annotations

import pytest

from huiyin.cases import services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Event
from huiyin.cases.selectors import (
    LedgerFilters,
    caller_history,
    case_get_for_actor,
    cases_for,
    ledger,
    my_desk,
    parties_matching,
)
from huiyin.cases.services import PartyInput
from huiyin.core.errors import PermissionDeniedError
from huiyin.core.search import document, fts5_query, tsquery
from huiyin.handling import actions as handling_actions
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def test_document_is_bigrams_in_order():
    assert document("楼上漏水") == "楼上 上漏 漏水 水"
    assert document("3号楼 ABC噪音") == "3 号楼 楼 abc 噪音 音"
    assert fts5_query("漏水 噪音") == '"漏水" AND "噪音"'
    assert tsquery("停车场") == "(停车 <-> 车场)"


@pytest.fixture
def corpus(register):
    return {
        "leak": register(text="楼上卫生间漏水，渗到我家天花板。", location="滨江花园3幢"),
        "noise": register(text="夜间施工噪音扰民，凌晨两点还在打桩。"),
        "parking": register(text="小区停车场被占用，消防通道堵塞。"),
        "wages": register(text="工地拖欠农民工工资三个月。"),
    }


def search(actor, keyword):
    return {c.pk for c in ledger(actor=actor, filters=LedgerFilters(keyword=keyword))}


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("漏水", {"leak"}),
        ("噪音", {"noise"}),
        ("停车", {"parking"}),
        ("停车场", {"parking"}),
        ("消防通道", {"parking"}),
        ("天花板", {"leak"}),
        ("滨江", {"leak"}),
        ("拖欠 工资", {"wages"}),
        ("漏水 噪音", set()),
        ("水漏", set()),
        ("火灾", set()),
        ("资", {"wages"}),
    ],
)
def test_chinese_two_and_three_character_terms(corpus, clerk, keyword, expected):
    assert search(clerk, keyword) == {corpus[k].pk for k in expected}


def test_search_follows_edits(corpus, clerk):
    case = corpus["noise"]
    services.case_update(
        actor=clerk,
        case_id=case.pk,
        expected_version=case.version,
        changes={"title": "广场舞音响", "text": "广场舞音响声音太大。"},
    )
    assert search(clerk, "噪音") == set()
    assert search(clerk, "音响") == {case.pk}


def test_search_by_case_number(corpus, clerk):
    assert search(clerk, corpus["wages"].number) == {corpus["wages"].pk}


def test_filters_combine(register, clerk, category, departments):
    a = register(channel="visit", category_id=category.pk)
    register(channel="phone")
    services.case_accept(actor=clerk, case_id=a.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=a.pk, department_id=departments["city"].pk)
    rows = ledger(
        actor=clerk,
        filters=LedgerFilters(
            channel="visit", state="dispatched", category_id=category.parent_id, department_id=departments["city"].pk
        ),
    )
    assert [c.pk for c in rows] == [a.pk]


def test_date_range_filter(register, clerk):
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    tz = ZoneInfo("Asia/Shanghai")
    day = timezone.localdate() - timedelta(days=10)  # recent: a matter is registered within a year of arriving
    old = register(received_at=datetime.combine(day - timedelta(days=1), time(9, 0), tzinfo=tz))
    new = register(received_at=datetime.combine(day, time(23, 59), tzinfo=tz))
    rows = ledger(actor=clerk, filters=LedgerFilters(date_from=day, date_to=day))
    assert [c.pk for c in rows] == [new.pk]
    assert old.pk not in {c.pk for c in rows}


def test_handler_sees_only_department_cases(org, register, clerk, handler, other_handler, departments):
    mine, assisting, foreign = register(), register(), register()
    for case, dept, assist in [(mine, "city", []), (assisting, "housing", ["city"]), (foreign, "traffic", [])]:
        services.case_accept(actor=clerk, case_id=case.pk)
        handling_actions.case_dispatch(
            actor=clerk,
            case_id=case.pk,
            department_id=departments[dept].pk,
            assisting_ids=[departments[d].pk for d in assist],
        )
    assert set(cases_for(handler).values_list("pk", flat=True)) == {mine.pk, assisting.pk}
    assert set(cases_for(other_handler).values_list("pk", flat=True)) == {foreign.pk}
    with pytest.raises(PermissionDeniedError):
        case_get_for_actor(actor=handler, case_id=foreign.pk)
    assert set(cases_for(clerk).values_list("pk", flat=True)) == {mine.pk, assisting.pk, foreign.pk}


def test_other_organisation_is_invisible(org, register):
    from huiyin.orgs.models import Organization

    other_org = Organization.objects.create(code="other", name="另一单位")
    outsider = make_staff(other_org, "outsider", ["leader"])
    case = register()
    assert not cases_for(outsider).exists()
    with pytest.raises(Exception):  # noqa: B017 - 404 for another tenant
        case_get_for_actor(actor=outsider, case_id=case.pk)


def test_first_contact_keeps_case_on_desk_until_closed(register, clerk, handler, leader):
    case = register()
    assert case in my_desk(actor=clerk)["first_contact"]
    services.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=handler.department_id)
    handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    assert case in my_desk(actor=handler)["handling"]
    handling_actions.case_submit_for_approval(actor=handler, case_id=case.pk, proposal="已处理", outcome="resolved")
    assert case in my_desk(actor=leader)["approval"]
    handling_actions.case_approve(actor=leader, case_id=case.pk, comments="同意")
    services.case_reply(actor=handler, case_id=case.pk, reply="已处理")
    assert case in my_desk(actor=clerk)["first_contact"]  # answered but not yet confirmed satisfied
    services.case_close(actor=clerk, case_id=case.pk, satisfaction="satisfied")
    assert case not in my_desk(actor=clerk)["first_contact"]


def test_department_head_desk_lists_department_cases(register, clerk, head, departments):
    case = register()
    services.case_accept(actor=clerk, case_id=case.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    assert case in my_desk(actor=head)["department"]


def test_caller_history_by_phone(register, clerk):
    first = register()
    register(party=PartyInput(name="李四", phone="13900000000"))
    assert [c.pk for c in caller_history(actor=clerk, phone="13812345678")] == [first.pk]
    assert caller_history(actor=clerk, phone="138") == []


def test_parties_matching_is_the_same_person_within_the_organisation(org, register, clerk):
    """The same person: the party itself, the same ID number, or the same phone number;
    never another organisation's party with the same numbers."""
    from huiyin.cases.models import Party
    from huiyin.orgs.models import Organization

    me = register(party=PartyInput(name="张伟", phone="13812345678", id_number="110101199003074514")).party
    by_phone = register(party=PartyInput(name="张伟家属", phone="13812345678")).party
    by_id = register(party=PartyInput(name="张伟", phone="13700000000", id_number="110101199003074514")).party
    stranger = register(party=PartyInput(name="王芳", phone="13900001111", id_number="110101198506120020")).party
    other_org = Organization.objects.create(code="other", name="另一单位")
    elsewhere = Party.objects.create(
        organization=other_org, name="张伟", phone="13812345678", id_number="110101199003074514"
    )
    assert len({me.pk, by_phone.pk, by_id.pk, stranger.pk, elsewhere.pk}) == 5
    assert sorted(parties_matching(org.pk, me)) == sorted([me.pk, by_phone.pk, by_id.pk])
    assert sorted(parties_matching(org.pk, by_id)) == sorted([me.pk, by_id.pk])
    assert parties_matching(org.pk, stranger) == [stranger.pk]
    # A party with neither number is only itself.
    nameless = register(party=PartyInput(name="李四")).party
    assert parties_matching(org.pk, nameless) == [nameless.pk]


def test_masked_in_lists_and_full_view_logged(register, clerk, analyst):
    case = register()
    assert case.party.masked_phone == "138****5678"
    revealed = services.party_reveal(actor=clerk, case_id=case.pk)
    assert revealed[str(case.party_id)]["phone"] == "13812345678"
    event = Event.objects.get(case=case, kind=EventKind.PII_VIEWED)
    assert event.actor == clerk and "13812345678" not in str(event.data)
    with pytest.raises(PermissionDeniedError):
        services.party_reveal(actor=analyst, case_id=case.pk)
    assert Event.objects.filter(case=case, kind=EventKind.PII_VIEWED).count() == 1


@pytest.mark.parametrize("cap", [0, 1, 2000])
def test_search_gives_the_same_rows_whichever_plan(corpus, register, clerk, cap, monkeypatch):
    """PostgreSQL looks rare terms up by id and walks the ledger for common ones; both paths
    must return the same rows (SQLite always uses FTS5)."""
    from huiyin.cases import selectors

    register(text="隔壁装修噪音很大。")
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", cap)
    assert search(clerk, "噪音") == {c.pk for c in ledger(actor=clerk, filters=LedgerFilters()) if "噪音" in c.text}
    assert search(clerk, "火星") == set()
    assert search(clerk, "消防通道") == {corpus["parking"].pk}


def test_the_migrated_database_keeps_its_full_text_triggers():
    """A migration that rebuilds ``cases_case`` on SQLite drops its triggers with it, and
    search then silently finds nothing new; every migration must leave them in place."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 triggers (PostgreSQL's tsvector is a generated column)")
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_case'")
        names = {row[0] for row in cur.fetchall()}
    assert {"cases_case_fts_ai", "cases_case_fts_ad", "cases_case_fts_au"} <= names
