"""Demo data: a city hotline centre, its staff and categories, and realistic cases.

Three parts:

* ``build_organization()`` creates (idempotently) the demo organisation
  示范市12345政务服务便民热线中心 with its department tree, one login per role and
  a category tree, and returns them as a :class:`DemoOrg`.
* ``generate_case_specs()`` yields :class:`CaseSpec` records: pure Python, no
  database, deterministic per seed and fast enough to feed a bulk insert of a
  million rows. Each spec carries the matter (channel, nature, category, text,
  complainant...) and the state the case should end in.
* ``huiyin.demo.history.populate()`` plays the specs through the real services,
  each step by the staff member it belongs to at the moment it happened, so every
  demo case has a genuine, dated event history.

Nothing in the spec generator touches the database; ``build_organization`` does.
"""

from __future__ import annotations

import bisect
import itertools
import random
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker.providers.person.zh_CN import Provider as _FakerPerson
from faker.providers.phone_number.zh_CN import Provider as _FakerPhone

from huiyin.cases.inputs import PartyInput
from huiyin.cases.models import Case, Category
from huiyin.cases.workflow import channel_acceptor
from huiyin.core.validators import id_check_digit
from huiyin.orgs.models import Department, Organization, Staff

from . import texts

DEMO_CODE = "demo"
DEMO_NAME = "示范市12345政务服务便民热线中心"
DEMO_PASSWORD = "huiyin2026"
DEMO_URL = "http://127.0.0.1:8000/"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# --- the organisation ----------------------------------------------------------------

# code, name, parent code, handles cases
DEPARTMENTS: tuple[tuple[str, str, str | None, bool], ...] = (
    ("intake", "受理中心", None, False),
    ("city", "城市管理局", None, True),
    ("cityenv", "市容环境科", "city", True),
    ("housing", "住房和城乡建设局", None, True),
    ("property", "物业监管科", "housing", True),
    ("eco", "生态环境局", None, True),
    ("transport", "交通运输局", None, True),
    ("hrss", "人力资源和社会保障局", None, True),
    ("market", "市场监督管理局", None, True),
    ("health", "卫生健康委员会", None, True),
    ("edu", "教育局", None, True),
    ("water", "水务集团", None, True),
    # The bureau's office, whose website staff accept online complaints (the city hotline
    # preset's acceptance_grounds.accepted_by: 办公室网络维护工作人员负责对网上投诉案件的受理).
    ("office", "办公室", None, False),
)


@dataclass(frozen=True)
class StaffDef:
    username: str
    full_name: str
    roles: tuple[str, ...]
    department: str | None = None
    title: str = ""  # shown in the login table (主任, 科长...)


# Central desk first, then each department's head and handlers.
STAFF: tuple[StaffDef, ...] = (
    StaffDef("clerk", "王丽娟", ("intake_clerk",), "intake", "接线员"),
    StaffDef("clerk2", "陈晓燕", ("intake_clerk",), "intake", "接线员"),
    StaffDef("clerk3", "刘建军", ("intake_clerk",), "intake", "受理员"),
    StaffDef("reception", "赵敏", ("reception",), "intake", "来访接待员"),
    StaffDef("leader", "周国华", ("leader",), None, "中心主任"),
    StaffDef("supervisor", "孙志刚", ("supervisor",), "intake", "督办员"),
    StaffDef("callback", "杨雪", ("callback_officer",), "intake", "回访员"),
    StaffDef("analyst", "吴静", ("analyst",), None, "统计分析员"),
    StaffDef("admin", "郑凯", ("admin",), None, "系统管理员"),
    StaffDef("head_city", "李卫东", ("dept_head",), "city", "科长"),
    StaffDef("handler_city", "张磊", ("handler",), "city"),
    StaffDef("handler_city2", "黄志强", ("handler",), "city"),
    StaffDef("head_cityenv", "何建平", ("dept_head",), "cityenv", "科长"),
    StaffDef("handler_cityenv", "马俊", ("handler",), "cityenv"),
    StaffDef("handler_cityenv2", "罗小红", ("handler",), "cityenv"),
    StaffDef("head_housing", "林国栋", ("dept_head",), "housing", "科长"),
    StaffDef("handler_housing", "高翔", ("handler",), "housing"),
    StaffDef("head_property", "郭美玲", ("dept_head",), "property", "科长"),
    StaffDef("handler_property", "许文涛", ("handler",), "property"),
    StaffDef("handler_property2", "邓丽", ("handler",), "property"),
    StaffDef("head_eco", "梁振华", ("dept_head",), "eco", "科长"),
    StaffDef("handler_eco", "宋佳", ("handler",), "eco"),
    StaffDef("handler_eco2", "谢明", ("handler",), "eco"),
    StaffDef("head_transport", "韩立新", ("dept_head",), "transport", "科长"),
    StaffDef("handler_transport", "唐亮", ("handler",), "transport"),
    StaffDef("head_hrss", "冯雪梅", ("dept_head",), "hrss", "科长"),
    StaffDef("handler_hrss", "曹阳", ("handler",), "hrss"),
    StaffDef("handler_hrss2", "彭海燕", ("handler",), "hrss"),
    StaffDef("head_market", "曾志远", ("dept_head",), "market", "科长"),
    StaffDef("handler_market", "萧婷", ("handler",), "market"),
    StaffDef("handler_market2", "田野", ("handler",), "market"),
    StaffDef("head_health", "董慧", ("dept_head",), "health", "科长"),
    StaffDef("handler_health", "潘伟", ("handler",), "health"),
    StaffDef("head_edu", "袁晓东", ("dept_head",), "edu", "科长"),
    StaffDef("handler_edu", "蒋芳", ("handler",), "edu"),
    StaffDef("head_water", "蔡永明", ("dept_head",), "water", "经理"),
    StaffDef("handler_water", "余强", ("handler",), "water"),
    StaffDef("webmaster", "钱伟", ("intake_clerk",), "office", "网络维护员"),
)


