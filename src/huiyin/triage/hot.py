"""Hot issues (F52): groups of similar cases, ranked for a time window and an area by a heat
index, each with a representative text, its trend and the cases behind it.

Clusters are stored rows (``HotCluster``, ``HotMember``) kept by the event bus: a
registration or an edit of a case's text runs ``assign`` after commit. Two cases received
within ``LINK_DAYS`` of each other are linked when their texts' character 3-gram sets overlap
by ``SIMILAR`` (Jaccard) or more — copies and near copies — and still do once the wording
common to the organisation's texts is left out (a 12345 template shared by unrelated
consultations: ``similarity.boilerplate_pairs``, from the triage model's document
frequencies; nothing is left out without a model), or when both name the same place
(an estate, a school, a site: ``core.chinese.place_names``) and overlap by ``PLACE_SIMILAR``,
with their words apart from that place still overlapping by ``PLACE_TOPIC`` — neighbours each
writing their own letter about one thing. A cluster is a connected group of linked cases. The
candidates a case is compared with come from the MinHash bands repeat detection keeps
(``TextBand``, ``triage.minhash``) and from the ledger's full-text index for its place names,
so a case costs ``BANDS`` index probes, a few searches and a few exact comparisons, never a
scan of the ledger. Connected groups do not depend on the order
cases arrive in, so the incremental rows equal what ``rebuild`` (``huiyin triage hot
--rebuild``) makes from scratch; an edited text that no longer links a cluster splits it
(its other members are linked again among themselves).

The page reads the rows of one window (and the one before it, for growth): a GROUP BY on the
members received in it, never a clustering of the ledger per request.

Heat index of a cluster in a window (weights in ``WEIGHTS``)::

    heat = volume + complainants + 0.5 · max(0, volume − previous) + likes

``volume``: its cases received in the window; ``complainants``: their distinct complainants
(anonymous cases without a party count as none); ``previous``: its cases in the window of the
same length before; ``likes``: the public's support for the matter where a source provides
it — cases have no likes, so the term is 0 for every cluster today.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case
from huiyin.cases.selectors import department_scope, search_filter
from huiyin.core.chinese import char_ngrams, mask, normalize, place_names, prepare
from huiyin.core.errors import PermissionDeniedError
from huiyin.orgs.models import Organization, Staff

from .minhash import bands, jaccard, shingles
from .models import HotCluster, HotMember, ModelStatus, TextBand, TriageModel
from .permissions import hot_issue_scope
from .repeats import _frequencies, index_all
from .similarity import boilerplate_pairs, distinctive_shingles

SIMILAR = 0.5  # Jaccard of character 3-grams from which two cases are about the same matter
# Two cases naming the same place (an estate, a school, a site: ``core.chinese.place_names``)
# are about the same matter from this much overlap: neighbours who each write their own letter
# about the mixing plant next to their estate share its name and a few words, not sentences
# (docs/benchmarks.md, "Hot issues against a hand check": their median Jaccard is 0.05).
PLACE_SIMILAR = 0.05
# ...and, the shared place names taken out, their words (character pairs) still overlap by
# this much: a broken parcel locker at the same estate is not the mixing plant next to it.
PLACE_TOPIC = 0.03
# A place name more cases than this name within LINK_DAYS names no one matter (a company
# suffix, a long road): it links nothing.
PLACE_CASES_MAX = 200
PLACE_NAMES_MAX = 12  # of one case's place names, the longest this many are looked up
LINK_DAYS = 30  # cases further apart than this are not linked directly
MIN_CASES = 2  # a cluster is shown once it has this many cases in the window
TOP = 20  # clusters on the page
CASES_SHOWN = 10  # cases listed under each cluster
SAMPLE = 30  # members (the first by id) the representative is chosen among
WEIGHTS = {"volume": 1.0, "complainants": 1.0, "growth": 0.5, "likes": 1.0}
WINDOWS = (7, 30, 90)  # the page's quick picks (days)
MAX_WINDOW = 366
TEXT_SHOWN = 160
SPARKS = "▁▂▃▄▅▆▇█"


def _text(title: str, text: str) -> str:
    return prepare(title, text)


# --- keeping the clusters --------------------------------------------------------------------------


def _neighbours(case: Case, mine: set[str]) -> set[int]:
    """The clusters of the cases linked to ``case``, received within ``LINK_DAYS`` and already
    clustered: those sharing a band whose text overlaps by SIMILAR, and those naming a place
    it names whose text overlaps by PLACE_SIMILAR (``_place_neighbours``)."""
    near = timedelta(days=LINK_DAYS)
    clusters = set()
    values = bands(mine)
    if values:
        probe = Q()
        for band, value in enumerate(values):
            probe |= Q(band=band, value=value)
        ids = set(
            TextBand.objects.filter(
                probe,
                organization_id=case.organization_id,
                received_at__gte=case.received_at - near,
                received_at__lte=case.received_at + near,
            )
            .exclude(case_id=case.pk)
            .values_list("case_id", flat=True)[:500]
        )
        common = _boilerplate(case.organization_id)
        distinct = _distinct_of(case.title, case.text, common)
        rows = HotMember.objects.filter(case_id__in=ids).values_list("cluster_id", "case__title", "case__text")
        for cluster_id, title, text in rows:
            if (
                cluster_id not in clusters
                and jaccard(mine, set(_shingles_of(title, text))) >= SIMILAR
                and _same_beyond_boilerplate(distinct, _distinct_of(title, text, common))
            ):
                clusters.add(cluster_id)
    return clusters | _place_neighbours(case, mine, clusters)


def _same_beyond_boilerplate(mine: frozenset[str], theirs: frozenset[str]) -> bool:
    """Two similar texts still overlap by SIMILAR once the wording common to the
    organisation's texts is left out (two texts of nothing but common wording: the same)."""
    return (not mine and not theirs) or jaccard(set(mine), set(theirs)) >= SIMILAR


