"""Repeats and duplicates at intake (F04): the open and recent cases a new matter may belong
to — the same phone number or ID number, the same place, or a similar text — each with a
score and the reason, while the clerk types.

Similar text without scanning the ledger: each case's text (normalised and masked, as
triage reads it) is reduced to a MinHash signature of its character 3-grams, cut into
``BANDS`` bands of ``ROWS`` values; a band's hash is a row of ``TextBand`` (indexed by
organisation, band and value). Two texts whose 3-gram sets overlap by Jaccard ``J`` share
at least one band with probability ``1 - (1 - J^ROWS)^BANDS`` (16 × 2: J = 0.3 → 77 %,
0.5 → 99 %), so a look-up is ``BANDS`` index probes within the time window, and the few
cases it finds are compared exactly. Bands are written after a registration or an edit of
the text (the subscriber table) and for older cases by ``huiyin triage index``.

Whether a candidate raises the same matter — a person writing again about the same dispute
in new words, which shares few 3-grams — is a second, weighted score over every candidate
found (``triage.similarity``: rare characters and pairs such as the estate's name count
most). Such candidates come first, with 可能是同一事项 as their first reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case, Party
from huiyin.cases.selectors import cases_for
from huiyin.cases.workflow import OPEN_STATES, CaseState
from huiyin.core.chinese import normalize, prepare
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

from . import store
from .minhash import BANDS, bands, jaccard, shingles
from .models import ModelStatus, TextBand, TriageModel
from .similarity import UNIFORM, Frequencies, cosine, vector

__all__ = ["BANDS", "Candidate", "bands", "candidates", "index_all", "index_case", "jaccard", "shingles"]

WINDOW_DAYS = 90  # recent: received within this many days (open cases at any age)
SIMILAR = 0.3  # Jaccard of character 3-grams from which a text counts as similar
LIMIT = 5


def _case_text(case: Case) -> str:
    return prepare(case.title, case.text)


def index_case(case: Case) -> int:
    """Write the case's bands anew (after its registration or an edit of its text)."""
    values = bands(shingles(_case_text(case)))
    with transaction.atomic():
        TextBand.objects.filter(case=case).delete()
        TextBand.objects.bulk_create(
            TextBand(organization_id=case.organization_id, case=case, band=i, value=v, received_at=case.received_at)
            for i, v in enumerate(values)
        )
    return len(values)


def index_on_event(*, event) -> None:
    """After-commit subscriber: a registration, or an edit of the title or text."""
    if event.kind == "updated" and not set((event.data or {}).get("after", {})) & {"text", "title"}:
        return
    index_case(Case.objects.get(pk=event.case_id))


def index_all(organization_id: int | None = None, *, progress=lambda done, total: None) -> int:
    """Bands for every case without any (``huiyin triage index``)."""
    cases = Case.objects.exclude(pk__in=TextBand.objects.values("case_id")).order_by("pk")
    if organization_id is not None:
        cases = cases.filter(organization_id=organization_id)
    total, done = cases.count(), 0
    for case in cases.only("pk", "organization_id", "title", "text", "received_at").iterator(chunk_size=1000):
        index_case(case)
        done += 1
        if done % 1000 == 0:
            progress(done, total)
    return done


@dataclass
class Candidate:
    id: int
    number: str
    title: str
    state: str
    received_at: str
    score: float
    reasons: list[str] = field(default_factory=list)
    same_matter: bool = False  # the texts' weighted similarity reaches the same-matter threshold
    takes_contacts: bool = True  # an archived case is read-only: the call cannot be added to it


# How many band matches are weighed before the open / recent / visible ones are kept, and
# how many of each band's newest cases are read: a band common to thousands of cases (a
# frequent complaint in the same words) costs no more than a rare one.
BAND_POOL = 300
PER_BAND = 100


