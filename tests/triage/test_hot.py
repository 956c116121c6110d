"""Hot issues (F52) on a constructed example: two topics and noise make two clusters with the
right members, ranked by the heat index; the rows the event bus keeps equal a rebuild (an
edit that breaks a cluster's link splits it); a department head counts only their
department's cases; the page and the API answer, and bad filters get a Chinese message
naming the field, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.cases.services import PartyInput, case_update
from huiyin.core.errors import PermissionDeniedError
from huiyin.orgs.models import Organization
from huiyin.orgs.roles import Role
from huiyin.triage import hot
from huiyin.triage.models import HotCluster, HotMember
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

NOISE = [  # one topic: night construction noise at one estate, told four ways
    "幸福小区3号楼旁边的建筑工地每天晚上十点以后还在施工打桩，噪音很大，影响居民休息，请尽快处理。",
    "幸福小区3号楼旁边的建筑工地每天晚上十点以后还在施工打桩，噪音太大，影响居民休息，请处理。",
    "幸福小区3号楼旁边的建筑工地每天晚上十一点以后还在施工打桩，噪音很大，影响居民休息，请尽快处理！",
    "幸福小区3号楼旁边的建筑工地每天晚上十点以后还在施工打桩，噪音很大，严重影响居民休息，请尽快处理。",
]
LIGHTS = [  # another: the street lights of one road
    "人民路与学院路交叉口附近的路灯已经连续一个星期不亮了，晚上行人和电动车经过很危险，希望尽快维修。",
    "人民路与学院路交叉口附近的路灯已经连续两个星期不亮了，晚上行人和电动车经过很危险，希望尽快维修。",
    "人民路与学院路交叉口附近的路灯已经连续一个星期不亮了，晚上行人经过很危险，希望相关部门尽快维修。",
]
OTHERS = [  # noise: one case each
    "公交站台的广告牌被风吹得松动，随时可能掉下来砸到人。",
    "想咨询一下孩子上小学需要准备哪些入学材料，户口不在本区能否就读。",
    "菜市场里有商贩缺斤短两，买了两斤排骨回家一称只有一斤七两。",
]


def dispatched(case: Case, kind: str = EventKind.REGISTERED) -> Case:
    """Run the event's after-commit subscribers, as its task does."""
    dispatch_after_commit(Event.objects.filter(case=case, kind=kind).latest("pk").pk)
    return case


@pytest.fixture
def example(register):
    """Noise from four people, lights from two (one called twice), three unrelated cases."""
    cases: dict[str, list[Case]] = {"noise": [], "lights": [], "others": []}
    for i, text in enumerate(NOISE):
        party = PartyInput(name=f"居民{i}", phone=f"1390000100{i}")
        cases["noise"].append(dispatched(register(text=text, party=party, location="幸福小区3号楼")))
    for i, text in enumerate(LIGHTS):
        party = PartyInput(name=f"路人{min(i, 1)}", phone=f"1380000200{min(i, 1)}")
        cases["lights"].append(dispatched(register(text=text, party=party, location="人民路与学院路交叉口")))
    for i, text in enumerate(OTHERS):
        party = PartyInput(name=f"市民{i}", phone=f"1370000300{i}")
        cases["others"].append(dispatched(register(text=text, party=party, location="城北区")))
    return cases


def ids(cases: list[Case]) -> frozenset[int]:
    return frozenset(c.pk for c in cases)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_two_topics_and_noise_make_two_ranked_clusters(org, example, analyst):
    groups = hot.partition(org.pk)
    assert ids(example["noise"]) in groups and ids(example["lights"]) in groups
    assert all(len(g) == 1 for g in groups - {ids(example["noise"]), ids(example["lights"])})
    board = hot.hot_issues(actor=analyst, window=30)
    assert [frozenset(c.id for c in i.cases) for i in board.issues] == [ids(example["noise"]), ids(example["lights"])]
    noise, lights = board.issues
    # heat = volume + distinct complainants + 0.5 × growth over an empty previous window + likes (0)
    assert (noise.volume, noise.complainants, noise.previous, noise.heat) == (4, 4, 0, 10.0)
    assert (lights.volume, lights.complainants, lights.heat) == (3, 2, 6.5)
    assert noise.likes == 0 and noise.growth is None
    assert noise.representative_id in ids(example["noise"]) and "施工打桩" in noise.text
    assert "13900001000" not in noise.text and "居民0" not in noise.text
    assert board.grain == "day" and len(noise.trend) == 30 and sum(n for _d, n in noise.trend) == 4
    assert noise.trend[-1] == (timezone.localdate().isoformat(), 4) and noise.spark.endswith("█")
    cluster = HotCluster.objects.get(pk=noise.cluster_id)
    assert cluster.size == 4 and cluster.representative_id == noise.representative_id


