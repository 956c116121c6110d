"""The same-matter score (``triage.similarity``): a letter written anew about the same dispute
scores above the threshold, the same template about another place or another trouble below;
rare n-grams weigh most; the frequencies keep nothing found in one text only."""

from __future__ import annotations

from huiyin.core.chinese import prepare
from huiyin.triage.similarity import (
    SAME_MATTER,
    SAME_MATTER_EQUAL_WEIGHTS,
    UNIFORM,
    Frequencies,
    cosine,
    ngrams,
    vector,
)

# A corpus like an office's: many complaints sharing the everyday words of complaints.
CORPUS = [
    prepare("", t)
    for t in (
        "小区门口的路灯坏了很久，晚上出行不便，请相关部门尽快维修。",
        "楼下餐馆油烟直排，影响居民生活，请相关部门尽快处理。",
        "夜间施工噪音很大，影响居民休息，请相关部门处理。",
        "小区物业不作为，垃圾无人清理，请相关部门督促。",
        "公交车站台广告牌松动，存在安全隐患，请尽快处理。",
        "学校门口交通拥堵，接送孩子很不安全，请相关部门尽快解决。",
        "小区停车位被占用，物业不管，请相关部门处理。",
        "道路积水严重，居民出行不便，请尽快疏通。",
    )
    * 3
]
FIRST = prepare(
    "丽发新城小区搅拌站噪音扰民", "丽发新城小区旁边的搅拌站日夜生产，噪音和粉尘严重，影响居民生活，请相关部门处理。"
)
AGAIN = prepare(
    "再次反映丽发新城搅拌站问题",
    "上次反映的丽发新城搅拌站至今仍在生产，粉尘漫天，噪音不断，居民无法休息，希望尽快解决。",
)
TEMPLATE_OTHER_PLACE = prepare("幸福家园小区油烟扰民", "幸福家园小区楼下的餐馆油烟直排，影响居民生活，请相关部门处理。")


def test_a_rewritten_repost_is_the_same_matter_and_another_trouble_is_not():
    weights = Frequencies.of([*CORPUS, FIRST, TEMPLATE_OTHER_PLACE])
    mine = vector(FIRST, weights)
    assert cosine(mine, vector(AGAIN, weights)) >= weights.threshold == SAME_MATTER
    assert cosine(mine, vector(TEMPLATE_OTHER_PLACE, weights)) < SAME_MATTER
    assert abs(cosine(mine, mine) - 1.0) < 1e-9 and cosine(mine, vector("", weights)) == 0.0


def test_rare_ngrams_weigh_more_than_common_ones():
    weights = Frequencies.of(CORPUS)
    assert weights.idf["请"] < weights.idf["路灯"] < weights.rarest == weights.rarest
    assert "搅拌" not in weights.counts  # never seen: weighs as the rarest
    v = vector(prepare("", "搅拌站请处理"), weights)
    assert v["搅拌"] > v["处理"] > v["请"]


def test_frequencies_keep_no_ngram_of_a_single_text():
    weights = Frequencies.of([*CORPUS, prepare("", "欧阳娜娜住在丽发新城")])
    assert weights.documents == len(CORPUS) + 1
    assert all(n >= 2 for n in weights.counts.values())
    assert "丽发" not in weights.counts and "相关" in weights.counts


def test_without_a_model_every_ngram_weighs_the_same_and_the_bar_is_higher():
    assert UNIFORM.threshold == SAME_MATTER_EQUAL_WEIGHTS > SAME_MATTER
    v = vector(prepare("", "噪音噪音扰民"), UNIFORM)
    assert v["噪"] > v["扰"]  # only the count differs (1 + ln 2 against 1)


def test_ngrams_are_units_and_pairs_within_runs():
    assert ngrams("路灯坏了，13900000000") == ["路", "灯", "坏", "了", "路灯", "灯坏", "坏了", "13900000000"]
    assert ngrams(prepare("", "电话13912345678")) == ["电", "话", "<phone>", "电话", "话<phone>"]
