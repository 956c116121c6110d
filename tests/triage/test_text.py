"""The Chinese text processing shared by search and triage (``core.chinese``)."""

from __future__ import annotations

import pytest

from huiyin.core import search
from huiyin.core.chinese import EMAIL, ID_NUMBER, NAME, NUMBER, PHONE, char_ngrams, mask, normalize, prepare, words


def test_normalize_folds_width_script_and_case():
    assert normalize("電話號碼１２３ＡＢＣ　　頭髮") == "电话号码123abc 头发"
    assert normalize(None) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("电话13812345678", f"电话{PHONE}"),
        ("电话 138-1234-5678 找", f"电话 {PHONE} 找"),
        ("+86 13812345678", PHONE),
        ("固话0731-84561234转", f"固话{PHONE}转"),
        ("身份证110101199003071234", f"身份证{ID_NUMBER}"),
        ("身份证43010419850612123x", f"身份证{ID_NUMBER}"),
        ("邮箱 zhang.san@qq.com", f"邮箱 {EMAIL}"),
        ("银行卡6222021234567890123", f"银行卡{NUMBER}"),
        ("我叫王小明，住", f"我叫{NAME},住"),
        ("联系人：刘德华", f"联系人:{NAME}"),
        ("张先生和李女士说王师傅来过", "某先生和某女士说某师傅来过"),
        ("欧阳先生", "某先生"),
    ],
)
def test_mask_replaces_personal_data(raw, expected):
    assert mask(normalize(raw)) == expected


def test_mask_keeps_ordinary_words():
    # 和/向/于 are surnames too, but here they are words; 2019年 and 12号 are no phone numbers.
    text = normalize("我和老师向学校反映，2019年住在幸福路12号，姓名不详")
    assert mask(text) == text


def test_mask_names_given_by_the_case():
    assert mask(normalize("周杰伦又来投诉周杰伦的邻居"), names=["周杰伦"]) == f"{NAME}又来投诉{NAME}的邻居"


def test_prepare_normalises_before_masking():
    assert prepare("投訴", "電話１３８１２３４５６７８") == f"投诉 电话{PHONE}"


def test_char_ngrams_stay_within_runs_and_keep_placeholders_whole():
    grams = char_ngrams(f"油烟扰民，{PHONE}", 1, 2)
    assert grams == ["油", "油烟", "烟", "烟扰", "扰", "扰民", "民", PHONE]
    assert "民，" not in grams


def test_words_segment_and_drop_punctuation():
    assert words(f"楼下烧烤店油烟扰民！电话{PHONE}") == ["楼下", "烧烤店", "油烟", "扰民", "电话", PHONE]


def test_search_shares_the_normalisation():
    # A traditional or full-width query finds the simplified document and the other way round.
    assert search.document("電梯故障") == search.document("电梯故障")
    assert search.query_phrases("ＡＢＣ電梯") == [["abc"], ["电梯"]]
