"""Repeats and duplicates at intake on constructed pairs: a repost of the same text and a
reworded one are found with their score and reason, an unrelated text is not; the same
phone and ID number and place count; old closed cases, other organisations' and roles
without caller history are left out; the endpoint answers JSON."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.cases.services import PartyInput
from huiyin.cases.workflow import CaseState
from huiyin.core.validators import id_check_digit
from huiyin.orgs.models import Organization
from huiyin.triage.models import TextBand
from huiyin.triage.repeats import BANDS, SIMILAR, bands, candidates, index_case, jaccard, shingles
from huiyin.triage.similarity import SAME_MATTER, UNIFORM, Frequencies
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

NOISE = "幸福小区3号楼旁边的建筑工地每天晚上十点以后还在施工打桩，噪音很大，影响居民休息，请尽快处理。"
REWORDED = "幸福小区3号楼旁边建筑工地晚上十点以后还在施工打桩，噪音太大了，影响我们休息，希望处理。"
ID_NUMBER = "11010119900307123" + id_check_digit("11010119900307123")
OTHER = "公交站台的广告牌被风吹得松动，随时可能掉下来砸到人。"


def indexed(register, **kw) -> Case:
    case = register(**kw)
    dispatch_after_commit(Event.objects.get(case=case, kind=EventKind.REGISTERED).pk)  # its task, run here
    return case


def test_signatures_estimate_jaccard():
    a, b, c = shingles(NOISE), shingles(REWORDED), shingles(OTHER)
    assert jaccard(a, a) == 1 and 0.3 < jaccard(a, b) < 0.9 and jaccard(a, c) < 0.05
    assert len(bands(a)) == BANDS and bands(a) == bands(set(a))
    assert set(bands(a)) & set(bands(b)) and not set(bands(a)) & set(bands(c))
    assert bands(shingles("噪音")) == []


def test_similar_text_is_found_with_score_and_reason(org, clerk, register):
    first = indexed(register, text=NOISE, party=PartyInput(name="甲", phone="13900000001"))
    indexed(register, text=OTHER, party=PartyInput(name="乙", phone="13900000002"))
    assert TextBand.objects.filter(case=first).count() == BANDS
    found = candidates(actor=clerk, text=REWORDED)
    assert [c.number for c in found] == [first.number]
    assert 0.3 <= found[0].score < 1 and found[0].reasons[0].startswith("内容相似") and found[0].same_matter
    exact = candidates(actor=clerk, text=NOISE)
    assert exact[0].number == first.number and exact[0].score == 1.0
    assert candidates(actor=clerk, text="路灯坏了好几天没人修") == []


def test_same_phone_id_number_and_place(org, clerk, register):
    case = indexed(
        register,
        text=OTHER,
        location="幸福路12号",
        party=PartyInput(name="丙", phone="13900000003", id_number=ID_NUMBER),
    )
    by_phone = candidates(actor=clerk, phone="13900000003", text="别的事情")
    assert by_phone[0].number == case.number and by_phone[0].reasons == ["同一电话号码"]
    assert not by_phone[0].same_matter
    by_id = candidates(actor=clerk, id_number=ID_NUMBER)
    assert by_id[0].reasons == ["同一身份证号码"]
    by_place = candidates(actor=clerk, location="幸福路12号")
    assert by_place[0].reasons == ["同一事发地点"] and by_place[0].score == 0.5
    both = candidates(actor=clerk, phone="13900000003", text=OTHER)
    assert both[0].reasons == ["同一电话号码", "内容相似（100%）"] and both[0].score == 1.0 and both[0].same_matter


def test_old_closed_other_organisation_and_no_caller_history(org, clerk, register, analyst):
    old = indexed(register, text=NOISE, party=PartyInput(name="丁", phone="13900000004"))
    Case.objects.filter(pk=old.pk).update(state=CaseState.CLOSED, received_at=timezone.now() - timedelta(days=200))
    TextBand.objects.filter(case=old).update(received_at=timezone.now() - timedelta(days=200))
    assert candidates(actor=clerk, text=NOISE, phone="13900000004") == []
    Case.objects.filter(pk=old.pk).update(state=CaseState.ACCEPTED)  # still open: found at any age
    assert [c.number for c in candidates(actor=clerk, text=NOISE)] == [old.number]
    other = Organization.objects.create(code="other", name="别的单位")
    stranger = make_staff(other, "stranger", ["intake_clerk"])
    assert candidates(actor=stranger, text=NOISE, phone="13900000004") == []
    # Without the right to see caller history, a phone number finds nothing by itself.
    reception_without_pii = make_staff(org, "nopii", ["supervisor"])
    assert candidates(actor=reception_without_pii, phone="13900000004") == []


def test_edit_reindexes_and_index_command_backfills(org, clerk, register):
    case = register(text=NOISE, party=PartyInput(name="戊", phone="13900000005"))
    assert not TextBand.objects.filter(case=case).exists()  # its task has not run
    call_command("huiyin_triage", "index")
    assert TextBand.objects.filter(case=case).count() == BANDS
    before = set(TextBand.objects.filter(case=case).values_list("value", flat=True))
    case.text = OTHER
    case.save()
    index_case(case)
    assert set(TextBand.objects.filter(case=case).values_list("value", flat=True)) != before
    assert TextBand.objects.filter(case=case).count() == BANDS


def test_the_endpoint(org, clerk, register, handler):
    case = indexed(register, text=NOISE, party=PartyInput(name="己", phone="13900000006"))
    client = Client()
    client.force_login(clerk)
    data = client.post("/triage/repeats/", {"text": REWORDED, "party_phone": "139 0000 0006"}).json()
    assert data["candidates"][0]["number"] == case.number
    assert data["candidates"][0]["add_url"] == f"/cases/{case.pk}/contacts/"
    assert "13900000006" not in str(data)
    huge = client.post("/triage/repeats/", {"text": "噪\x00" * 100_000, "party_id_number": "x" * 500})
    assert huge.status_code == 200
    other = Client()
    other.force_login(handler)
    assert other.post("/triage/repeats/", {"text": NOISE}).status_code == 403


def test_an_archived_candidate_offers_no_adding_of_the_call(org, clerk, register):
    """An archived case is read-only: the panel links it but offers no "add this call" that
    could only land the clerk on its page with an error, the typed call gone."""
    case = indexed(register, text=NOISE, party=PartyInput(name="辛", phone="13900000009"))
    Case.objects.filter(pk=case.pk).update(state=CaseState.ARCHIVED, received_at=timezone.now() - timedelta(days=20))
    client = Client()
    client.force_login(clerk)
    [found] = client.post("/triage/repeats/", {"text": NOISE, "party_phone": "13900000009"}).json()["candidates"]
    assert found["number"] == case.number and found["url"] == f"/cases/{case.pk}/"
    assert found["add_url"] is None


def test_add_the_call_to_the_candidate_case(org, clerk, register):
    case = indexed(register, text=NOISE, party=PartyInput(name="庚", phone="13900000007"))
    client = Client()
    client.force_login(clerk)
    response = client.post(
        f"/cases/{case.pk}/contacts/",
        {
            "party_phone": "13900000008",
            "party_name": "辛",
            "nature": "complaint",
            "text": REWORDED,
            "urgency": "normal",
            "group_size": "1",
            "intake_token": uuid.uuid4().hex,
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.contacts.count() == 2


def test_a_band_shared_by_many_cases_is_read_newest_first_and_only_so_far(org, clerk, register, monkeypatch):
    """A complaint heard a thousand times in the same words shares its bands with every one of
    them: the look-up reads each band's PER_BAND newest cases, not all of them (at a million
    cases, 0.2 s of counting bands for a common text), and the newest are the ones it finds."""
    from huiyin.triage import repeats

    now = timezone.now()
    same = [
        indexed(register, text=NOISE, party=PartyInput(name=f"邻居{n}"), received_at=now - timedelta(days=10 - n))
        for n in range(4)
    ]
    monkeypatch.setattr(repeats, "PER_BAND", 2)
    assert set(repeats._band_neighbours(org.pk, bands(shingles(NOISE)))) == {same[3].pk, same[2].pk}
    found = candidates(actor=clerk, text=REWORDED)
    assert {c.number for c in found} == {same[3].number, same[2].number}


# A caller writing again about the same dispute in new words: few 3-grams shared.
MIXING_PLANT = "丽发新城小区旁边的搅拌站日夜生产，噪音和粉尘严重，影响居民生活，请相关部门处理。"
MIXING_PLANT_AGAIN = "上次反映的丽发新城搅拌站至今仍在生产，粉尘漫天，噪音不断，居民无法休息，希望尽快解决。"


def test_the_same_caller_writing_anew_about_the_same_matter_comes_first(org, clerk, register, monkeypatch):
    from huiyin.triage import repeats

    from .test_similarity import CORPUS

    monkeypatch.setattr(repeats, "_frequencies", lambda org_id: Frequencies.of(CORPUS))  # a model's weights
    phone = "13900000009"
    plant = indexed(register, title="搅拌站扰民", text=MIXING_PLANT, party=PartyInput(name="戊", phone=phone))
    other = indexed(
        register, title="路灯不亮", text="小区门口路灯坏了，晚上很黑。", party=PartyInput(name="戊", phone=phone)
    )
    assert other.pk > plant.pk  # the newer case, listed first among equals before
    assert jaccard(shingles(MIXING_PLANT), shingles(MIXING_PLANT_AGAIN)) < SIMILAR  # no band link
    found = candidates(actor=clerk, phone=phone, title="再次反映搅拌站", text=MIXING_PLANT_AGAIN)
    assert [c.number for c in found] == [plant.number, other.number]
    assert found[0].same_matter and found[0].reasons[0].startswith("可能是同一事项（文字相近")
    assert found[0].reasons[1] == "同一电话号码" and found[0].score > found[1].score
    assert not found[1].same_matter and found[1].reasons == ["同一电话号码"]


def test_the_weights_are_the_model_in_service(org, tree, clerk, register, tmp_path):
    from huiyin.triage import repeats, store
    from huiyin.triage.models import ModelStatus, TriageModel

    from .toy import rows, write_csv

    phone = "13900000010"
    indexed(register, title="搅拌站扰民", text=MIXING_PLANT, party=PartyInput(name="己", phone=phone))
    assert repeats._frequencies(org.pk) is UNIFORM  # no model: equal weights, a higher bar
    found = candidates(actor=clerk, phone=phone, title="再次反映搅拌站", text=MIXING_PLANT_AGAIN)
    assert found and not found[0].same_matter  # cosine 0.41 against 0.42
    call_command("huiyin_triage", "train", "--data", str(write_csv(tmp_path / "toy.csv", rows(12, seed=1))))
    model = TriageModel.objects.get(organization=org, status=ModelStatus.IN_SERVICE)
    weights = repeats._frequencies(org.pk)
    assert weights is store.load(model).frequencies and weights.documents == model.summary["rows"]
    assert weights.threshold == SAME_MATTER