def test_window_area_and_growth(org, example, analyst, register):
    earlier = timezone.now() - timedelta(days=10)
    old = dispatched(register(text=NOISE[0], party=PartyInput(name="居民9", phone="13900001009"), received_at=earlier))
    assert HotMember.objects.get(case=old).cluster_id == HotMember.objects.get(case=example["noise"][0]).cluster_id
    week = hot.hot_issues(actor=analyst, window=7)
    assert (week.issues[0].volume, week.issues[0].previous, week.issues[0].growth) == (4, 1, 3.0)
    assert week.issues[0].heat == 4 + 4 + 0.5 * 3
    only_lights = hot.hot_issues(actor=analyst, window=7, area="学院路")
    assert [i.volume for i in only_lights.issues] == [3]
    assert hot.hot_issues(actor=analyst, window=7, area="滨江区").issues == []
    quarter = hot.hot_issues(actor=analyst, window=90)
    assert quarter.grain == "week" and sum(n for _d, n in quarter.issues[0].trend) == 5


def test_incremental_rows_equal_a_rebuild(org, example, clerk):
    # An edit that takes the second noise case elsewhere: the cluster keeps the other three.
    moved = example["noise"][1]
    moved.refresh_from_db()
    changes = {"title": "广告牌松动", "text": OTHERS[0] + "请尽快处理。"}
    case_update(actor=clerk, case_id=moved.pk, expected_version=moved.version, changes=changes)
    dispatched(moved, EventKind.UPDATED)
    incremental = hot.partition(org.pk)
    assert ids(example["noise"]) - {moved.pk} in incremental
    assert frozenset({moved.pk, example["others"][0].pk}) in incremental
    representatives = {
        frozenset(c.members.values_list("case_id", flat=True)): c.representative_id
        for c in HotCluster.objects.filter(organization=org)
    }
    call_command("huiyin_triage", "hot", "--rebuild")
    assert hot.partition(org.pk) == incremental
    assert {
        frozenset(c.members.values_list("case_id", flat=True)): c.representative_id
        for c in HotCluster.objects.filter(organization=org)
    } == representatives
    # Catching up finds nothing left to do; a case without a cluster gets one.
    HotMember.objects.filter(case=example["others"][2]).delete()
    assert hot.catch_up(org.pk) == 1 and hot.partition(org.pk) == incremental


def test_department_head_sees_only_their_departments_cases(org, example, head, departments, analyst, handler):
    city, traffic = departments["city"], departments["traffic"]
    Case.objects.filter(pk__in=[c.pk for c in example["noise"][:2]]).update(lead_department=city)
    Case.objects.filter(pk__in=[c.pk for c in example["noise"][2:] + example["lights"]]).update(lead_department=traffic)
    mine = hot.hot_issues(actor=head, window=30)
    assert mine.scope_department == city.pk
    assert [frozenset(c.id for c in i.cases) for i in mine.issues] == [ids(example["noise"][:2])]
    assert mine.issues[0].volume == 2 and mine.issues[0].representative_id in ids(example["noise"][:2])
    assert len(hot.hot_issues(actor=analyst, window=30).issues) == 2
    with pytest.raises(PermissionDeniedError) as refused:
        hot.hot_issues(actor=handler, window=30)
    assert "热点问题" in str(refused.value)
    page = client_for(head).get("/triage/hot/?window=30")
    assert page.status_code == 200 and example["noise"][0].number in page.content.decode()
    assert example["lights"][0].number not in page.content.decode()