def _boilerplate(organization_id: int) -> frozenset[str]:
    """The character pairs common to the organisation's texts, from the triage model in
    service (its document frequencies): none without one, so the links do not depend on
    when a case arrived, only on the model."""
    model_id = (
        TriageModel.objects.filter(organization_id=organization_id, status=ModelStatus.IN_SERVICE)
        .values_list("pk", flat=True)
        .first()
    )
    return _boilerplate_of(organization_id, model_id) if model_id is not None else frozenset()


@functools.lru_cache(maxsize=64)
def _boilerplate_of(organization_id: int, model_id: int) -> frozenset[str]:
    return boilerplate_pairs(_frequencies(organization_id))


@functools.lru_cache(maxsize=4096)
def _distinct_of(title: str, text: str, common: frozenset[str]) -> frozenset[str]:
    return frozenset(distinctive_shingles(_text(title, text), common))


def _place_neighbours(case: Case, mine: set[str], known: set[int]) -> set[int]:
    """The clusters of cases within LINK_DAYS that name a place this case names (found by the
    ledger's full-text index), whose text overlaps by PLACE_SIMILAR. Symmetric: both texts'
    own place names must share one."""
    names = _places_of(case.title, case.text)
    if not names:
        return set()
    near = timedelta(days=LINK_DAYS)
    window = Case.objects.filter(
        organization_id=case.organization_id,
        received_at__gte=case.received_at - near,
        received_at__lte=case.received_at + near,
    ).exclude(pk=case.pk)
    ids: set[int] = set()
    for name in sorted(names, key=lambda n: (-len(n), n))[:PLACE_NAMES_MAX]:
        found = list(search_filter(window, name).order_by().values_list("pk", flat=True)[: PLACE_CASES_MAX + 1])
        if len(found) <= PLACE_CASES_MAX:
            ids.update(found)
    clusters: set[int] = set()
    rows = HotMember.objects.filter(case_id__in=ids).values_list("cluster_id", "case__title", "case__text")
    for cluster_id, title, text in rows:
        if cluster_id in known or cluster_id in clusters:
            continue
        shared = names & _places_of(title, text)
        if (
            shared
            and jaccard(mine, set(_shingles_of(title, text))) >= PLACE_SIMILAR
            and jaccard(_topic(case.title, case.text, shared), _topic(title, text, shared)) >= PLACE_TOPIC
        ):
            clusters.add(cluster_id)
    return clusters