class DemoConflict(RuntimeError):
    """A demo username is already taken by someone outside the demo organisation."""


@dataclass
class DemoOrg:
    org: Organization
    departments: dict[str, Department]  # by code
    staff: dict[str, Staff]  # by username
    categories: dict[str, Category]  # leaves by full name ("城乡建设/住房保障与物业/物业管理")
    routing: dict[str, Department]  # leaf full name -> the department that handles it


def demo_logins(staff: Iterable[Staff]) -> list[tuple[str, str, str, str]]:
    order = {d.username: i for i, d in enumerate(STAFF)}
    titles = {d.username: d.title for d in STAFF}
    rows = []
    for s in sorted(staff, key=lambda s: (order.get(s.username, len(order)), s.username)):
        role = "、".join(s.role_labels())
        if titles.get(s.username) and titles[s.username] not in role:
            role = f"{role}（{titles[s.username]}）"
        dept = s.department.name if s.department is not None else "—"
        rows.append((s.username, f"{role} {s.full_name}", dept, DEMO_PASSWORD))
    return rows


def build_organization(code: str = DEMO_CODE, name: str = DEMO_NAME) -> DemoOrg:
    """Create or complete the demo organisation; running it again changes nothing."""
    with transaction.atomic():
        # Demo callers' numbers are made up: never text them, whatever SMS backend is set.
        org, _ = Organization.objects.get_or_create(
            code=code, defaults={"name": name, "hotline": "12345", "notify_complainants": False}
        )
        if org.hotline != "12345" or org.notify_complainants:
            org.hotline, org.notify_complainants = "12345", False
            org.save(update_fields=["hotline", "notify_complainants"])

        departments: dict[str, Department] = {}
        for order, (dcode, dname, parent_code, handles) in enumerate(DEPARTMENTS, start=1):
            dept, _ = Department.objects.get_or_create(
                organization=org,
                code=dcode,
                defaults={
                    "name": dname,
                    "parent": departments.get(parent_code or ""),
                    "handles_cases": handles,
                    "sort_order": order * 10,
                },
            )
            departments[dcode] = dept

        existing = {s.username: s for s in Staff.objects.filter(username__in=[d.username for d in STAFF])}
        foreign = sorted(u for u, s in existing.items() if s.organization_id != org.pk)
        if foreign:
            raise DemoConflict(
                "用户名已被其他单位或账号占用 / usernames already taken outside the demo "
                f"organisation: "
                f"{', '.join(foreign)}"
            )
        password = None
        staff: dict[str, Staff] = {}
        for d in STAFF:
            s = existing.get(d.username)
            if s is None:
                password = password or make_password(DEMO_PASSWORD)  # hash once, share (it is a demo)
                # The administrator is the organisation's, in the product (人员与部门): not a
                # Django superuser, whose /admin/ sees every organisation.
                s = Staff(
                    username=d.username,
                    full_name=d.full_name,
                    organization=org,
                    department=departments[d.department] if d.department else None,
                    roles=list(d.roles),
                    password=password,
                    is_staff=False,
                    is_superuser=False,
                )
                s.save()
            elif s.is_superuser or s.is_staff:  # made by an older demo: the same in-product administrator now
                s.is_superuser = s.is_staff = False
                s.save(update_fields=["is_superuser", "is_staff"])
            staff[d.username] = s

        categories: dict[str, Category] = {}
        routing: dict[str, Department] = {}
        nodes: dict[str, Category] = {c.full_name: c for c in Category.objects.filter(organization=org)}
        for leaf in texts.LEAVES:
            parts = leaf.path.split("/")
            parent = None
            for depth in range(1, len(parts) + 1):
                full = "/".join(parts[:depth])
                node = nodes.get(full)
                if node is None:
                    node = Category.objects.create(
                        organization=org, parent=parent, name=parts[depth - 1], full_name=full
                    )
                    node.path = f"{parent.path if parent else '/'}{node.pk}/"
                    node.save(update_fields=["path"])
                    nodes[full] = node
                parent = node
            assert parent is not None  # the leaf: a path has at least one part
            tags = texts.CATEGORY_TAGS.get(leaf.path, "")
            if tags and not parent.tags:  # the administrator's own tags, once set, stay
                parent.tags = tags
                parent.save(update_fields=["tags"])
            categories[leaf.path] = parent
            routing[leaf.path] = departments[leaf.dept]
    return DemoOrg(org=org, departments=departments, staff=staff, categories=categories, routing=routing)


