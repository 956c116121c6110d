"""Pinyin of Chinese names, for pickers that filter on what a person types: the initials
(劳动关系 → ``ldgx``) and the whole spelling without tones (``laodongguanxi``)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=8192)
def _syllables(text: str, initials: bool) -> str:
    # Imported on first use: pypinyin loads its dictionaries (a quarter of a second) on import,
    # which only the pages with a picker need, not every process at start-up.
    from pypinyin import Style, lazy_pinyin

    style = Style.FIRST_LETTER if initials else Style.NORMAL
    return "".join(lazy_pinyin(text, style=style)).lower().replace(" ", "")


def initials(text: str) -> str:
    """劳动和社会保障/劳动关系 → ``ldhshbz/ldgx``: the first letter of each character's syllable;
    other characters (letters, digits, ``/``) as they are, lower case."""
    return _syllables(text, True)


def spelled(text: str) -> str:
    """劳动关系 → ``laodongguanxi``: the syllables without tones, run together."""
    return _syllables(text, False)


def search_key(text: str) -> str:
    """What a picker matches typed letters against: the initials and the spelling."""
    return f"{initials(text)} {spelled(text)}"