def test_page_filters_and_refusals(org, example, analyst, handler, clerk):
    client = client_for(analyst)
    page = client.get("/triage/hot/")
    body = page.content.decode()
    assert page.status_code == 200 and body.index(example["noise"][0].number) < body.index(example["lights"][0].number)
    assert 'id="nav-hot"' in body
    for query, words in (
        ("window=abc", "时间窗口（天）"),
        ("window=0", "时间窗口（天）"),
        ("window=99999999999999999999", "时间窗口（天）"),
        ("window=", "时间窗口（天）"),
        ("area=" + "区" * 41, "地区或地点"),
    ):
        response = client.get(f"/triage/hot/?{query}")
        assert response.status_code == 400, query
        assert words in response.content.decode(), query
    assert client_for(handler).get("/triage/hot/").status_code == 403
    assert client_for(clerk).get("/triage/hot/").status_code == 403
    assert 'id="nav-hot"' not in client_for(clerk).get("/").content.decode()


def test_api_endpoint(org, example, analyst, clerk, departments):
    client = client_for(analyst)
    response = client.get("/api/v1/hot-issues/?window=30&area=幸福小区")
    assert response.status_code == 200
    data = response.json()
    assert data["window"] == 30 and data["grain"] == "day" and len(data["results"]) == 1
    first = data["results"][0]
    assert first["rank"] == 1 and first["volume"] == 4 and first["heat"] == 10.0 and first["likes"] == 0
    assert {c["id"] for c in first["cases"]} == ids(example["noise"])
    assert first["cases"][0]["url"].startswith("/api/v1/cases/") and len(first["trend"]) == 30
    bad = client.get("/api/v1/hot-issues/?window=x")
    assert bad.status_code == 400 and "时间窗口（天）" in bad.json()["fields"]["window"][0]
    assert client.get("/api/v1/hot-issues/?window=").status_code == 400
    assert client_for(clerk).get("/api/v1/hot-issues/").status_code == 403
    schema = client.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/hot-issues/" in schema["paths"]


def test_other_organisations_see_nothing(org, example):
    other = Organization.objects.create(code="other", name="另一单位")
    analyst2 = make_staff(other, "analyst2", [Role.ANALYST])
    assert hot.hot_issues(actor=analyst2, window=30).issues == []


PLANT = [  # neighbours, each in their own words, about the mixing plant next to one estate
    "投诉丽发新城附近建搅拌站，每天粉尘满天飞，晚上还有噪音，孩子老人都受不了。",
    "暮云街道丽发新城小区旁边新修了一个混凝土搅拌站，没有环评，请环保部门查一查。",
    "丽发新城业主反映：小区南门外搅拌站的大货车日夜进出，道路全是泥，严重扰民。",
    "我住在丽发新城，家门口的搅拌站距离住宅不到一百米，这样合法吗？希望早日搬走。",
]
ELSEWHERE = [  # the same kind of trouble at another estate, and another matter at the first
    "星沙金茂小区东边的搅拌站每天粉尘很大，晚上噪音扰民，请相关部门处理。",
    "丽发新城小区的快递柜经常坏，取件要排很久，希望物业尽快修好。",
]


def test_neighbours_writing_their_own_letters_about_one_place_make_one_issue(org, register):
    """Rewritten letters share little text (each pair here below the band link's 0.5) but
    name the same estate: they are one hot issue. The same trouble at another estate, and
    another trouble at the same estate, are not part of it."""
    from huiyin.core.chinese import place_names, prepare
    from huiyin.triage.minhash import jaccard, shingles

    texts = [shingles(prepare("", t)) for t in PLANT]
    assert max(jaccard(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :]) < hot.SIMILAR
    assert all("丽发新城" in place_names(prepare("", t)) for t in PLANT)
    assert not {n for n in place_names(prepare("", "我们小区门口的路灯坏了，该公司不管。")) if n.startswith("我们")}
    # A caller's words before 路 or 街, and the words 路况, 路边, 街道 name no place: nothing to link by.
    for words in ("来电人想咨询路况信息", "我想问路边停车收费", "来电咨询街道办电话"):
        assert place_names(prepare("", words)) == frozenset(), words
    named = place_names(prepare("", "市民反映劳动东路路灯不亮"))
    assert "劳动东路" in named and not {n for n in named if "反映" in n or n.endswith("路灯")}

    cases = [
        dispatched(register(text=t, party=PartyInput(name=f"业主{i}", phone=f"1360000400{i}")))
        for i, t in enumerate(PLANT + ELSEWHERE)
    ]
    groups = hot.partition(org.pk)
    assert ids(cases[:4]) in groups
    assert frozenset({cases[4].pk}) in groups and frozenset({cases[5].pk}) in groups
    # The rows the bus kept equal a rebuild from scratch.
    incremental = groups
    call_command("huiyin_triage", "hot", "--rebuild")
    assert hot.partition(org.pk) == incremental