def _topic(title: str, text: str, places: frozenset[str]) -> set[str]:
    """The text's character pairs once the given place names are taken out of it."""
    prepared = _text(title, text)
    for name in sorted(places, key=len, reverse=True):
        prepared = prepared.replace(name, " ")
    return set(char_ngrams(prepared, 2, 2))


@functools.lru_cache(maxsize=4096)
def _places_of(title: str, text: str) -> frozenset[str]:
    return place_names(_text(title, text))


@functools.lru_cache(maxsize=4096)
def _shingles_of(title: str, text: str) -> frozenset[str]:
    return frozenset(shingles(_text(title, text)))


def _refresh(cluster_id: int, changed: set[int] | None = None) -> None:
    """Size, first and last case, and the representative: of the first ``SAMPLE`` members by
    id, the one whose text is nearest all the others' (ties: the earliest). ``changed``: the
    cases that just joined; when none is in that sample, the representative stays."""
    stats = HotMember.objects.filter(cluster_id=cluster_id).aggregate(
        n=Count("id"), first=Min("received_at"), last=Max("received_at")
    )
    update = {"size": stats["n"], "first_at": stats["first"], "last_at": stats["last"]}
    sample_ids = list(
        HotMember.objects.filter(cluster_id=cluster_id).order_by("case_id").values_list("case_id", flat=True)[:SAMPLE]
    )
    if changed is None or changed & set(sample_ids):
        sample = Case.objects.filter(pk__in=sample_ids).order_by("pk").values_list("pk", "title", "text")
        sets = [(pk, _shingles_of(title, text)) for pk, title, text in sample]
        best, best_score = None, -1.0
        for pk, mine in sets:
            score = sum(jaccard(set(mine), set(theirs)) for other, theirs in sets if other != pk)
            if score > best_score + 1e-9:
                best, best_score = pk, score
        update["representative_id"] = best
    HotCluster.objects.filter(pk=cluster_id).update(**update)


def _link(case: Case) -> int:
    """Put the case in the cluster of the cases it links to (joining them when it links
    several), or in a new one. Returns the cluster's id."""
    clusters = _neighbours(case, set(_shingles_of(case.title, case.text)))
    joined: set[int] = set()
    if clusters:
        target = min(clusters)
        others = clusters - {target}
        if others:
            joined = set(HotMember.objects.filter(cluster_id__in=others).values_list("case_id", flat=True))
            HotMember.objects.filter(cluster_id__in=others).update(cluster_id=target)
            HotCluster.objects.filter(pk__in=others).delete()
    else:
        target = HotCluster.objects.create(organization_id=case.organization_id).pk
    HotMember.objects.create(
        organization_id=case.organization_id,
        cluster_id=target,
        case=case,
        received_at=case.received_at,
        party_id=case.party_id,
        place=normalize(case.location)[:200],
    )
    _refresh(target, (joined | {case.pk}) if clusters else None)
    return target


def _relink(cluster_id: int) -> None:
    """The members of a cluster linked again among themselves (a member left or changed)."""
    ids = list(HotMember.objects.filter(cluster_id=cluster_id).order_by("case_id").values_list("case_id", flat=True))
    HotCluster.objects.filter(pk=cluster_id).delete()  # its members with it
    for case in Case.objects.filter(pk__in=ids).order_by("pk"):
        _link(case)


def _lock(organization_id: int) -> None:
    """One clustering at a time per organisation (two cases linking the same clusters)."""
    list(Organization.objects.select_for_update().filter(pk=organization_id).values_list("pk"))