# --- case specs (pure, no database) ----------------------------------------------------


PartySpec = PartyInput  # a spec's party is exactly what registration takes


@dataclass(slots=True)
class ContactSpec:
    channel: str
    text: str
    occurred_at: datetime


@dataclass(slots=True)
class CaseSpec:
    """One matter as it arrived and how far it should get.

    ``decision`` is the intake decision ("" = not yet decided, "accept",
    "not_accept", "return", "transfer", "answer_on_spot"); ``target_state`` a
    :class:`~huiyin.cases.workflow.CaseState` value. ``reopened``: the first
    round was replied, the callback found the complainant dissatisfied and the
    case was reopened before reaching its target. ``misrouted_to``: a department
    code the case was first dispatched to by mistake and sent back from.
    """

    index: int
    channel: str
    nature: str
    category: str  # leaf full name, a key of DemoOrg.categories
    department: str  # code of the department that handles the category
    urgency: str
    title: str
    text: str
    location: str
    received_at: datetime
    party: PartySpec
    group_size: int = 1
    representatives: tuple[PartySpec, ...] = ()
    forwarded_by: str = ""
    forwarded_ref: str = ""
    decision: str = ""
    target_state: str = "registered"
    reopened: bool = False
    misrouted_to: str = ""
    satisfaction: str = ""
    reply: str = ""
    decision_note: str = ""  # not-accept ground, return reason or transfer body
    refer_to: str = ""  # body to turn to (not accepted) or returned to
    repeat_contacts: tuple[ContactSpec, ...] = field(default=())