# --- boilerplate shared by unrelated matters ------------------------------------------------------

TEMPLATE = "来电人想咨询{}方面的相关政策规定，遇到这类问题应该找哪个部门办理，办理流程和需要准备的材料有哪些。"
TOPICS = ["供水", "路灯照明", "公交服务", "医疗纠纷", "房屋漏水", "停水", "物业服务", "餐饮油烟", "社保缴纳"]
PLACES = ["幸福小区", "阳光花园", "人民路", "学院路", "滨江公园", "城北菜市场"]
TROUBLES = ["路面坑洼积水", "垃圾堆放无人清理", "夜间施工噪音扰民", "违章搭建占用通道", "井盖缺失", "油烟直排"]


def _common() -> frozenset[str]:
    """The boilerplate of a small constructed ledger: nine template consultations on nine
    topics and 36 letters about six troubles at six places, with the noise and lights ones."""
    from huiyin.core.chinese import prepare
    from huiyin.triage.similarity import Frequencies, boilerplate_pairs

    letters = [f"{p}附近{t}，已经持续一周，请有关部门尽快处理。" for p in PLACES for t in TROUBLES]
    corpus = [TEMPLATE.format(t) for t in TOPICS] + letters + NOISE + LIGHTS + OTHERS
    return boilerplate_pairs(Frequencies.of(prepare("", t) for t in corpus))


def test_a_template_shared_by_unrelated_consultations_links_nothing_copies_still_link():
    """Two consultations on the hotline's template about different things (供水, 路灯照明) share
    most of their 3-grams — above the band link's bar — but nothing once the template,
    common to the ledger, is left out. Near copies of one letter, which share the ledger's
    common phrases too (请……尽快处理), still overlap in what they are about; a copy of a
    template consultation on the same topic is still a copy."""
    from huiyin.core.chinese import prepare
    from huiyin.triage.minhash import jaccard, shingles
    from huiyin.triage.similarity import distinctive_shingles

    common = _common()
    water, lights = (prepare("", TEMPLATE.format(t)) for t in ("供水", "路灯照明"))
    assert jaccard(shingles(water), shingles(lights)) >= hot.SIMILAR  # what joined them
    assert not hot._same_beyond_boilerplate(
        frozenset(distinctive_shingles(water, common)), frozenset(distinctive_shingles(lights, common))
    )
    assert hot._same_beyond_boilerplate(
        frozenset(distinctive_shingles(water, common)), frozenset(distinctive_shingles(water, common))
    )
    first, second = (prepare("", t) for t in NOISE[:2])
    assert jaccard(shingles(first), shingles(second)) >= hot.SIMILAR
    assert hot._same_beyond_boilerplate(
        frozenset(distinctive_shingles(first, common)), frozenset(distinctive_shingles(second, common))
    )
    assert distinctive_shingles(first, frozenset()) == shingles(first)  # no model: nothing left out


def test_hot_issues_leave_out_the_template_of_unrelated_consultations(org, register, monkeypatch):
    """With the organisation's common wording known (its triage model), consultations that
    share only the template are each their own matter, and the noise letters one issue —
    incrementally and rebuilt."""
    monkeypatch.setattr(hot, "_boilerplate", lambda organization_id: _common())
    consultations = [
        dispatched(register(text=TEMPLATE.format(t), party=PartyInput(name=f"来电人{i}", phone=f"1350000500{i}")))
        for i, t in enumerate(TOPICS[:4])
    ]
    noise = [
        dispatched(register(text=t, party=PartyInput(name=f"居民{i}", phone=f"1390000100{i}")))
        for i, t in enumerate(NOISE)
    ]
    groups = hot.partition(org.pk)
    assert ids(noise) in groups
    assert all(frozenset({c.pk}) in groups for c in consultations)
    call_command("huiyin_triage", "hot", "--rebuild")
    assert hot.partition(org.pk) == groups
