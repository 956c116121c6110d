"""Chinese text processing shared by search (``core.search``) and triage (``huiyin.triage``).

* ``normalize``: Unicode NFKC (full-width letters, digits and punctuation to half width),
  traditional to simplified characters (OpenCC's ``t2s``), lower case, one space for any run
  of white space. Search documents and queries and every text a model sees pass through it,
  so 「電話」 and 「电话」, 「１２３」 and 「123」 are the same word everywhere.
* ``mask``: phone numbers, ID numbers, e-mail addresses, other long digit runs and personal
  names replaced by placeholders — before any text enters a model or a model file.
  Names: the ones given (a case's parties), a surname followed by a form of address
  (张先生, 李女士, 王师傅 → 某先生, 某女士, 某师傅) and what follows "我叫" / "姓名：".
* ``units`` / ``char_ngrams``: a text as units (one CJK character, one Latin word or number,
  one placeholder) in runs broken by punctuation and space, and the n-grams of each run.
* ``words``: segmentation into words (jieba's dictionary and algorithm, through ``rjieba``,
  its Rust implementation), punctuation dropped, placeholders kept whole.
* ``prepare``: title and text as a model sees them: normalised, then masked.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import opencc

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# Placeholders: what a masked value becomes. Plain text, so a model can learn from
# "a phone number was given" without ever seeing one.
PHONE, ID_NUMBER, NUMBER, EMAIL = "<phone>", "<id>", "<number>", "<email>"
NAME = "某某"
PLACEHOLDERS = (PHONE, ID_NUMBER, NUMBER, EMAIL)

_SPACE = re.compile(r"\s+")


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalize(text: str | None) -> str:
    """NFKC, traditional → simplified, lower case, runs of white space as one space."""
    if not text:
        return ""
    value = unicodedata.normalize("NFKC", text)
    value = _converter().convert(value)
    return _SPACE.sub(" ", value).strip().lower()


# --- masking -------------------------------------------------------------------------------

# Mobile numbers (optionally +86, optionally grouped 3-4-4), landlines with an area code.
_MOBILE = re.compile(r"(?<![0-9a-z])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9a-z])")
_LANDLINE = re.compile(r"(?<![0-9a-z])(?:\(?0\d{2,3}\)?[- ]?)\d{7,8}(?:-\d{1,5})?(?![0-9a-z])")
# Resident ID numbers: 18 characters (the last may be x), or the old 15 digits.
_ID = re.compile(r"(?<![0-9a-z])(?:\d{17}[\dx]|\d{15})(?![0-9a-z])")
_EMAIL = re.compile(r"[0-9a-z._%+-]+@[0-9a-z.-]+\.[a-z]{2,}")
# Any other run of 7 or more digits (bank cards, QQ numbers, licence numbers, local numbers).
_LONG_DIGITS = re.compile(r"(?<![0-9a-z])\d{7,}(?![0-9a-z])")

# Common surnames (百家姓, the most frequent, and the compound ones): a surname followed by
# a form of address is a person. Left out: surnames that are everyday function words
# (和 时 全 应 明 向 于 成 商 师 连 与), which would mask "我和老师" as a name.
_COMPOUND_SURNAMES = "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 端木 独孤 南宫 西门"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简车项芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝"
)
_TITLES = (
    "先生|女士|小姐|阿姨|大爷|大妈|大姐|大哥|大叔|奶奶|爷爷|师傅|老师|同学|医生|护士|律师|经理|主任|科长|处长"
    "|局长|市长|区长|县长|镇长|乡长|村长|书记|校长|院长|老板|总经理|董事长|警官|队长|组长|站长|所长|同志"
)
_TITLED_NAME = re.compile(rf"(?:{'|'.join(_COMPOUND_SURNAMES.split())}|[{_SURNAMES}])(?=(?:{_TITLES}))")
# "我叫张三" / "姓名：张三" / "联系人 张三": the two or three characters after the cue.
_CUED_NAME = re.compile(rf"(我叫|我姓|本人姓名|姓名|联系人|反映人|举报人|投诉人)([:：\s]*)([{_CJK}]{{2,3}})")
_NOT_A_NAME = re.compile(r"^(不详|未知|匿名|保密|是|为|在|的)")


def _mask_cued(match: re.Match[str]) -> str:
    cue, gap, name = match.groups()
    if _NOT_A_NAME.match(name) or name.startswith("某"):
        return match.group(0)
    return cue + gap + NAME


def mask(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with phone and ID numbers, e-mail addresses, long digit runs and names
    replaced by placeholders. Expects a ``normalize``-d text (half-width digits, lower case);
    ``names``: the people the text may name (a case's parties), masked wherever they occur
    (normalised the same way, longest first, and a lone surname + form of address too)."""
    if not text:
        return ""
    value = _EMAIL.sub(EMAIL, text)
    value = _ID.sub(ID_NUMBER, value)
    value = _MOBILE.sub(PHONE, value)
    value = _LANDLINE.sub(PHONE, value)
    value = _LONG_DIGITS.sub(NUMBER, value)
    for name in sorted({normalize(n) for n in names if n and len(normalize(n)) >= 2}, key=len, reverse=True):
        value = value.replace(name, NAME)
    value = _CUED_NAME.sub(_mask_cued, value)
    return _TITLED_NAME.sub("某", value)


