"""core.pinyin: what the category picker matches typed letters against."""

from __future__ import annotations

from huiyin.core.pinyin import initials, search_key, spelled


def test_pinyin_initials_and_spelling_for_the_pickers():
    assert initials("劳动和社会保障/劳动关系") == "ldhshbz/ldgx"
    assert spelled("拖欠工资") == "tuoqiangongzi"
    assert initials("A级景区") == "ajjq"
    assert search_key("银行") == "yh yinhang"  # the phrase's reading, not 银xing