def assign(case_id: int) -> int | None:
    """The case's cluster after its registration or an edit (idempotent)."""
    with transaction.atomic():
        case = Case.objects.filter(pk=case_id).first()
        if case is None:
            return None
        _lock(case.organization_id)
        old = HotMember.objects.filter(case_id=case_id).values_list("cluster_id", flat=True).first()
        if old is not None:
            HotMember.objects.filter(case_id=case_id).delete()
            _relink(old)
        return _link(case)


def assign_on_event(*, event) -> None:
    """After-commit subscriber: a registration, or an edit of the title, text or place."""
    if event.kind == "updated" and not set((event.data or {}).get("after", {})) & {"text", "title", "location"}:
        return
    assign(event.case_id)


def rebuild(organization_id: int, *, progress: Callable[[int, int], None] = lambda done, total: None) -> int:
    """Every cluster of the organisation made again from its cases (``huiyin triage hot --rebuild``)."""
    index_all(organization_id)
    with transaction.atomic():
        _lock(organization_id)
        HotCluster.objects.filter(organization_id=organization_id).delete()
        cases = Case.objects.filter(organization_id=organization_id).order_by("pk")
        total, done = cases.count(), 0
        for case in cases.only("pk", "organization_id", "title", "text", "location", "received_at", "party_id"):
            _link(case)
            done += 1
            if done % 1000 == 0:
                progress(done, total)
    return done


def catch_up(organization_id: int) -> int:
    """Cases without a cluster yet (registered before hot issues existed) clustered."""
    index_all(organization_id)
    done = 0
    missing = Case.objects.filter(organization_id=organization_id).exclude(
        pk__in=HotMember.objects.filter(organization_id=organization_id).values("case_id")
    )
    for pk in missing.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=1000):
        assign(pk)
        done += 1
    return done


def partition(organization_id: int) -> set[frozenset[int]]:
    """The clusters as sets of case ids (what incremental and rebuilt rows are compared by)."""
    groups: dict[int, set[int]] = defaultdict(set)
    for cluster_id, case_id in HotMember.objects.filter(organization_id=organization_id).values_list(
        "cluster_id", "case_id"
    ):
        groups[cluster_id].add(case_id)
    return {frozenset(g) for g in groups.values()}


# --- reading: the page and the API -----------------------------------------------------------------


@dataclass
class HotCase:
    id: int
    number: str
    title: str
    received_at: datetime