class _Weighted:
    """Weighted choice by bisection over cumulative weights (faster than random.choices)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Iterable[tuple[Any, float]]):
        pairs = [(item, w) for item, w in pairs if w > 0]
        self.items = [item for item, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]
        self.cum[-1] = float("inf")  # rnd * total never falls off the end, even rounded up

    def pick(self, rnd: float) -> Any:
        return self.items[bisect.bisect_right(self.cum, rnd * self.total)]


CHANNELS = _Weighted(
    [
        ("phone", 60),
        ("online", 15),
        ("visit", 6),
        ("letter", 4),
        ("email", 3),
        ("mailbox", 3),
        ("fax", 1),
        ("forwarded", 5),
        ("media", 3),
    ]
)
NATURES = _Weighted(
    [
        ("complaint", 55),
        ("consultation", 16),
        ("help", 10),
        ("report", 9),
        ("suggestion", 6),
        ("praise", 4),
    ]
)
HOURS = _Weighted(
    enumerate(
        (
            1,
            0.5,
            0.3,
            0.3,
            0.3,
            0.5,
            1.2,
            3,
            8,
            12,
            12,
            11,
            7,
            9,
            11,
            11,
            10,
            8,
            5,
            4,
            3.5,
            3,
            2,
            1.5,
        )
    )
)
SURNAMES = _Weighted(_FakerPerson.last_names.items())
MALE_GIVEN = (
    *_FakerPerson.first_names_male,
    "志明",
    "海涛",
    "国庆",
    "晓东",
    "振华",
    "子轩",
    "浩然",
    "宇航",
    "永刚",
)
FEMALE_GIVEN = (
    *_FakerPerson.first_names_female,
    "晓燕",
    "雨萱",
    "欣怡",
    "思琪",
    "美玲",
    "佳怡",
    "素芬",
)
MOBILE_PREFIXES = (
    *(str(p) for p in _FakerPhone.phonenumber_prefixes),
    "173",
    "177",
    "176",
    "199",
    "198",
    "166",
)
ID_REGIONS = (
    "330102",
    "330105",
    "330106",
    "330108",
    "330110",
    "330182",
    "330411",
    "330621",
    "330327",
    "340102",
    "362502",
    "410102",
    "511102",
    "430102",
    "320106",
    "420106",
)
REPEAT_COUNTS = _Weighted([(0, 70), (1, 18), (2, 8), (3, 4)])
SATISFACTION = _Weighted([("satisfied", 74), ("basically_satisfied", 26)])
# Lifecycle progress by the case's age in days (older cases are mostly done).
PROGRESS_ORDER = (
    "registered",
    "accepted",
    "dispatched",
    "in_progress",
    "pending_approval",
    "replied",
    "closed",
    "archived",
)
PROGRESS_BY_AGE = (
    (1, _Weighted(zip(PROGRESS_ORDER, (20, 10, 25, 30, 8, 4, 3, 0), strict=True))),
    (3, _Weighted(zip(PROGRESS_ORDER, (4, 4, 12, 40, 15, 10, 15, 0), strict=True))),
    (10, _Weighted(zip(PROGRESS_ORDER, (0, 1, 4, 28, 10, 16, 41, 0), strict=True))),  # none left undecided for days
    (30, _Weighted(zip(PROGRESS_ORDER, (0, 0, 2, 14, 5, 12, 55, 12), strict=True))),
    (90, _Weighted(zip(PROGRESS_ORDER, (0, 0, 0, 4, 1, 5, 50, 40), strict=True))),
    (float("inf"), _Weighted(zip(PROGRESS_ORDER, (0, 0, 0, 1, 0, 1, 28, 70), strict=True))),
)
ON_SPOT = {
    "consultation": 0.6,
    "praise": 0.45,
    "suggestion": 0.05,
    "complaint": 0.03,
    "help": 0.02,
    "report": 0.0,
}
ANONYMOUS = {
    "mailbox": 0.4,
    "media": 0.7,
    "online": 0.1,
    "email": 0.05,
    "visit": 0.0,
}  # a visitor is registered at the window
WITH_ID = {"visit": 0.7, "letter": 0.4, "forwarded": 0.5, "fax": 0.2}
WITH_ADDRESS = {"visit": 0.8, "letter": 0.9, "forwarded": 0.9, "fax": 0.6}
DECISION_STATE = {"not_accept": "not_accepted", "return": "returned", "transfer": "transferred"}


def _compile() -> dict[str, _Weighted]:
    """Per nature: a weighted choice of (leaf, templates) pairs."""
    table: dict[str, list[tuple[tuple[texts.Leaf, tuple[texts.T, ...]], float]]] = {}
    for nature in NATURES.items:
        generic = texts.GENERIC.get(nature, ())
        for leaf in texts.LEAVES:
            own = tuple(t for t in leaf.templates if t.nature == nature)
            # A category's own templates are more specific: favour them over the generic ones.
            pool = own * 3 + generic if own else generic
            if pool:
                weight = leaf.weight * (3 if own and generic else 1)
                table.setdefault(nature, []).append(((leaf, pool), weight))
    return {nature: _Weighted(pairs) for nature, pairs in table.items()}


TEMPLATES = _compile()


Slots = dict[str, str]
Rnd = Callable[[], float]


def _c(r: Rnd, seq: Sequence[str]) -> str:
    return seq[int(r() * len(seq))]


def _n(r: Rnd, lo: int, hi: int) -> int:
    return lo + int(r() * (hi - lo + 1))


def _other_road(r: Rnd, d: Slots) -> str:
    other = _c(r, texts.ROADS)
    return other if other != d["road"] else "学院路" if d["road"] != "学院路" else "人民路"


def _plate(r: Rnd, d: Slots) -> str:
    if r() < 0.6:
        return f"浙A·T{_n(r, 0, 9999):04d}"
    return f"浙A·{_c(r, texts.PLATE_LETTERS)}{_n(r, 10000, 99999)}"


# How each template field is filled; a field's dependencies are filled first, so
# title, text and location of one case name the same estate, road, shop...
_SLOT: dict[str, Callable[[Rnd, Slots], str]] = {
    "estate": lambda r, d: _c(r, texts.ESTATES),
    "b": lambda r, d: str(_n(r, 1, 28)),
    "home": lambda r, d: f"{d['estate']}{d['b']}幢{_n(r, 1, 4)}单元{_n(r, 1, 32)}{_n(r, 1, 4):02d}室",
    "road": lambda r, d: _c(r, texts.ROADS),
    "road2": _other_road,
    "roadno": lambda r, d: f"{d['road']}{_n(r, 1, 399)}号",
    "crossing": lambda r, d: f"{d['road']}与{d['road2']}交叉口",
    "place": lambda r, d: _c(r, texts.PLACES),
    "prefix": lambda r, d: _c(r, texts.NAME_PREFIXES),
    "shop": lambda r, d: d["prefix"] + _c(r, texts.SHOP_KINDS),
    "shopnoise": lambda r, d: d["prefix"] + _c(r, texts.NOISY_KINDS),
    "mart": lambda r, d: d["prefix"] + _c(r, texts.MART_KINDS),
    "store": lambda r, d: d["prefix"] + _c(r, texts.STORE_KINDS),
    "training": lambda r, d: d["prefix"] + _c(r, texts.TRAINING_KINDS),
    "travel": lambda r, d: d["prefix"] + "旅行社",
    "corp": lambda r, d: d["prefix"] + _c(r, texts.CORP_KINDS),
    "pcorp": lambda r, d: d["prefix"] + _c(r, texts.PCORP_KINDS),
    "school": lambda r, d: _c(r, texts.SCHOOLS),
    "hospital": lambda r, d: _c(r, texts.HOSPITALS),
    "bus": lambda r, d: f"{'K' if r() < 0.2 else ''}{_n(r, 1, 120)}路公交车",
    "plate": _plate,
    "ntime": lambda r, d: _c(r, texts.NIGHT_TIMES),
    "late": lambda r, d: _c(r, texts.LATE),
    "day": lambda r, d: _c(r, texts.DAYS_AGO),
    "dur": lambda r, d: _c(r, texts.DURATIONS),
    "days": lambda r, d: _c(r, texts.SHORT_DAYS),
    "years": lambda r, d: _c(r, texts.YEARS),
    "months": lambda r, d: _c(r, texts.MONTHS),
    "amount": lambda r, d: str(_n(r, 5, 200) * 100),
    "bigamount": lambda r, d: f"{_n(r, 5, 90)}万",
    "fee": lambda r, d: str(_n(r, 2, 39) * 10),
    "fare": lambda r, d: str(_n(r, 25, 180)),
    "parkfee": lambda r, d: str(_n(r, 45, 79) * 10),
    "workers": lambda r, d: str(_n(r, 8, 60)),
    "ndays": lambda r, d: str(_n(r, 2, 30)),
}
_DEPS = {
    "home": ("estate", "b"),
    "road2": ("road",),
    "roadno": ("road",),
    "crossing": ("road", "road2"),
    **dict.fromkeys(("shop", "shopnoise", "mart", "store", "training", "travel", "corp", "pcorp"), ("prefix",)),
}
_KEYS: dict[str, tuple[str, ...]] = {}


def _keys_of(fmt: str) -> tuple[str, ...]:
    """The fields a format string needs, dependencies first (cached per string)."""
    keys = _KEYS.get(fmt)
    if keys is None:
        ordered: list[str] = []

        def add(key: str) -> None:
            for dep in _DEPS.get(key, ()):
                add(dep)
            if key not in ordered:
                ordered.append(key)

        for _, name, _, _ in string.Formatter().parse(fmt):
            if name:
                add(name)
        keys = _KEYS[fmt] = tuple(ordered)
    return keys


def _fill(fmt: str, d: Slots, r: Rnd) -> str:
    for key in _keys_of(fmt):
        if key not in d:
            d[key] = _SLOT[key](r, d)
    return fmt.format_map(d)


class _Days:
    """Days in [start, end] (local), weekdays weighted over weekends."""

    def __init__(self, start: datetime, end: datetime):
        first, last = start.date(), end.date()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        self.pick = _Weighted((d, 1.0 if d.weekday() < 5 else 0.55) for d in days).pick


def _received_at(rng: random.Random, days: _Days, start: datetime, end: datetime, tz: tzinfo) -> datetime:
    rnd = rng.random
    for _ in range(8):
        day: date = days.pick(rnd())
        at = datetime.combine(day, time(HOURS.pick(rnd()), int(rnd() * 60), int(rnd() * 60)), tzinfo=tz)
        if start <= at <= end:
            return at
    return (start + (end - start) * rnd()).astimezone(tz)


def _name(rng: random.Random) -> tuple[str, bool]:
    male = rng.random() < 0.52
    given = MALE_GIVEN if male else FEMALE_GIVEN
    return SURNAMES.pick(rng.random()) + given[int(rng.random() * len(given))], male


def _mobile(rng: random.Random) -> str:
    return MOBILE_PREFIXES[int(rng.random() * len(MOBILE_PREFIXES))] + f"{int(rng.random() * 1e8):08d}"


def _id_number(rng: random.Random, male: bool) -> str:
    born = date(1945, 1, 1) + timedelta(days=int(rng.random() * 21900))  # 1945 .. 2004
    seq = int(rng.random() * 500) * 2 + (1 if male else 0)  # odd = male (GB 11643)
    first17 = f"{ID_REGIONS[int(rng.random() * len(ID_REGIONS))]}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def _party(rng: random.Random, channel: str, slots: Slots) -> PartySpec:
    rnd = rng.random
    if rnd() < ANONYMOUS.get(channel, 0.02):
        phone = _mobile(rng) if channel == "phone" or rnd() < 0.3 else ""
        return PartySpec(phone=phone, anonymous=True)
    name, male = _name(rng)
    if channel == "phone" and rnd() < 0.12:
        phone = f"0571-8{int(rnd() * 1e7):07d}"
    elif channel in ("letter", "mailbox", "media") and rnd() < 0.3:
        phone = ""
    else:
        phone = _mobile(rng)
    if channel == "phone" and rnd() < 0.08:
        name = ""  # the caller gave no name, only the number on the display
    id_number = _id_number(rng, male) if rnd() < WITH_ID.get(channel, 0.05) else ""
    address = ""
    if rnd() < WITH_ADDRESS.get(channel, 0.35):
        address = (
            f"示范市{texts.DISTRICTS[int(rnd() * len(texts.DISTRICTS))]}{_fill('{home}', slots, rnd)}"
            if rnd() < 0.7
            else f"示范市{texts.DISTRICTS[int(rnd() * len(texts.DISTRICTS))]}"
            f"{texts.ROADS[int(rnd() * len(texts.ROADS))]}{1 + int(rnd() * 399)}号"
        )
    affiliation = _fill("{corp}", slots, rnd) if channel == "fax" else ""
    # Derived without further draws (the generated sequence stays as it was): presets ask a
    # named complainant for a way to reach them, and a visit's register for gender, age
    # and work unit (来访登记).
    seed = sum(map(ord, name or phone or "x"))
    if name and not phone and not address:
        address = f"示范市{texts.DISTRICTS[seed % len(texts.DISTRICTS)]}"
    gender = ("male" if male else "female") if name else ""
    visit = channel == "visit" and bool(name)
    return PartySpec(
        name=name,
        phone=phone,
        id_number=id_number,
        address=address,
        affiliation=affiliation or ("无" if visit else ""),
        gender=gender,
        age=18 + seed % 60 if visit else None,
    )


def _outcome(rng: random.Random, nature: str, channel: str, age: float) -> tuple[str, str, bool]:
    """(decision, target state, reopened)."""
    rnd = rng.random
    progress = next(w for limit, w in PROGRESS_BY_AGE if age < limit).pick(rnd())
    r = rnd()
    p_return = 0.10 if channel in ("forwarded", "letter") else 0.004
    p_not, p_transfer = 0.03, 0.025
    if r < p_return:
        decision = "return"
    elif r < p_return + p_not:
        decision = "not_accept"
    elif r < p_return + p_not + p_transfer:
        decision = "transfer"
    elif r < p_return + p_not + p_transfer + ON_SPOT[nature]:
        decision = "answer_on_spot"
    else:
        decision = "accept"
    if progress == "registered":
        return "", "registered", False
    if decision in DECISION_STATE:
        archived = progress == "archived" or (age > 30 and rnd() < 0.6)
        return decision, "archived" if archived else DECISION_STATE[decision], False
    if decision == "answer_on_spot":
        return decision, progress if progress in ("closed", "archived") else "replied", False
    reopened = progress != "accepted" and rnd() < 0.05
    return decision, progress, reopened


def _fit(text: str, slots: Slots, rng: random.Random, polite: bool) -> str:
    """Between 50 and 300 characters, cut at a sentence end if ever too long."""
    fillers = list(texts.POLITE_FILLERS if polite else texts.FILLERS)
    while len(text) < 50 and fillers:
        text += _fill(fillers.pop(int(rng.random() * len(fillers))), slots, rng.random)
    if len(text) > 300:
        cut = text.rfind("。", 0, 300)
        text = text[: cut + 1] if cut >= 50 else text[:299] + "。"
    return text


def generate_case_specs(
    n: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo = SHANGHAI,
) -> Iterator[CaseSpec]:
    """Yield ``n`` case specs, the same ones for the same seed, start and end.

    ``received_at`` falls within [start, end] (default: the 180 days up to now),
    weighted towards working hours and weekdays in ``tz``; the target state
    depends on the case's age at ``end``. A prefix of a longer run equals a
    shorter run with the same arguments.
    """
    if end is None:
        end = datetime.now(tz)
    end = end.astimezone(tz) if end.tzinfo else end.replace(tzinfo=tz)
    if start is None:
        start = end - timedelta(days=180)
    start = start.astimezone(tz) if start.tzinfo else start.replace(tzinfo=tz)
    if start > end:
        raise ValueError("start must not be after end")
    rng = random.Random(seed)
    rnd = rng.random
    days = _Days(start, end)
    end_ts = end.timestamp()
    departments = [code for code, _, _, handles in DEPARTMENTS if handles]
    recent_parties: list[PartySpec] = []

    for index in range(n):
        channel = CHANNELS.pick(rnd())
        nature = NATURES.pick(rnd())
        leaf, pool = TEMPLATES[nature].pick(rnd())
        template: texts.T = pool[int(rnd() * len(pool))]
        received_at = _received_at(rng, days, start, end, tz)
        age = (end_ts - received_at.timestamp()) / 86400

        slots: Slots = {"who": texts.WHO[channel], "topic": leaf.topic}
        forwarded_by = forwarded_ref = ""
        if channel == "forwarded":
            forwarded_by, abbr = texts.FORWARDERS[int(rnd() * len(texts.FORWARDERS))]
            forwarded_ref = f"{abbr}〔{received_at.year}〕{1 + int(rnd() * 999)}号"
            slots["fwd"] = forwarded_by
        elif channel == "media":
            slots["platform"] = texts.MEDIA_PLATFORMS[int(rnd() * len(texts.MEDIA_PLATFORMS))]

        group_size = 1
        if channel == "visit":
            if template.group and rnd() < 0.6:
                group_size = 5 + int(rnd() * 36)
            elif rnd() < 0.15:
                group_size = 2 + int(rnd() * 5)
        if group_size > 1:
            slots["n"], slots["group"] = str(group_size), leaf.group_noun
            prefix = texts.GROUP_PREFIX
        else:
            prefixes = texts.PREFIXES[channel]
            prefix = prefixes[int(rnd() * len(prefixes))]
        suffixes = texts.SUFFIXES[channel]
        suffix = suffixes[int(rnd() * len(suffixes))]
        polite = nature in ("consultation", "suggestion", "praise")
        if polite and channel != "letter":
            suffix = ""  # "要求尽快处理" is for problems, not questions or thanks

        title = _fill(template.title, slots, rnd)
        body = _fill(template.text, slots, rnd)
        text = _fit(_fill(prefix, slots, rnd) + body + suffix, slots, rng, polite)
        location = _fill(template.loc, slots, rnd)
        if channel == "media":
            title = "【舆情】" + title

        if template.safety:
            urgency = "major" if rnd() < 0.05 else "urgent" if rnd() < 0.9 else "normal"
        elif group_size >= 20:
            urgency = "major"
        elif channel == "media" and rnd() < 0.25:
            urgency = "urgent"
        elif nature in ("complaint", "help", "report"):
            u = rnd()
            urgency = "major" if u < 0.005 else "urgent" if u < 0.035 else "normal"
        else:
            urgency = "normal"

        if recent_parties and rnd() < 0.05:  # a caller who has called before
            party = recent_parties[int(rnd() * len(recent_parties))]
        else:
            party = _party(rng, channel, slots)
            if not party.anonymous and party.phone:
                recent_parties.append(party)
                if len(recent_parties) > 200:
                    del recent_parties[0]
        representatives: tuple[PartySpec, ...] = ()
        if group_size >= 5:
            representatives = tuple(_party(rng, "visit", slots) for _ in range(1 + int(rnd() * 2)))

        decision, target, reopened = _outcome(rng, nature, channel, age)
        misrouted_to = ""
        if decision == "accept" and target != "registered" and rnd() < 0.05:
            others = [c for c in departments if c != leaf.dept]
            misrouted_to = others[int(rnd() * len(others))]
        satisfaction = (
            SATISFACTION.pick(rnd())
            if target in ("closed", "archived") and decision in ("accept", "answer_on_spot")
            else ""
        )
        reply = ""
        if decision in ("accept", "answer_on_spot"):
            replies = texts.REPLIES[nature]
            reply = _fill(replies[int(rnd() * len(replies))], slots, rnd)
        decision_note = refer_to = ""
        if decision == "not_accept":
            decision_note, refer_to = texts.NOT_ACCEPT_GROUNDS[int(rnd() * len(texts.NOT_ACCEPT_GROUNDS))]
        elif decision == "return":
            decision_note = texts.RETURN_REASONS[int(rnd() * len(texts.RETURN_REASONS))]
            refer_to = forwarded_by or "反映人"
        elif decision == "transfer":
            decision_note = texts.TRANSFER_BODIES[int(rnd() * len(texts.TRANSFER_BODIES))]

        repeats: list[ContactSpec] = []
        for _ in range(REPEAT_COUNTS.pick(rnd())):
            occurred = received_at + timedelta(hours=1 + rnd() * 288)
            repeat_channel = "phone" if rnd() < 0.8 else channel
            repeat_text = _fill(texts.REPEAT_TEXTS[int(rnd() * len(texts.REPEAT_TEXTS))], slots, rnd)
            # A call that would come after ``end`` has not come yet (drawn all the same, so the
            # specs after it stay as they were): held at ``end``, every such call would ring
            # at the very moment the demo was loaded.
            if occurred < end:
                repeats.append(ContactSpec(repeat_channel, repeat_text, occurred))
        repeats.sort(key=lambda c: c.occurred_at)

        yield CaseSpec(
            index=index,
            channel=channel,
            nature=nature,
            category=leaf.path,
            department=leaf.dept,
            urgency=urgency,
            title=title,
            text=text,
            location=location,
            received_at=received_at,
            party=party,
            group_size=group_size,
            representatives=representatives,
            forwarded_by=forwarded_by,
            forwarded_ref=forwarded_ref,
            decision=decision,
            target_state=target,
            reopened=reopened,
            misrouted_to=misrouted_to,
            satisfaction=satisfaction,
            reply=reply,
            decision_note=decision_note,
            refer_to=refer_to,
            repeat_contacts=tuple(repeats),
        )


# --- who acts in the stories (huiyin.demo.history) ---------------------------------------

# The handling lifecycle a story walks (huiyin.demo.history), in order.
LIFECYCLE = ("accepted", "dispatched", "in_progress", "pending_approval", "replied", "closed")


class _Cast:
    """Who does what in the demo organisation."""

    def __init__(self, demo: DemoOrg):
        staff = list(demo.staff.values())
        codes: dict[int | None, str] = {d.pk: code for code, d in demo.departments.items()}
        # The intake desk's clerks; a clerk of another department (the office's website staff)
        # decides acceptance only where the policy names that department (``acceptor``).
        desk = [s for s in staff if "intake_clerk" in s.roles]
        self.clerks = [s for s in desk if codes.get(s.department_id) in (None, "intake")] or desk
        self.desk_of: dict[str, Staff] = {}
        for s in desk:
            code = codes.get(s.department_id)
            if code is not None:
                self.desk_of.setdefault(code, s)
        self.reception = next((s for s in staff if "reception" in s.roles), None)
        self.leader = next(s for s in staff if "leader" in s.roles)
        self.callback = next(s for s in staff if "callback_officer" in s.roles)
        self.handlers: dict[int, list[Staff]] = {}
        self.heads: dict[int, Staff] = {}
        for s in staff:
            if s.department_id and "handler" in s.roles:
                self.handlers.setdefault(s.department_id, []).append(s)
            if s.department_id and "dept_head" in s.roles:
                self.heads.setdefault(s.department_id, s)

    def acceptor(self, case: Case, clerk: Staff) -> Staff:
        """Who decides the case's acceptance: the desk's ``clerk``, or the staff of the
        department the case's policy names for its channel (``workflow.channel_acceptor``)."""
        rule = channel_acceptor(case.stage_switches, case.channel)
        return self.desk_of.get(rule["department"], clerk) if rule else clerk

    def handler(self, department: Department, index: int) -> Staff:
        people = self.handlers.get(department.pk) or [self.heads[department.pk]]
        return people[index % len(people)]