def _band_neighbours(organization_id: int, values: list[int]) -> list[int]:
    """The cases sharing most bands with ``values``, among each band's PER_BAND newest: one
    statement of ``BANDS`` index range reads (the band index alone: joined to the cases, the
    planner may walk the whole case table — tests/test_query_plans.py); which of those are
    open or recent and visible is the caller's next query, on their ids."""
    # One derived table per band, so that each keeps its own ORDER BY and LIMIT inside the
    # UNION ALL (SQLite refuses them on a compound statement's own parts; Django's union too).
    table = connection.ops.quote_name(TextBand._meta.db_table)
    part = (
        f"SELECT case_id FROM (SELECT case_id FROM {table} WHERE organization_id = %s AND band = %s "
        f"AND value = %s ORDER BY received_at DESC LIMIT {int(PER_BAND)}) AS b{{i}}"
    )
    sql = " UNION ALL ".join(part.format(i=i) for i in range(len(values)))
    params = [p for band, value in enumerate(values) for p in (organization_id, band, value)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        shared = Counter(case_id for (case_id,) in cursor.fetchall())
    return [case_id for case_id, _n in shared.most_common(BAND_POOL)]


def _frequencies(organization_id: int) -> Frequencies:
    """The n-gram weights of the model in service (``triage.similarity``); equal weights when
    there is none or its file cannot be used."""
    row = TriageModel.objects.filter(organization_id=organization_id, status=ModelStatus.IN_SERVICE).first()
    if row is None:
        return UNIFORM
    try:
        return store.load(row).frequencies or UNIFORM
    except store.ModelUnavailable:
        return UNIFORM


def _same_matter(organization_id: int, prepared: str, ids: list[int], texts: dict[int, str]) -> dict[int, float]:
    """Of the candidates ``ids``, those whose text raises the same matter as ``prepared``
    (``Frequencies.threshold``), with their score; ``texts`` holds those already read."""
    if not ids or not prepared:
        return {}
    missing = [pk for pk in ids if pk not in texts]
    for case in Case.objects.filter(pk__in=missing).only("pk", "title", "text"):
        texts[case.pk] = _case_text(case)
    frequencies = _frequencies(organization_id)
    mine = vector(prepared, frequencies)
    found = {}
    for pk in ids:
        score = cosine(mine, vector(texts.get(pk, ""), frequencies))
        if score >= frequencies.threshold:
            found[pk] = score
    return found


def candidates(
    *,
    actor: Staff,
    phone: str = "",
    id_number: str = "",
    location: str = "",
    title: str = "",
    text: str = "",
    exclude: int | None = None,
    limit: int = LIMIT,
) -> list[Candidate]:
    """Open or recent cases the matter may repeat, best first (the actor's visible cases)."""
    since = timezone.now() - timedelta(days=WINDOW_DAYS)
    live = cases_for(actor).filter(Q(state__in=OPEN_STATES) | Q(received_at__gte=since))
    if exclude is not None:
        live = live.exclude(pk=exclude)
    scores: dict[int, float] = {}
    reasons: dict[int, list[str]] = {}

    def note(case_id: int, score: float, reason: str) -> None:
        scores[case_id] = max(scores.get(case_id, 0.0), score) + (0.05 if case_id in scores else 0.0)
        reasons.setdefault(case_id, []).append(reason)

    if actor.can(Cap.VIEW_PII):  # who may see a caller's history may see their cases here
        parties = Party.objects.filter(organization_id=actor.org_id)
        for people, score, reason in (
            (parties.with_phone(phone) if phone else None, 0.9, _("同一电话号码")),
            (parties.with_id_number(id_number) if id_number else None, 0.95, _("同一身份证号码")),
        ):
            if people is not None:
                for case_id in live.filter(party__in=people)[:20].values_list("pk", flat=True):
                    note(case_id, score, reason)
    place = normalize(location)
    if len(place) >= 4:
        for case_id, their_place in live.filter(location__iexact=location.strip())[:20].values_list("pk", "location"):
            if normalize(their_place) == place:
                note(case_id, 0.5, _("同一事发地点"))
    prepared = prepare(title, text)
    mine = shingles(prepared)
    values = bands(mine)
    texts: dict[int, str] = {}
    copies: set[int] = set()  # similar in so many words: the same matter already said
    if values:
        ids = _band_neighbours(actor.org_id, values)
        for case in live.filter(pk__in=ids).order_by("-pk").only("pk", "title", "text")[:30]:
            texts[case.pk] = _case_text(case)
            similarity = jaccard(mine, shingles(texts[case.pk]))
            if similarity >= SIMILAR:
                note(case.pk, similarity, _("内容相似（%(percent)s%%）") % {"percent": round(similarity * 100)})
                copies.add(case.pk)
    # The cases found by the person, the place or the text: is one the same matter retold?
    rewritten = _same_matter(actor.org_id, prepared, [pk for pk in scores if pk not in copies], texts)
    for case_id, similarity in rewritten.items():
        note(case_id, similarity, _("可能是同一事项（文字相近 %(percent)s%%）") % {"percent": round(similarity * 100)})
        reasons[case_id].insert(0, reasons[case_id].pop())  # the first thing the clerk reads
    if not scores:
        return []
    same_matter = copies | set(rewritten)
    best = sorted(scores, key=lambda k: (k not in same_matter, -scores[k]))[:limit]
    rows = {c.pk: c for c in Case.objects.filter(pk__in=best)}
    return [
        Candidate(
            id=pk,
            number=rows[pk].number,
            title=rows[pk].title,
            state=str(rows[pk].get_state_display()),
            received_at=timezone.localtime(rows[pk].received_at).strftime("%Y-%m-%d %H:%M"),
            score=round(min(scores[pk], 1.0), 3),
            reasons=reasons[pk],
            same_matter=pk in same_matter,
            takes_contacts=rows[pk].state != CaseState.ARCHIVED,
        )
        for pk in best
        if pk in rows
    ]