@dataclass
class HotIssue:
    cluster_id: int
    rank: int
    heat: float
    volume: int
    complainants: int
    previous: int
    growth: float | None  # volume / previous − 1; None when there was none before
    likes: int
    title: str
    text: str
    representative_id: int | None
    trend: list[tuple[str, int]] = field(default_factory=list)
    cases: list[HotCase] = field(default_factory=list)

    @property
    def growth_percent(self) -> int | None:
        return None if self.growth is None else round(self.growth * 100)

    @property
    def spark(self) -> str:
        """The trend as a line of block characters (no script needed to read it)."""
        top = max((n for _day, n in self.trend), default=0)
        if not top:
            return ""
        return "".join(SPARKS[0] if not n else SPARKS[1 + (n * (len(SPARKS) - 2)) // top] for _day, n in self.trend)


@dataclass
class HotIssues:
    start: date
    end: date
    window: int
    area: str
    grain: str  # "day" | "week"
    issues: list[HotIssue]
    scope_department: int | None


def heat_of(volume: int, complainants: int, previous: int, likes: int = 0) -> float:
    w = WEIGHTS
    score = (
        w["volume"] * volume
        + w["complainants"] * complainants
        + w["growth"] * max(0, volume - previous)
        + w["likes"] * likes
    )
    return round(score, 2)


def scope_for(actor: Staff) -> int | None:
    """None: the whole organisation; a department id: a department head's own cases."""
    allowed, department_id = hot_issue_scope(actor)
    if not allowed:
        raise PermissionDeniedError(_("只有统计分析员、领导、督办员和部门负责人可以查看热点问题。"))
    return department_id


def _buckets(start: date, end: date, grain: str) -> list[date]:
    if grain == "day":
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]
    first = start - timedelta(days=start.weekday())
    return [first + timedelta(weeks=i) for i in range(math.ceil(((end - first).days + 1) / 7))]


def hot_issues(*, actor: Staff, window: int, area: str = "", today: date | None = None, top: int = TOP) -> HotIssues:
    """The hot clusters of the ``window`` days up to ``today`` (in ``area``: the place contains
    it), hottest first; a department head counts and sees only their department's cases."""
    department_id = scope_for(actor)
    today = today or timezone.localdate()
    start = today - timedelta(days=window - 1)
    tz = timezone.get_current_timezone()
    at_start = datetime.combine(start, datetime.min.time(), tz)
    at_end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tz)
    at_before = at_start - timedelta(days=window)
    members = HotMember.objects.filter(organization_id=actor.org_id, received_at__gte=at_before, received_at__lt=at_end)
    place = normalize(area)
    if place:
        members = members.filter(place__contains=place)
    if department_id is not None:
        visible = Case.objects.filter(department_scope(department_id), organization_id=actor.org_id)
        members = members.filter(case_id__in=visible.values("pk"))
    now_q = Q(received_at__gte=at_start)
    rows = (
        members.values("cluster_id")
        .annotate(
            volume=Count("id", filter=now_q),
            previous=Count("id", filter=~now_q),
            complainants=Count("party_id", filter=now_q, distinct=True),
        )
        .filter(volume__gte=MIN_CASES)
    )
    ranked = sorted(
        rows,
        key=lambda r: (-heat_of(r["volume"], r["complainants"], r["previous"]), -r["volume"], r["cluster_id"]),
    )[:top]
    grain = "day" if window <= 31 else "week"
    result = HotIssues(start, today, window, area, grain, [], department_id)
    if not ranked:
        return result
    ids = [r["cluster_id"] for r in ranked]
    in_window = members.filter(now_q, cluster_id__in=ids)
    counts: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    per_day = (
        in_window.annotate(day=TruncDate("received_at", tzinfo=tz)).values("cluster_id", "day").annotate(n=Count("id"))
    )
    for bucket in per_day:
        day = bucket["day"]
        key = day if grain == "day" else day - timedelta(days=day.weekday())
        counts[bucket["cluster_id"]][key] += bucket["n"]
    buckets = _buckets(start, today, grain)
    clusters = {c.pk: c for c in HotCluster.objects.filter(pk__in=ids).select_related("representative")}
    for rank, row in enumerate(ranked, start=1):
        cluster_id = row["cluster_id"]
        shown = [
            HotCase(m.case_id, m.case.number, m.case.title, m.received_at)
            for m in in_window.filter(cluster_id=cluster_id)
            .select_related("case")
            .only("case_id", "received_at", "case__number", "case__title")
            .order_by("-received_at", "-case_id")[:CASES_SHOWN]
        ]
        representative = clusters[cluster_id].representative if cluster_id in clusters else None
        if representative is None or (
            department_id is not None and not members.filter(case_id=representative.pk).exists()
        ):
            # A department head sees the text of one of their own cases only.
            representative = Case.objects.filter(pk=shown[-1].id).first() if shown else None
        text = mask(normalize(representative.text)) if representative else ""
        previous = row["previous"]
        result.issues.append(
            HotIssue(
                cluster_id=cluster_id,
                rank=rank,
                heat=heat_of(row["volume"], row["complainants"], previous),
                volume=row["volume"],
                complainants=row["complainants"],
                previous=previous,
                growth=round(row["volume"] / previous - 1, 2) if previous else None,
                likes=0,
                title=mask(normalize(representative.title)) if representative else "",
                text=text[:TEXT_SHOWN] + ("…" if len(text) > TEXT_SHOWN else ""),
                representative_id=representative.pk if representative else None,
                trend=[(b.isoformat(), counts[cluster_id].get(b, 0)) for b in buckets],
                cases=shown,
            )
        )
    return result