def prepare(title: str | None, text: str | None, names: Iterable[str] = ()) -> str:
    """What a model sees of a matter: title and text joined, normalised, masked."""
    joined = "\n".join(part for part in (title or "", text or "") if part)
    return mask(normalize(joined), names)


# --- units, n-grams, words -----------------------------------------------------------------

_PLACEHOLDER = "|".join(re.escape(p) for p in PLACEHOLDERS)
# A unit: a placeholder, one CJK character, or one Latin word / number. Anything else
# (punctuation, space, symbols) ends a run.
_UNIT = re.compile(rf"({_PLACEHOLDER})|([{_CJK}])|([0-9a-z]+)|([^{_CJK}0-9a-z<]+|<)")


def runs(text: str) -> list[list[str]]:
    """The text as runs of units, split at punctuation and space."""
    out: list[list[str]] = []
    current: list[str] = []
    for placeholder, cjk, word, other in _UNIT.findall(text):
        unit = placeholder or cjk or word
        if unit:
            current.append(unit)
        elif other and current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def char_ngrams(text: str, n_min: int = 1, n_max: int = 3) -> list[str]:
    """Every n-gram of units (n_min ≤ n ≤ n_max) within each run, in text order."""
    grams: list[str] = []
    for run in runs(text):
        size = len(run)
        for i in range(size):
            for n in range(n_min, n_max + 1):
                if i + n > size:
                    break
                grams.append("".join(run[i : i + n]) if n > 1 else run[i])
    return grams


_WORDLIKE = re.compile(rf"[{_CJK}0-9a-z]")
_SPLIT_PLACEHOLDERS = re.compile(rf"({_PLACEHOLDER})")


def words(text: str) -> list[str]:
    """Words (jieba's segmentation), placeholders kept whole, punctuation and space dropped."""
    import rjieba  # its dictionary loads in about 0.3 s: only in processes that segment words

    out: list[str] = []
    for piece in _SPLIT_PLACEHOLDERS.split(text):
        if not piece:
            continue
        if piece in PLACEHOLDERS:
            out.append(piece)
            continue
        out.extend(w for w in rjieba.cut(piece) if _WORDLIKE.search(w))
    return out


# --- place names -----------------------------------------------------------------------------

# What names a particular place in a complaint: an estate, a school, a company, a site, a road
# (丽发新城, 伊景园滨河苑, 经济学院, 劳动东路). Neighbours writing about the same thing in their own
# words share little text but name the same place; hot issues link them by it.
_PLACE_KINDS = (
    "小区|花园|新城|家园|新村|公寓|大厦|广场|学校|学院|中学|小学|幼儿园|医院|公司|集团|市场|商场|"
    "工地|搅拌站|公园|楼盘|苑|厂|路|街"
)
# 路 and 街 also begin common words that name no place (路况, 路灯, 路边, 街头, 街道): a kind
# followed by one of those is no place kind.
_PLACE = re.compile(
    rf"([{_CJK}0-9a-z]{{2,8}}?)({_PLACE_KINDS})(?<!路(?=[况灯面边过费线人上程径子牌由障]))(?<!街(?=[头边上坊道]))"
)
# A caller's words run into the name ("来电人想咨询路况", "我想问路边"): no place name holds them.
_REPORTING = re.compile("咨询|反映|投诉|举报|来电|询问|希望|要求|市民|想|问|说|称|请")
# Words that precede a kind without naming a place (我们小区, 附近的工地, 该公司...).
_NOT_A_PLACE = re.compile(
    r"^(我们|你们|他们|我家|我所在|所在|附近|周边|这个|那个|一个|该|本|此|这|那|各|的|在|和|与|是|请|了|对)"
)
_NOT_A_PLACE_END = ("的", "在", "和", "与", "是", "个", "些")
# What a company's or a site's name ends in whatever it is (有限公司, 物业公司, 建设工地): alone,
# they name no particular one.
_GENERIC_ENDS = (
    "有限",
    "责任",
    "股份",
    "物业",
    "开发",
    "建设",
    "置业",
    "投资",
    "服务",
    "管理",
    "工程",
    "发展",
    "实业",
    "科技",
    "住宅",
    "建筑",
    "施工",
    "公交",
    "高速",
    "商业",
    "配套",
)


def place_names(text: str) -> frozenset[str]:
    """The place names in a normalised text (``normalize`` or ``prepare``), each also without
    the words run into it in front ("街道丽发新城" also gives "丽发新城"): two texts naming the
    same place share one whatever precedes it."""
    found: set[str] = set()
    for match in _PLACE.finditer(text):
        name, kind = match.group(1), match.group(2)
        for start in range(len(name) - 1):
            core = name[start:]
            if (
                _NOT_A_PLACE.match(core)
                or core.endswith(_NOT_A_PLACE_END)
                or core.endswith(_GENERIC_ENDS)
                or _REPORTING.search(core)
            ):
                continue
            found.add(core + kind)
    return frozenset(found)
